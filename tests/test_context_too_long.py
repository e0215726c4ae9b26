"""A provider's "context too long" answer is met once, with a smaller request; never a loop.

Through the real SDKs and a loopback server that answers with the 400 errors Anthropic and
OpenAI send for a prompt over the model's context window.
"""

from __future__ import annotations

import json

import pytest

from ai_tutor import conversation
from ai_tutor.providers import Completion
from tests.blocks import call, make_block, provider_settings
from tests.loopback import (
    ProviderServer,
    Scripted,
    anthropic_error,
    anthropic_message,
    chat_completion,
    openai_error,
)

PROVIDERS = ["anthropic", "openai"]
MATERIAL = "\n\n".join(
    f"Section {n}. The stroma holds the enzymes of the Calvin cycle; "
    + "light reactions in the thylakoid make ATP and NADPH for it. " * 6
    for n in range(20)
)


def settings(server: ProviderServer, provider: str) -> dict:
    return provider_settings(server, provider, context_token_budget=4000, history_turns=40)


def too_long(provider: str) -> Scripted:
    if provider == "anthropic":
        return anthropic_error(400, "prompt is too long: 212345 tokens > 200000 maximum")
    return openai_error(
        400,
        "This model's maximum context length is 8192 tokens. However, your messages "
        "resulted in 9001 tokens.",
        code="context_length_exceeded",
    )


def ok(provider: str) -> Scripted:
    text = "Think about the stroma [1]."
    return Scripted(
        body=anthropic_message(text) if provider == "anthropic" else chat_completion(text)
    )


def history(exchanges: int) -> list[dict]:
    turns = []
    for n in range(exchanges):
        turns.append(conversation.question_turn(f"Earlier question {n} about the stroma? " * 8))
        turns.append(
            conversation.reply_turn(
                Completion(f"Earlier reply {n}: think of the enzymes. " * 8, 10, 10, "end"),
                "openai",
            )
        )
    return turns


def sent_messages(body: dict) -> list[dict]:
    return [m for m in body["messages"] if m["role"] != "system"]


def sent_size(body: dict) -> int:
    return len(json.dumps(body, ensure_ascii=False))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_too_long_request_is_retried_once_smaller(server, provider):
    server.script += [too_long(provider), ok(provider)]
    block = make_block(
        settings(server, provider), course_material=MATERIAL, conversation=history(10)
    )

    status, body, _ = call(block, "ask", {"question": "Where does the Calvin cycle run?"})

    assert status == 200, body
    assert body["reply_text"] == "Think about the stroma [1]."
    assert len(server.requests) == 2
    first, second = (recorded.body for recorded in server.requests)
    assert sent_size(second) < sent_size(first)
    # Older turns went first, and the question itself is still the last message.
    assert len(sent_messages(second)) < len(sent_messages(first))
    assert sent_messages(second)[-1]["content"] == "Where does the Calvin cycle run?"
    assert len(block.conversation) == 22  # answered and stored as any other reply


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_second_too_long_answer_ends_it(server, provider):
    server.script += [too_long(provider), too_long(provider), ok(provider)]
    block = make_block(
        settings(server, provider), course_material=MATERIAL, conversation=history(10)
    )

    status, body, _ = call(block, "ask", {"question": "Where does the Calvin cycle run?"})

    assert status == 503
    assert body["error"]["code"] == "provider_context_too_long"
    assert len(server.requests) == 2  # once, never a loop
    assert server.script  # the third answer was never asked for


@pytest.mark.parametrize("provider", PROVIDERS)
def test_nothing_to_trim_means_no_retry(server, provider):
    server.script += [too_long(provider), ok(provider)]
    block = make_block(settings(server, provider))  # no material, no history

    status, body, _ = call(block, "ask", {"question": "Where does the Calvin cycle run?"})

    assert status == 503
    assert body["error"]["code"] == "provider_context_too_long"
    assert len(server.requests) == 1  # the same request would fail the same way
