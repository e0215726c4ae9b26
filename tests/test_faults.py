"""Provider faults through the real SDKs and the block's `ask` handler.

A loopback server speaking both wire formats hangs, trickles, resets or answers each error
status with the body and headers the real services send. For each fault: the learner's
message and status, no secret or provider text in the response, a staff-facing log line,
and the question kept as failed so it can be retried.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from ai_tutor import calls
from ai_tutor.config import load_config
from ai_tutor.providers import provider_for
from tests.blocks import call, make_block, provider_settings
from tests.loopback import (
    ProviderServer,
    Scripted,
    anthropic_error,
    anthropic_message,
    chat_completion,
    openai_error,
)

KEY = "sk-fault-canary-9f8e7d6c"
PROVIDER_TEXT = "loopback-internal-detail-7731"
DEADLINE = 1.5
BUSY = "The tutor is busy. Please try again in a moment."


def settings(server: ProviderServer, provider: str, **extra) -> dict:
    return provider_settings(
        server, provider, **{"api_key": KEY, "deadline_seconds": DEADLINE, **extra}
    )


def ok(provider: str, text: str = "Think about the stroma.") -> Scripted:
    return Scripted(
        body=anthropic_message(text) if provider == "anthropic" else chat_completion(text)
    )


def assert_nothing_leaks(response, body) -> None:
    assert KEY not in response.text
    assert PROVIDER_TEXT not in response.text
    assert "loopback" not in body["error"]["message"]


def assert_kept_as_failed(block, question: str) -> None:
    last = block.conversation[-1]
    assert (last["role"], last["content"], last["status"]) == ("user", question, "failed")


# ------------------------------------------------------------------ the deadline arithmetic


@pytest.mark.parametrize(
    ("raw", "attempt"),
    [
        ({}, 12.5),  # defaults: 20 s per attempt would be 40 s over two attempts
        ({"timeout_seconds": 5, "max_retries": 2, "deadline_seconds": 25}, 5),
        ({"timeout_seconds": 60, "max_retries": 3, "deadline_seconds": 20}, 5),
        ({"timeout_seconds": 30, "max_retries": 0, "deadline_seconds": 10}, 10),
    ],
)
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_every_sdk_attempt_fits_inside_the_deadline(raw, attempt, provider):
    config = load_config(
        {"provider": provider, "api_key": KEY, "base_url": "http://127.0.0.1:9", **raw}
    )

    client = provider_for(config)._client

    assert config.attempt_timeout_seconds == attempt
    assert client.max_retries == config.max_retries
    assert client.timeout == config.attempt_timeout_seconds
    assert client.timeout * (client.max_retries + 1) <= config.deadline_seconds


def test_deadline_setting_is_validated():
    from ai_tutor.config import ConfigError

    with pytest.raises(ConfigError, match="deadline_seconds"):
        load_config({"deadline_seconds": 0})
    with pytest.raises(ConfigError, match="max_concurrent_calls_process"):
        load_config({"max_concurrent_calls_process": 0})


# ------------------------------------------------------------------ hangs and trickles


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_hung_provider_ends_in_a_busy_503_by_the_deadline(server, provider, caplog):
    server.script.append(Scripted(fault="hang"))
    block = make_block(settings(server, provider))

    started = time.monotonic()
    status, body, response = call(block, "ask", {"question": "Where is the stroma?"})

    assert time.monotonic() - started < DEADLINE + 1.0
    assert status == 503
    assert body["error"]["code"] in ("deadline", "provider_timeout")
    assert body["error"]["message"] == BUSY and body["error"]["retry"] is True
    assert response.headers["Retry-After"].isdigit()
    assert_nothing_leaks(response, body)
    assert_kept_as_failed(block, "Where is the stroma?")
    assert any("ai_tutor provider" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_trickling_provider_is_cut_off_by_the_deadline_not_the_sdk(server, provider, caplog):
    # One byte every 0.2 s resets the SDK's read timeout each time: only the deadline ends it.
    server.script.append(Scripted(body=ok(provider).body, fault="trickle", interval=0.2))
    block = make_block(settings(server, provider, timeout_seconds=60))

    started = time.monotonic()
    status, body, response = call(block, "ask", {"question": "Where is the stroma?"})

    assert DEADLINE - 0.1 < time.monotonic() - started < DEADLINE + 1.0
    assert (status, body["error"]["code"]) == (503, "deadline")
    assert body["error"]["message"] == BUSY
    assert_nothing_leaks(response, body)
    assert_kept_as_failed(block, "Where is the stroma?")
    assert "passed its deadline" in caplog.text and "deadline_s=1.5" in caplog.text


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_connection_reset_is_a_503_that_can_be_retried(server, provider, caplog):
    server.script.append(Scripted(fault="reset"))
    block = make_block(settings(server, provider))

    status, body, response = call(block, "ask", {"question": "Where is the stroma?"})

    assert (status, body["error"]["code"]) == (503, "provider_connection")
    assert body["error"]["retry"] is True
    assert_nothing_leaks(response, body)
    assert "kind=connection" in caplog.text


# ------------------------------------------------------------------ error statuses

ANTHROPIC_CASES = [
    (anthropic_error(429, PROVIDER_TEXT, retry_after=7), "provider_rate_limited", True),
    (anthropic_error(529, PROVIDER_TEXT), "provider_overloaded", True),
    (anthropic_error(500, PROVIDER_TEXT), "provider_overloaded", True),
    (anthropic_error(401, PROVIDER_TEXT), "provider_auth", False),
    (anthropic_error(403, PROVIDER_TEXT), "provider_auth", False),
    (anthropic_error(404, PROVIDER_TEXT), "provider_not_found", False),
    (anthropic_error(400, "prompt is too long: 250000 tokens"), "provider_context_too_long", False),
    (Scripted(body=anthropic_message("", stop_reason="refusal")), "provider_refusal", False),
    (Scripted(body=anthropic_message("", stop_reason="end_turn")), "provider_empty", True),
    (Scripted(raw=b'{"id": "msg_1", "type": "mess'), "provider_bad_response", True),
]
OPENAI_CASES = [
    (
        openai_error(429, PROVIDER_TEXT, code="rate_limit_exceeded", retry_after=7),
        "provider_rate_limited",
        True,
    ),
    (openai_error(503, PROVIDER_TEXT), "provider_overloaded", True),
    (openai_error(500, PROVIDER_TEXT), "provider_overloaded", True),
    (openai_error(401, PROVIDER_TEXT, code="invalid_api_key"), "provider_auth", False),
    (openai_error(404, PROVIDER_TEXT, code="DeploymentNotFound"), "provider_not_found", False),
    (
        openai_error(400, PROVIDER_TEXT, code="context_length_exceeded"),
        "provider_context_too_long",
        False,
    ),
    (openai_error(400, PROVIDER_TEXT, code="content_filter"), "provider_content_filter", False),
    (
        Scripted(body=chat_completion("partly", finish_reason="content_filter")),
        "provider_content_filter",
        False,
    ),
    (Scripted(body=chat_completion(None)), "provider_empty", True),
    (Scripted(raw=b"<html>502 Bad Gateway</html>"), "provider_bad_response", True),
]


def _check_status_case(server, provider, scripted, code, retry, caplog):
    server.script.append(scripted)
    block = make_block(settings(server, provider))

    with caplog.at_level(logging.INFO, logger="ai_tutor"):
        status, body, response = call(block, "ask", {"question": "Where is the stroma?"})

    assert status == 503
    assert body["error"]["code"] == code
    assert body["error"]["retry"] is retry
    assert response.headers["Retry-After"].isdigit()
    if code == "provider_rate_limited":
        assert response.headers["Retry-After"] == "8"  # the provider's 7 s, rounded up
    if code in ("provider_auth", "provider_not_found"):
        assert "course team" in body["error"]["message"]  # neutral: a configuration fault
        assert any(r.levelno == logging.ERROR for r in caplog.records)
    assert_nothing_leaks(response, body)
    assert_kept_as_failed(block, "Where is the stroma?")
    assert f"kind={code.removeprefix('provider_')}" in caplog.text
    assert KEY not in caplog.text and "Where is the stroma?" not in caplog.text


@pytest.mark.parametrize(("scripted", "code", "retry"), ANTHROPIC_CASES)
def test_anthropic_faults_are_mapped(server, scripted, code, retry, caplog):
    _check_status_case(server, "anthropic", scripted, code, retry, caplog)


@pytest.mark.parametrize(("scripted", "code", "retry"), OPENAI_CASES)
def test_openai_faults_are_mapped(server, scripted, code, retry, caplog):
    _check_status_case(server, "openai", scripted, code, retry, caplog)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_rate_limit_retry_after_is_respected_within_the_deadline(server, provider):
    error = anthropic_error if provider == "anthropic" else openai_error
    limited = error(429, PROVIDER_TEXT, retry_after=0.5)
    limited.headers.pop("x-should-retry")
    server.script += [limited, ok(provider)]
    block = make_block(settings(server, provider, max_retries=1, deadline_seconds=3))

    started = time.monotonic()
    status, body, _ = call(block, "ask", {"question": "Where is the stroma?"})

    assert status == 200 and body["reply_text"] == "Think about the stroma."
    assert time.monotonic() - started >= 0.5
    assert len(server.requests) == 2


# ------------------------------------------------------------------ retrying a failed question


def test_failed_question_is_retried_in_place_and_not_charged(server):
    server.script.append(openai_error(500, PROVIDER_TEXT))
    block = make_block(settings(server, "openai", questions_per_block_per_day=3))
    question = {"question": "Where is the stroma?", "client_msg_id": "m-1"}

    status, body, _ = call(block, "ask", question)
    assert status == 503 and body["error"]["retry"] is True
    status, body, _ = call(block, "ask", question)

    assert status == 200
    assert body["questions_remaining"] == 2  # the failed attempt was not counted
    assert [(t["role"], t.get("status")) for t in block.conversation] == [
        ("user", None),
        ("assistant", None),
    ]


def test_failed_turns_stay_out_of_the_prompt(server):
    block = make_block(settings(server, "openai"))
    call(block, "ask", {"question": "First"})
    server.script.append(openai_error(500, PROVIDER_TEXT))
    call(block, "ask", {"question": "Lost one"})

    call(block, "ask", {"question": "Third"})

    sent = server.requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "First"),
        ("assistant", "Think about where the light is absorbed."),
        ("user", "Third"),
    ]
    assert "Lost one" in [t["content"] for t in block.conversation]


def test_failed_question_shows_a_retry_button_after_a_reload(server):
    import lxml.html

    server.script.append(openai_error(500, PROVIDER_TEXT))
    block = make_block(settings(server, "openai"))
    call(block, "ask", {"question": "<b>Where</b> is the stroma?", "client_msg_id": "m-7"})

    html = block.student_view().content
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    failed = tree.xpath("//li[contains(@class, 'ai-tutor-turn-failed')]")
    assert len(failed) == 1
    assert failed[0].get("data-client-msg-id") == "m-7"
    assert failed[0].xpath(".//button[contains(@class, 'ai-tutor-retry')]")
    assert not tree.xpath("//b")  # the learner's words are text, not markup


# ------------------------------------------------------------------ concurrency caps


def _ask_in_background(block, question: str) -> threading.Thread:
    thread = threading.Thread(target=call, args=(block, "ask", {"question": question}))
    thread.start()
    return thread


@pytest.mark.parametrize(
    "caps",
    [
        {"max_concurrent_calls_process": 1, "max_concurrent_calls_site": 0},
        {"max_concurrent_calls_process": 4, "max_concurrent_calls_site": 1},
    ],
)
def test_question_over_a_cap_is_refused_at_once(server, caps, caplog):
    server.script.append(Scripted(fault="hang"))
    first = make_block(settings(server, "openai", **caps))
    second = make_block(settings(server, "openai", **caps))
    second.scope_ids = second.scope_ids._replace(user_id="student_2")

    thread = _ask_in_background(first, "Slow one")
    deadline = time.monotonic() + 1
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.02)

    started = time.monotonic()
    status, body, response = call(second, "ask", {"question": "Second learner"})
    waited = time.monotonic() - started
    thread.join()

    assert status == 503 and body["error"]["code"] == "busy"
    assert waited < 0.5
    assert response.headers["Retry-After"].isdigit()
    assert len(server.requests) == 1
    assert "cap of provider calls" in caplog.text


def test_abandoned_call_holds_its_process_slot_until_it_ends():
    release = threading.Event()

    with pytest.raises(calls.DeadlinePassed):
        calls.call_within(0.1, 1, release.wait)
    assert calls.process_calls_in_flight() == 1
    with pytest.raises(calls.OverCapacity):
        calls.call_within(0.1, 1, lambda: "second")

    release.set()
    end = time.monotonic() + 1
    while calls.process_calls_in_flight() and time.monotonic() < end:
        time.sleep(0.01)
    assert calls.call_within(1, 1, lambda: "third") == "third"


class RecordingCache:
    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.timeouts: dict[str, float] = {}

    def add(self, key, value, timeout):
        if key in self.values:
            return False
        self.values[key], self.timeouts[key] = value, timeout
        return True

    def get(self, key):
        return self.values.get(key)

    def delete(self, key):
        self.values.pop(key, None)


def test_site_slots_expire_on_their_own_and_are_freed():
    cache = RecordingCache()

    with calls.site_slot(cache, 2, deadline_seconds=25):
        with calls.site_slot(cache, 2, deadline_seconds=25):
            with pytest.raises(calls.OverCapacity):
                with calls.site_slot(cache, 2, deadline_seconds=25):
                    pass
        assert len(cache.values) == 1

    assert cache.values == {}
    assert set(cache.timeouts.values()) == {25 + 1 + calls.SITE_SLOT_MARGIN_SECONDS}


def test_a_slot_taken_over_after_expiry_is_not_freed_by_its_old_holder():
    cache = RecordingCache()

    with calls.site_slot(cache, 1, deadline_seconds=2):
        cache.values[calls.SITE_SLOT_KEY % 0] = "another request's token"

    assert cache.values[calls.SITE_SLOT_KEY % 0] == "another request's token"


# ------------------------------------------------------------------ fallback


def test_offline_fallback_answers_from_the_course_material_labelled_offline(server, caplog):
    server.script.append(openai_error(500, PROVIDER_TEXT))
    block = make_block(
        settings(server, "openai", fallback_provider="offline"),
        course_material="The Calvin cycle takes place in the stroma of the chloroplast.",
    )

    with caplog.at_level(logging.INFO, logger="ai_tutor"):
        status, body, _ = call(block, "ask", {"question": "Where does the Calvin cycle happen?"})

    assert status == 200
    assert body["provider"] == "offline" and body["offline"] is True
    assert "stroma" in body["reply_text"]
    assert "kind=overloaded" in caplog.text and "fallback answered" in caplog.text
    assert block.conversation[-1]["offline"] is True


def test_secondary_provider_answers_before_offline(server, monkeypatch):
    # The secondary provider reads its SDK's own environment variables.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secondary")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    server.script += [openai_error(503, PROVIDER_TEXT), ok("anthropic", "From the secondary.")]
    block = make_block(
        settings(server, "openai", fallback_provider="anthropic", deadline_seconds=10)
    )

    status, body, _ = call(block, "ask", {"question": "Where is the stroma?"})

    assert (status, body["provider"], body["offline"]) == (200, "anthropic", False)
    assert body["reply_text"] == "From the secondary."
    assert [r.path for r in server.requests] == ["/v1/chat/completions", "/v1/messages"]


def test_fallback_setting_is_validated():
    from ai_tutor.config import ConfigError

    with pytest.raises(ConfigError, match="fallback_provider"):
        load_config({"provider": "openai", "fallback_provider": "openai"})
    with pytest.raises(ConfigError, match="fallback_provider"):
        load_config({"fallback_provider": "gemini"})
