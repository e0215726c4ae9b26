"""The real `anthropic` and `openai` SDKs talking HTTP to loopback servers of their formats."""

from __future__ import annotations

import pytest

from ai_tutor.config import load_config
from ai_tutor.providers import Message, ProviderError, TutorRequest, provider_for
from tests.loopback import Scripted, anthropic_message, chat_completion

KEY = "sk-test-canary-0123456789"


def request(**overrides) -> TutorRequest:
    values = dict(
        system="You are a tutor. Rules first.",
        messages=(
            Message("user", "What is a chloroplast?"),
            Message("assistant", "An organelle. What do you think it does?"),
            Message("user", "Where does the Calvin cycle happen?"),
        ),
        model="model-under-test",
        max_output_tokens=321,
    )
    values.update(overrides)
    return TutorRequest(**values)


def anthropic(server, **settings):
    return provider_for(
        load_config(
            {
                "provider": "anthropic",
                "api_key": KEY,
                "base_url": server.url,
                "max_retries": 0,
                **settings,
            }
        )
    )


def openai(server, base_path="/v1", **settings):
    return provider_for(
        load_config(
            {
                "provider": "openai",
                "api_key": KEY,
                "base_url": server.url + base_path,
                "max_retries": 0,
                **settings,
            }
        )
    )


def key_sent(headers: dict[str, str]) -> str:
    if "x-api-key" in headers:
        return headers["x-api-key"]
    return headers.get("authorization", "").removeprefix("Bearer ")


class TestAnthropicMessages:
    def test_request_shape_and_reply(self, server):
        server.script.append(
            Scripted(
                body=anthropic_message("Look at the stroma.", input_tokens=77, output_tokens=5)
            )
        )

        completion = anthropic(server).complete(request())

        sent = server.requests[0]
        assert sent.path == "/v1/messages"
        assert key_sent(sent.headers) == KEY
        assert sent.body["system"] == "You are a tutor. Rules first."
        assert sent.body["model"] == "model-under-test"
        assert sent.body["max_tokens"] == 321
        roles = [m["role"] for m in sent.body["messages"]]
        assert roles == ["user", "assistant", "user"]
        assert all(m["role"] != "system" for m in sent.body["messages"])
        assert sent.body["messages"][-1]["content"] == "Where does the Calvin cycle happen?"

        assert completion.text == "Look at the stroma."
        assert (completion.input_tokens, completion.output_tokens) == (77, 5)
        assert completion.stop_reason == "end_turn"
        assert completion.truncated is False

    def test_reply_cut_by_token_limit_is_marked(self, server):
        server.script.append(
            Scripted(body=anthropic_message("The Calvin cy", stop_reason="max_tokens"))
        )
        completion = anthropic(server).complete(request())
        assert completion.truncated is True
        assert completion.stop_reason == "max_tokens"

    def test_refusal_and_empty_replies_are_errors(self, server):
        server.script.append(Scripted(body=anthropic_message("", stop_reason="refusal")))
        with pytest.raises(ProviderError) as refused:
            anthropic(server).complete(request())
        assert refused.value.kind == "refusal"

        server.script.append(Scripted(body=anthropic_message("", stop_reason="end_turn")))
        with pytest.raises(ProviderError) as empty:
            anthropic(server).complete(request())
        assert empty.value.kind == "empty"

    @pytest.mark.parametrize(
        ("status", "error_type", "kind"),
        [
            (401, "authentication_error", "auth"),
            (404, "not_found_error", "not_found"),
            (429, "rate_limit_error", "rate_limited"),
            (529, "overloaded_error", "overloaded"),
            (400, "invalid_request_error", "context_too_long"),
        ],
    )
    def test_status_errors_are_mapped(self, server, status, error_type, kind):
        message = "prompt is too long: 250000 tokens > 200000 maximum" if status == 400 else "no"
        server.script.append(
            Scripted(
                status=status,
                body={"type": "error", "error": {"type": error_type, "message": message}},
                headers={"retry-after": "3"} if status == 429 else {},
            )
        )
        with pytest.raises(ProviderError) as raised:
            anthropic(server).complete(request())
        assert raised.value.kind == kind
        assert KEY not in str(raised.value)
        if status == 429:
            assert raised.value.retry_after == 3


class TestOpenAIChat:
    def test_request_shape_and_reply(self, server):
        server.script.append(
            Scripted(
                body=chat_completion(
                    "Where is the light absorbed?", prompt_tokens=90, completion_tokens=7
                )
            )
        )

        completion = openai(server).complete(request())

        sent = server.requests[0]
        assert sent.path == "/v1/chat/completions"
        assert key_sent(sent.headers) == KEY
        assert sent.body["model"] == "model-under-test"
        assert sent.body["max_tokens"] == 321
        assert "max_completion_tokens" not in sent.body
        messages = sent.body["messages"]
        assert messages[0] == {"role": "system", "content": "You are a tutor. Rules first."}
        assert [m["role"] for m in messages[1:]] == ["user", "assistant", "user"]

        assert completion.text == "Where is the light absorbed?"
        assert (completion.input_tokens, completion.output_tokens) == (90, 7)
        assert completion.truncated is False

    def test_length_finish_is_marked_truncated(self, server):
        server.script.append(Scripted(body=chat_completion("The Calvin", finish_reason="length")))
        assert openai(server).complete(request()).truncated is True

    def test_reasoning_models_get_max_completion_tokens(self, server):
        openai(server).complete(request(model="o4-mini"))
        assert server.requests[0].body["max_completion_tokens"] == 321
        assert "max_tokens" not in server.requests[0].body

    def test_server_refusing_max_tokens_gets_max_completion_tokens_once(self, server):
        refusal = {
            "error": {
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "unsupported_parameter",
            }
        }
        server.script.append(Scripted(status=400, body=refusal))
        provider = openai(server)

        provider.complete(request(model="new-style-model"))
        provider.complete(request(model="new-style-model"))

        sent = [r.body for r in server.requests]
        assert "max_tokens" in sent[0]
        assert sent[1]["max_completion_tokens"] == 321 and "max_tokens" not in sent[1]
        assert sent[2]["max_completion_tokens"] == 321 and "max_tokens" not in sent[2]
        assert len(sent) == 3

    def test_azure_openai_v1_endpoint_uses_the_deployment_as_model(self, server):
        openai(server, base_path="/openai/v1/").complete(request(model="my-gpt-deployment"))
        sent = server.requests[0]
        assert sent.path == "/openai/v1/chat/completions"
        assert sent.body["model"] == "my-gpt-deployment"

    def test_compatible_server_without_key(self, server):
        provider = provider_for(
            load_config({"provider": "openai", "base_url": server.url + "/v1", "max_retries": 0})
        )
        assert provider.complete(request()).text

    @pytest.mark.parametrize(
        ("status", "body", "kind"),
        [
            (
                401,
                {
                    "error": {
                        "message": "bad key",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
                "auth",
            ),
            (
                404,
                {"error": {"message": "The model does not exist", "code": "model_not_found"}},
                "not_found",
            ),
            (
                400,
                {
                    "error": {
                        "message": "This model's maximum context length is 8192 tokens",
                        "code": "context_length_exceeded",
                    }
                },
                "context_too_long",
            ),
            (400, {"error": {"message": "filtered", "code": "content_filter"}}, "content_filter"),
            (503, {"error": {"message": "overloaded"}}, "overloaded"),
        ],
    )
    def test_status_errors_are_mapped(self, server, status, body, kind):
        server.script.append(Scripted(status=status, body=body))
        with pytest.raises(ProviderError) as raised:
            openai(server).complete(request())
        assert raised.value.kind == kind
        assert KEY not in str(raised.value)

    def test_content_filter_finish_and_malformed_body(self, server):
        server.script.append(Scripted(body=chat_completion("", finish_reason="content_filter")))
        with pytest.raises(ProviderError) as filtered:
            openai(server).complete(request())
        assert filtered.value.kind == "content_filter"

        server.script.append(Scripted(body={"unexpected": True}))
        with pytest.raises(ProviderError) as malformed:
            openai(server).complete(request())
        assert malformed.value.kind in ("bad_response", "empty")


@pytest.mark.parametrize(
    ("provider", "variable"), [("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")]
)
def test_no_key_anywhere_is_an_auth_fault_not_a_crash(monkeypatch, provider, variable):
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ProviderError) as raised:
        provider_for(load_config({"provider": provider}))
    assert raised.value.kind == "auth"
    assert variable in str(raised.value)


def test_a_handler_without_a_key_answers_a_neutral_503(monkeypatch):
    from tests.blocks import call, make_block

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    block = make_block({"provider": "openai"})
    status, body, _ = call(block, "ask", {"question": "Hello?"})
    assert status == 503
    assert body["error"]["code"] == "provider_auth"
    assert "OPENAI_API_KEY" not in body["error"]["message"]
