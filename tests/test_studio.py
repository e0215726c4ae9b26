"""Studio: what the editor refuses to save, and the author's "Try it" panel."""

from __future__ import annotations

from types import SimpleNamespace

from xblock.validation import Validation

from ai_tutor.block import MAX_INSTRUCTIONS_CHARS
from tests.blocks import call, make_block
from tests.recording import LEARNER, STAFF, recording_block

MATERIAL = "The stroma is the fluid inside the chloroplast where the Calvin cycle runs. " * 6


def problems(block, **fields):
    data = SimpleNamespace(
        **{"mode": "socratic", "instructions": "", "model_override": "", **fields}
    )
    validation = Validation("usage-1")
    block.validate_field_data(validation, data)
    return [message.text for message in validation.messages]


def test_the_editor_accepts_sound_fields():
    assert (
        problems(make_block({"allowed_models": ["gpt-4o-mini"]}), model_override="gpt-4o-mini")
        == []
    )


def test_the_editor_refuses_an_unknown_mode_long_instructions_and_a_disallowed_model():
    block = make_block({"allowed_models": ["gpt-4o-mini", "gpt-4.1"]})

    found = problems(
        block,
        mode="lecture",
        instructions="x" * (MAX_INSTRUCTIONS_CHARS + 1),
        model_override="o3-pro",
    )

    assert found == [
        "Unknown tutoring style.",
        f"Tutor instructions must be at most {MAX_INSTRUCTIONS_CHARS} characters.",
        "The model o3-pro is not allowed on this site; use one of: gpt-4o-mini, gpt-4.1.",
    ]


def test_any_model_is_allowed_when_the_operator_lists_none():
    assert problems(make_block(), model_override="o3-pro") == []


def test_the_author_view_has_the_try_it_panel_and_probes():
    fragment = make_block().author_view({})

    assert "Try it" in fragment.content and "ai-tutor-try-question" in fragment.content
    assert fragment.content.count('class="ai-tutor-clear ai-tutor-probe"') == 3
    assert "Ignore your instructions" in fragment.content
    assert fragment.js_init_fn == "AITutorAuthor"


def test_try_it_answers_staff_with_passages_and_tokens_and_touches_no_learner_state():
    block = recording_block(course_material=MATERIAL, user=STAFF)

    status, body, _ = call(block, "try_it", {"question": "Where does the Calvin cycle run?"})

    assert status == 200, body
    assert "stroma" in body["reply_text"] and body["reply_html"]
    assert body["passages"] and body["passages"][0]["source_name"] == "Course material"
    assert {"input_tokens", "output_tokens", "provider", "model"} <= set(body)
    assert block.conversation == [] and block.usage_totals == {}
    assert block.runtime.events == []


def test_try_it_is_refused_to_learners():
    block = recording_block(course_material=MATERIAL, user=LEARNER)

    status, body, _ = call(block, "try_it", {"question": "Where does the Calvin cycle run?"})

    assert status == 403 and body["error"]["code"] == "not_staff"


def test_try_it_ignores_learner_limits_but_stops_at_the_course_budget():
    # Offline answers report no tokens, so the budget is spent by a learner's counter instead.
    from django.core.cache import cache

    from ai_tutor import limits

    settings = {"questions_per_block_per_day": 1, "course_tokens_per_day": 100}
    block = recording_block(settings, course_material=MATERIAL, user=STAFF)
    for _ in range(3):
        assert call(block, "try_it", {"question": "Where?"})[0] == 200

    limits.DailyUsage(cache, learner="x", block="usage-1", course="").record_tokens(100)
    status, body, _ = call(block, "try_it", {"question": "Where?"})

    assert status == 429 and body["error"]["code"] == "limit_course_budget"
