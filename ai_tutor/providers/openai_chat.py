"""Chat Completions through the official `openai` SDK: OpenAI, Azure OpenAI, vLLM, Ollama."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ai_tutor.config import TutorConfig
from ai_tutor.providers.base import Completion, ProviderError, TutorRequest
from ai_tutor.providers.clients import cached_client, retry_after_seconds

log = logging.getLogger(__name__)

# Reasoning models refuse `max_tokens` and want `max_completion_tokens`; servers that speak
# an older dialect (some OpenAI-compatible ones) know only `max_tokens`. We start from the
# model's name and learn from the server's answer, remembering per endpoint and model.
_NEW_STYLE_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_token_parameter: dict[tuple[str, str], str] = {}
_token_parameter_lock = threading.Lock()


class OpenAIProvider:
    name = "openai"

    def __init__(self, config: TutorConfig) -> None:
        try:
            import openai
        except ImportError as error:
            raise ProviderError("unavailable", "install xblock-ai-tutor[openai]") from error
        if not hasattr(openai, "OpenAI"):  # openai 0.x, as the Ulmo image holds it back
            raise ProviderError("unavailable", "the openai provider needs openai 1.0 or later")
        if not config.resolved_api_key() and not config.base_url:
            raise ProviderError("auth", "no key: set api_key or OPENAI_API_KEY")
        self._sdk = openai
        self._endpoint = config.base_url
        self._client = cached_client(
            "openai",
            config,
            lambda: openai.OpenAI(
                # Servers such as vLLM and Ollama need no key, but the SDK insists on one.
                api_key=config.resolved_api_key() or "unused",
                base_url=config.base_url or None,
                timeout=config.attempt_timeout_seconds,
                max_retries=config.max_retries,
            ),
        )

    def complete(self, request: TutorRequest) -> Completion:
        key = (self._endpoint, request.model)
        with _token_parameter_lock:
            parameter = _token_parameter.get(key) or (
                "max_completion_tokens"
                if request.model.startswith(_NEW_STYLE_PREFIXES)
                else "max_tokens"
            )
        try:
            response = self._create(request, parameter)
        except ProviderError as error:
            other = _other_parameter_wanted(error, parameter)
            if other is None:
                raise
            log.debug("Endpoint refuses %s for this model; using %s", parameter, other)
            with _token_parameter_lock:
                _token_parameter[key] = other
            response = self._create(request, other)
        return _completion(response)

    def _create(self, request: TutorRequest, token_parameter: str) -> Any:
        sdk = self._sdk
        messages = [{"role": "system", "content": request.system}]
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        try:
            return self._client.chat.completions.create(
                model=request.model,
                messages=messages,
                **{token_parameter: request.max_output_tokens},
            )
        except sdk.APITimeoutError as error:
            raise ProviderError("timeout", "OpenAI request timed out") from error
        except sdk.APIConnectionError as error:
            raise ProviderError("connection", "cannot reach the OpenAI endpoint") from error
        except sdk.APIStatusError as error:
            raise _status_error(error) from error
        except sdk.APIResponseValidationError as error:
            raise ProviderError("bad_response", "malformed OpenAI response") from error
        except ValueError as error:  # a body that is not JSON (a proxy's error page)
            raise ProviderError("bad_response", "OpenAI response is not JSON") from error


class _UnsupportedParameter(ProviderError):
    def __init__(self, parameter: str) -> None:
        super().__init__("bad_request", f"endpoint refused parameter {parameter}")
        self.parameter = parameter


def _other_parameter_wanted(error: ProviderError, sent: str) -> str | None:
    if isinstance(error, _UnsupportedParameter) and error.parameter == sent:
        return "max_tokens" if sent == "max_completion_tokens" else "max_completion_tokens"
    return None


def _error_body(error: Any) -> dict[str, Any]:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return inner
    return {}


def _status_error(error: Any) -> ProviderError:
    status = error.status_code
    body = _error_body(error)
    code = str(body.get("code") or "")
    message = str(body.get("message") or "").lower()
    if status == 400 and code == "unsupported_parameter" and body.get("param"):
        return _UnsupportedParameter(str(body["param"]))
    if status == 429:
        return ProviderError(
            "rate_limited", "OpenAI rate limit", retry_after=retry_after_seconds(error)
        )
    if status in (401, 403):
        return ProviderError("auth", f"OpenAI refused the credentials ({status})")
    if status == 404 or code in ("model_not_found", "DeploymentNotFound"):
        return ProviderError("not_found", "the endpoint does not know the model or deployment")
    if code == "context_length_exceeded" or "maximum context length" in message:
        return ProviderError("context_too_long", "OpenAI: context too long")
    if code == "content_filter":
        return ProviderError("content_filter", "the endpoint's content filter refused the prompt")
    if status >= 500:
        return ProviderError("overloaded", f"OpenAI overloaded or failing ({status})")
    return ProviderError("bad_request", f"OpenAI refused the request ({status})")


def _completion(response: Any) -> Completion:
    try:
        choice = response.choices[0]
        text = choice.message.content or ""
        refusal = getattr(choice.message, "refusal", None)
        finish_reason = str(choice.finish_reason or "")
        usage = response.usage
        input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0) if usage else 0
        output_tokens = int(getattr(usage, "completion_tokens", 0) or 0) if usage else 0
    except (AttributeError, IndexError, TypeError, ValueError) as error:
        raise ProviderError("bad_response", "malformed OpenAI response") from error

    if finish_reason == "content_filter":
        raise ProviderError("content_filter", "the endpoint's content filter stopped the reply")
    if refusal and not text.strip():
        raise ProviderError("refusal", "the model declined to answer")
    if not text.strip():
        raise ProviderError("empty", f"OpenAI gave an empty reply (finish: {finish_reason})")
    return Completion(
        text=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        stop_reason=finish_reason,
        truncated=finish_reason == "length",
    )
