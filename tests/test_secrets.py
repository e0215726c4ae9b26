"""A canary API key in the settings shows up nowhere a learner, an author or a log reader looks.

The canary is configured as the operator would; questions then run through the real SDKs
against the loopback provider, answered and failing in every way, with the `ai_tutor`, SDK
and HTTP loggers at DEBUG. Neither the key, nor the `Authorization` header, nor the learner's
question may appear in the views, the OLX, any handler's response or any log record.
"""

from __future__ import annotations

import logging

import pytest
from lxml import etree

from ai_tutor import log_safety
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

CANARY = "sk-canary-7e1f0c3a9b2d4e5f60718293a4b5c6d7"
QUESTION = "Where is the stroma, asks learner-question-5521?"
LOGGERS = ("ai_tutor", "anthropic", "openai", "httpx", "httpx2", "httpcore", "httpcore2")


@pytest.fixture
def debug_logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def settings(server: ProviderServer, provider: str, **extra) -> dict:
    values = {"api_key": CANARY, "max_retries": 1, "deadline_seconds": 2, **extra}
    return provider_settings(server, provider, **values)


def everything_logged(caplog) -> str:
    """Every record as its handlers would write it, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def assert_no_secret(text: str) -> None:
    assert CANARY not in text
    assert CANARY[-12:] not in text  # nor a tail of it
    assert "Bearer sk-" not in text


OUTCOMES = {
    "answered": lambda p: Scripted(
        body=anthropic_message("Think.") if p == "anthropic" else chat_completion("Think.")
    ),
    "unauthorized": lambda p: (anthropic_error if p == "anthropic" else openai_error)(
        401, f"Incorrect API key provided: {CANARY}"
    ),
    "rate_limited": lambda p: (anthropic_error if p == "anthropic" else openai_error)(
        429, "slow down", retry_after=0.2
    ),
    "overloaded": lambda p: (anthropic_error if p == "anthropic" else openai_error)(
        529 if p == "anthropic" else 503
    ),
    "not_found": lambda p: (anthropic_error if p == "anthropic" else openai_error)(404),
    "bad_request": lambda p: (anthropic_error if p == "anthropic" else openai_error)(400),
    "empty": lambda p: Scripted(
        body=anthropic_message("") if p == "anthropic" else chat_completion(None)
    ),
    "not_json": lambda p: Scripted(raw=b"<html>502 Bad Gateway</html>"),
    "reset": lambda p: Scripted(fault="reset"),
    "hang": lambda p: Scripted(fault="hang"),
}


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_canary_key_is_in_no_response_and_no_debug_log(server, provider, debug_logs):
    config = settings(server, provider, questions_per_block_per_day=3)
    provider_for(load_config(config))  # the SDK's first import is not this test's deadline
    block = make_block(config)
    responses = []
    for outcome, scripted in OUTCOMES.items():
        server.script += [scripted(provider)] * 2  # the SDK may retry once
        responses.append((outcome, call(block, "ask", {"question": QUESTION})))
        server.script.clear()
    # Refusals of every other kind: limits, bad input, wrong method, the kill switch.
    call(block, "ask", {"question": "Two"})
    call(block, "ask", {"question": "Three"})
    responses.append(("limit", call(block, "ask", {"question": "Four"})))
    responses.append(("bad_json", call(block, "ask", raw=b"{not json")))
    responses.append(("get", call(block, "ask", method="GET")))
    responses.append(("clear", call(block, "clear", {})))
    off = make_block(settings(server, provider, enabled=False))
    responses.append(("disabled", call(off, "ask", {"question": QUESTION})))
    broken = make_block(settings(server, provider, deadline_seconds=0))
    responses.append(("misconfigured", call(broken, "ask", {"question": QUESTION})))

    statuses = {outcome: status for outcome, (status, _, _) in responses}
    assert statuses["answered"] == 200
    assert {statuses[o] for o in OUTCOMES if o != "answered"} == {503}
    assert (statuses["limit"], statuses["bad_json"], statuses["misconfigured"]) == (429, 400, 503)
    for _outcome, (_status, body, response) in responses:
        assert_no_secret(response.text + str(response.headers))
        if "error" in body:
            assert_no_secret(body["error"]["message"])

    # The key did reach the provider, so the sweep above could have found it.
    assert any(CANARY in str(r.headers) for r in server.requests)
    logged = everything_logged(debug_logs)
    assert "Sending HTTP Request: POST" in logged  # the SDKs did log at DEBUG
    assert_no_secret(logged)
    assert QUESTION not in logged


def test_views_and_export_carry_no_secret(server):
    block = make_block(
        settings(server, "openai", base_url="https://secret-endpoint.example/v1"),
        course_material="Chloroplasts hold the stroma.",
    )
    server_block = make_block(settings(server, "openai"))
    call(server_block, "ask", {"question": QUESTION})

    student = block.student_view({})
    studio = block.studio_view({})
    node = etree.Element("ai_tutor")
    block.add_xml_to_node(node)

    for fragment in (student, studio, server_block.student_view({})):
        text = fragment.content + "".join(r.data for r in fragment.resources)
        assert_no_secret(text + str(fragment.json_init_args))
        assert "secret-endpoint" not in text
    olx = etree.tostring(node, encoding="unicode")
    assert "Chloroplasts hold the stroma." in olx  # the export did run
    assert_no_secret(olx)
    assert "secret-endpoint" not in olx and "api_key" not in olx


# ------------------------------------------------------------------ the log filter itself


@pytest.mark.parametrize("logger_name", ["anthropic._base_client", "openai._base_client", "httpx2"])
def test_sdk_records_are_scrubbed_of_keys_bodies_and_bearer_tokens(logger_name, caplog):
    log_safety.protect(CANARY)
    logger = logging.getLogger(logger_name)

    with caplog.at_level(logging.DEBUG, logger=logger_name):
        logger.debug(
            "Request options: %s",
            {"headers": {"x-api-key": CANARY}, "json_data": {"messages": [QUESTION]}},
        )
        logger.debug("Authorization: Bearer %s", "sk-other-token-not-configured")
        logger.debug("plain %s", "message")

    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == (
        "Request options: {'headers': {'x-api-key': '[redacted]'}, "
        "'json_data': '[request body not logged]'}"
    )
    assert messages[1] == "Authorization: Bearer [redacted]"
    assert messages[2] == "plain message"


def test_filter_reaches_loggers_created_after_it_was_first_installed():
    log_safety.protect()
    late = logging.getLogger("openai.some_module_imported_later")
    assert log_safety._redactor not in late.filters

    log_safety.protect("short")  # placeholder keys are not added
    assert log_safety._redactor in late.filters
    assert "short" not in log_safety._redactor.secrets


def test_a_key_that_contains_another_key_is_replaced_whole(caplog):
    log_safety.protect(CANARY[:12])
    log_safety.protect(CANARY)
    logger = logging.getLogger("openai._base_client")
    with caplog.at_level(logging.DEBUG, logger="openai._base_client"):
        logger.debug("key %s", CANARY)
    assert caplog.records[-1].getMessage() == "key [redacted]"
