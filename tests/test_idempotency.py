"""A question is answered once per `client_msg_id`, and one at a time per learner and block."""

from __future__ import annotations

import threading

import pytest

from ai_tutor import idempotency
from tests.blocks import call, make_block, provider_settings
from tests.loopback import Scripted, chat_completion


def test_repeat_of_a_message_id_returns_the_first_answer_and_calls_once(server):
    block = make_block(provider_settings(server, "openai", questions_per_block_per_day=5))
    question = {"question": "Where is the stroma?", "client_msg_id": "3f2a-1"}

    first = call(block, "ask", question)
    server.script.append(Scripted(body=chat_completion("A DIFFERENT ANSWER")))
    again = call(block, "ask", question)

    assert first[0] == again[0] == 200
    assert again[1] == first[1]
    assert len(server.requests) == 1
    assert len(block.conversation) == 2
    assert again[1]["questions_remaining"] == 4  # charged once


def test_a_new_message_id_is_a_new_question(server):
    block = make_block(provider_settings(server))
    call(block, "ask", {"question": "Where?", "client_msg_id": "a"})
    call(block, "ask", {"question": "Where?", "client_msg_id": "b"})
    assert len(server.requests) == 2


def test_the_record_belongs_to_one_learner_and_one_question(server):
    block = make_block(provider_settings(server))
    other = make_block(provider_settings(server))
    other.scope_ids = other.scope_ids._replace(user_id="student_2")

    call(block, "ask", {"question": "Where?", "client_msg_id": "same"})
    call(other, "ask", {"question": "Where?", "client_msg_id": "same"})
    call(block, "ask", {"question": "Something else", "client_msg_id": "same"})

    assert len(server.requests) == 3


@pytest.mark.parametrize("value", [42, "x" * 101, "bad\nid", "é", ["a"]])
def test_bad_message_ids_are_refused(value):
    block = make_block()
    status, body, _ = call(block, "ask", {"question": "Where?", "client_msg_id": value})
    assert (status, body["error"]["code"]) == (400, "bad_client_msg_id")
    assert block.conversation == []


def test_second_question_while_the_first_is_in_flight_is_refused(server):
    server.script.append(Scripted(fault="hang"))
    first_block = make_block(provider_settings(server, "openai", deadline_seconds=1.5))
    second_block = make_block(provider_settings(server, "openai", deadline_seconds=1.5))
    results = {}

    thread = threading.Thread(
        target=lambda: results.update(first=call(first_block, "ask", {"question": "Slow"}))
    )
    thread.start()
    while not server.requests:
        threading.Event().wait(0.02)
    status, body, response = call(second_block, "ask", {"question": "Meanwhile"})
    thread.join()

    assert status == 409 and body["error"]["code"] == "question_in_flight"
    assert body["error"]["retry"] is True and response.headers["Retry-After"] == "2"
    assert len(server.requests) == 1
    assert results["first"][0] == 503  # the hang ends at the deadline
    # The lock is released afterwards: the next question goes through.
    assert call(second_block, "ask", {"question": "Now"})[0] == 200


def test_lock_is_released_when_the_question_fails(server):
    block = make_block(provider_settings(server))
    server.script.append(Scripted(status=500, body={"error": {"message": "x"}}))
    assert call(block, "ask", {"question": "One"})[0] == 503
    assert call(block, "ask", {"question": "Two"})[0] == 200


def test_lock_expires_on_its_own():
    from django.core.cache import cache

    with idempotency.question_lock(cache, "ann", "b1", hold_seconds=30):
        with pytest.raises(idempotency.QuestionInFlight):
            with idempotency.question_lock(cache, "ann", "b1", hold_seconds=30):
                pass
        with idempotency.question_lock(cache, "bob", "b1", hold_seconds=30):
            pass

    class RecordingCache:
        def add(self, key, value, timeout):
            self.timeout = timeout
            return True

        def get(self, key):
            return None

    recording = RecordingCache()
    with idempotency.question_lock(recording, "ann", "b1", hold_seconds=30):
        pass
    assert recording.timeout == 31


# ------------------------------------------------------------------ across processes

_WORKER = """
import sys
import django
from django.conf import settings

settings.configure(CACHES={"default": {
    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": sys.argv[1]}})
django.setup()
from django.core.cache import cache
from ai_tutor import idempotency

for line in sys.stdin:
    command = line.split()
    if command[0] == "hold":
        lock = idempotency.question_lock(cache, "ann", "b1", hold_seconds=30)
        try:
            lock.__enter__()
            print("held", flush=True)
        except idempotency.QuestionInFlight:
            print("in_flight", flush=True)
    elif command[0] == "release":
        lock.__exit__(None, None, None)
        print("released", flush=True)
    elif command[0] == "record":
        idempotency.record_reply(cache, "ann", "b1", "m-1", "Where?", {"reply_text": "Here."})
        print("recorded", flush=True)
    elif command[0] == "lookup":
        print(idempotency.recorded_reply(cache, "ann", "b1", "m-1", "Where?"), flush=True)
"""


def test_lock_and_replies_are_shared_between_processes(tmp_path):
    """Two LMS processes sharing one cache (a file cache here, Redis under Tutor)."""
    import subprocess
    import sys

    def worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def say(process: subprocess.Popen, command: str) -> str:
        process.stdin.write(command + "\n")
        process.stdin.flush()
        return process.stdout.readline().strip()

    first, second = worker(), worker()
    try:
        assert say(first, "hold") == "held"
        assert say(second, "hold") == "in_flight"
        assert say(first, "release") == "released"
        assert say(second, "hold") == "held"

        assert say(second, "lookup") == "None"
        assert say(first, "record") == "recorded"
        assert say(second, "lookup") == "{'reply_text': 'Here.'}"
    finally:
        for process in (first, second):
            process.stdin.close()
            process.wait(timeout=10)


def test_clear_waits_for_a_question_in_flight():
    from django.core.cache import cache

    block = make_block()
    call(block, "ask", {"question": "Where is the stroma?"})

    with idempotency.question_lock(cache, "student_1", "usage-1", hold_seconds=30):
        status, body, response = call(block, "clear", {})
    assert (status, body["error"]["code"]) == (409, "question_in_flight")
    assert response.headers["Retry-After"] == "2"
    assert len(block.conversation) == 2

    assert call(block, "clear", {})[0] == 200
    assert block.conversation == []
