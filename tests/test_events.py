"""Tracking events: names, fields, no learner words unless the operator allows them, and a
runtime that cannot publish never costs the learner an answer."""

from __future__ import annotations

import logging

from ai_tutor import events
from tests.blocks import call, make_block
from tests.recording import events_named, recording_block

MATERIAL = "The stroma is the fluid inside the chloroplast where the Calvin cycle runs. " * 6
QUESTION = "Where does the Calvin cycle take place?"


def test_an_answered_question_publishes_asked_then_answered_without_its_text():
    block = recording_block(course_material=MATERIAL)

    status, _, _ = call(block, "ask", {"question": QUESTION, "client_msg_id": "m1"})

    assert status == 200
    names = [name for name, _ in block.runtime.events]
    assert names == [events.QUESTION_ASKED, events.QUESTION_ANSWERED]
    asked, answered = (data for _, data in block.runtime.events)
    assert asked["block_id"] == "usage-1" and asked["question_chars"] == len(QUESTION)
    assert answered["provider"] == "offline" and answered["model"] == "bm25"
    assert answered["outcome"] == "answered"
    assert answered["citations"] >= 1 and answered["latency_ms"] >= 0
    assert {"input_tokens", "output_tokens", "course_id"} <= set(answered)
    for _, data in block.runtime.events:
        assert QUESTION not in repr(data)


def test_question_text_is_published_only_when_the_operator_allows_it():
    block = recording_block({"share_question_text": True}, course_material=MATERIAL)

    call(block, "ask", {"question": QUESTION})

    assert events_named(block, events.QUESTION_ASKED)[0]["question"] == QUESTION


def test_a_refused_question_publishes_limit_reached():
    block = recording_block({"questions_per_block_per_day": 1}, course_material=MATERIAL)
    call(block, "ask", {"question": QUESTION})

    status, body, _ = call(block, "ask", {"question": "And the light reactions?"})

    assert status == 429 and body["error"]["code"] == "limit_block_questions"
    (reached,) = events_named(block, events.LIMIT_REACHED)
    assert reached["reason"] == "block_questions" and reached["outcome"] == "refused"
    assert len(events_named(block, events.QUESTION_ANSWERED)) == 1


def test_a_provider_failure_publishes_question_failed():
    # Nothing listens on this port: the connection is refused at once.
    settings = {
        "provider": "openai",
        "api_key": "k",
        "base_url": "http://127.0.0.1:9/v1",
        "max_retries": 0,
    }
    block = recording_block(settings)

    status, _, _ = call(block, "ask", {"question": QUESTION})

    assert status == 503
    (failed,) = events_named(block, events.QUESTION_FAILED)
    assert failed["outcome"] == "failed" and failed["reason"].startswith("provider_")
    assert failed["provider"] == "openai" and failed["model"] == "gpt-4o-mini"
    assert not events_named(block, events.QUESTION_ANSWERED)


def test_clearing_publishes_the_number_of_turns_cleared():
    block = recording_block(course_material=MATERIAL)
    call(block, "ask", {"question": QUESTION})

    call(block, "clear", {})

    assert events_named(block, events.CONVERSATION_CLEARED)[0]["turns"] == 2


def test_a_runtime_that_cannot_publish_still_answers(caplog):
    block = make_block(course_material=MATERIAL)  # TestRuntime.publish raises

    with caplog.at_level(logging.DEBUG, logger="ai_tutor.events"):
        status, body, _ = call(block, "ask", {"question": QUESTION})

    assert status == 200 and body["reply_text"]
    assert "not published: NotImplementedError" in caplog.text
    assert QUESTION not in caplog.text
