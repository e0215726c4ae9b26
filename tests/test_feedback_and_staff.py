"""Learner feedback on replies, the course team's panel and CSV, and the rows the block gives
the Instructor Dashboard's problem-responses report."""

from __future__ import annotations

from types import SimpleNamespace

from xblock.runtime import DictKeyValueStore, KvsFieldData

from ai_tutor import events
from tests.blocks import call
from tests.recording import LEARNER, STAFF, FakeUserService, events_named, recording_block

MATERIAL = "The stroma is the fluid inside the chloroplast where the Calvin cycle runs. " * 6
QUESTION = "Where does the Calvin cycle take place?"


def asked(block, question=QUESTION, msg_id="m1"):
    status, body, _ = call(block, "ask", {"question": question, "client_msg_id": msg_id})
    assert status == 200, body
    return body


def test_thumbs_up_is_stored_on_the_reply_and_counted():
    block = recording_block(course_material=MATERIAL)
    asked(block)

    status, body, _ = call(block, "feedback", {"client_msg_id": "m1", "rating": "up"})

    assert status == 200 and body == {"rating": "up"}
    reply = block.conversation[1]
    assert reply["role"] == "assistant" and reply["feedback"]["rating"] == "up"
    assert block.usage_totals["feedback"] == {"up": 1, "down": 0}
    (event,) = events_named(block, events.FEEDBACK_SUBMITTED)
    assert event["rating"] == "up" and event["has_comment"] is False


def test_changing_a_rating_moves_the_count_and_keeps_the_comment_private():
    block = recording_block(course_material=MATERIAL)
    asked(block)
    call(block, "feedback", {"client_msg_id": "m1", "rating": "up"})

    call(
        block,
        "feedback",
        {"client_msg_id": "m1", "rating": "down", "comment": "Too vague about the stroma."},
    )

    assert block.usage_totals["feedback"] == {"up": 0, "down": 1}
    assert block.conversation[1]["feedback"]["comment"] == "Too vague about the stroma."
    last = events_named(block, events.FEEDBACK_SUBMITTED)[-1]
    assert last["previous_rating"] == "up" and last["has_comment"] is True
    assert "comment" not in last


def test_feedback_errors_use_the_json_error_contract():
    block = recording_block(course_material=MATERIAL)
    asked(block)

    cases = [
        ({"client_msg_id": "m1", "rating": "sideways"}, 400, "bad_rating"),
        ({"client_msg_id": "m1", "rating": "up", "comment": "x" * 1001}, 400, "comment_too_long"),
        ({"client_msg_id": "m1", "rating": "up", "comment": 5}, 400, "bad_comment"),
        ({"client_msg_id": "unknown", "rating": "up"}, 404, "no_reply"),
        ({"rating": "up"}, 404, "no_reply"),
    ]
    for payload, status, code in cases:
        got, body, _ = call(block, "feedback", payload)
        assert (got, body["error"]["code"]) == (status, code), payload
    assert call(block, "feedback", method="GET")[0] == 405
    assert "feedback" not in block.conversation[1]
    assert "feedback" not in block.usage_totals


def test_the_staff_panel_shows_totals_only_to_course_staff():
    shared = KvsFieldData(DictKeyValueStore())
    for student in ("ana", "ben"):
        learner = recording_block(
            course_material=MATERIAL, field_data=shared, student=student, user=LEARNER
        )
        asked(learner, msg_id=f"{student}-1")
        asked(learner, "And the light reactions?", msg_id=f"{student}-2")
    call(learner, "feedback", {"client_msg_id": "ben-1", "rating": "down"})

    learner_html = learner.student_view({}).content
    staff = recording_block(field_data=shared, student="teacher", user=STAFF)
    staff_html = staff.student_view({}).content

    assert "ai-tutor-staff" not in learner_html
    assert "ai-tutor-staff" in staff_html
    assert 'data-figure="questions_total">4<' in staff_html
    assert 'data-figure="learners">2<' in staff_html
    assert 'data-figure="thumbs_down">1<' in staff_html
    # Without the operator's consent no question text reaches the panel.
    assert QUESTION not in staff_html and "not shown" in staff_html


def test_recent_questions_appear_when_the_operator_shares_question_text():
    shared = KvsFieldData(DictKeyValueStore())
    settings = {"share_question_text": True}
    learner = recording_block(settings, course_material=MATERIAL, field_data=shared)
    asked(learner)

    staff_html = recording_block(
        settings, field_data=shared, student="teacher", user=STAFF
    ).student_view({})
    assert QUESTION in staff_html.content
    assert "student_1" not in staff_html.content


def test_usage_csv_is_for_staff_only():
    shared = KvsFieldData(DictKeyValueStore())
    learner = recording_block(course_material=MATERIAL, field_data=shared)
    asked(learner)

    refused = learner.handle("usage_csv", _get())
    staff = recording_block(field_data=shared, student="teacher", user=STAFF)
    response = staff.handle("usage_csv", _get())

    assert refused.status_code == 403
    assert response.status_code == 200 and response.content_type == "text/csv"
    lines = response.body.decode().splitlines()
    assert lines[0] == "day,questions,tokens" and lines[1].split(",")[1] == "1"


def _get():
    from webob import Request

    return Request.blank("/usage_csv")


def test_report_rows_pair_each_question_with_its_reply():
    block = recording_block(course_material=MATERIAL)
    asked(block)
    call(block, "feedback", {"client_msg_id": "m1", "rating": "up"})
    asked(block, "And the light reactions?", msg_id="m2")
    states = [
        SimpleNamespace(username="ana", state={"conversation": block.conversation}),
        SimpleNamespace(username="ben", state={}),
        SimpleNamespace(username="cy", state={"conversation": "not a list"}),
    ]

    rows = list(block.generate_report_data(iter(states)))
    limited = list(block.generate_report_data(iter(states), limit_responses=1))

    assert [name for name, _ in rows] == ["ana", "ana"]
    first = rows[0][1]
    assert first["Question"] == QUESTION and "stroma" in first["Answer"]
    assert first["Feedback"] == "up" and rows[1][1]["Feedback"] == ""
    assert len(limited) == 1


class AnonymisingUserService(FakeUserService):
    """Shaped like the LMS's: `get_anonymous_user_id(username, course_id)`, for staff only."""

    def get_anonymous_user_id(self, username: str, course_id: str) -> str | None:
        return (
            f"anon-{username}" if self.opt_attrs.get("edx-platform.user_role") == "staff" else None
        )


def test_report_rows_carry_the_learners_anonymous_id():
    block = recording_block(course_material=MATERIAL)
    asked(block)
    block.runtime._services["user"] = AnonymisingUserService(STAFF)
    states = [SimpleNamespace(username="ana", state={"conversation": block.conversation})]

    (row,) = list(block.generate_report_data(iter(states)))

    assert row[0] == "ana"
    assert row[1]["Anonymous learner id"] == "anon-ana"
