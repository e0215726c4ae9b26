"""Anthropic's Messages API through the official `anthropic` SDK."""

from __future__ import annotations

import logging
from typing import Any

from ai_tutor.config import TutorConfig
from ai_tutor.providers.base import Completion, ProviderError, TutorRequest
from ai_tutor.providers.clients import cached_client, retry_after_seconds

log = logging.getLogger(__name__)


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, config: TutorConfig) -> None:
        try:
            import anthropic
        except ImportError as error:  # the SDK is an extra of the distribution
            raise ProviderError("unavailable", "install xblock-ai-tutor[anthropic]") from error
        if not config.resolved_api_key() and not config.base_url:
            raise ProviderError("auth", "no key: set api_key or ANTHROPIC_API_KEY")
        self._sdk = anthropic
        self._client = cached_client(
            "anthropic",
            config,
            lambda: anthropic.Anthropic(
                # A compatible server of one's own may need no key; the SDK insists on one.
                api_key=config.resolved_api_key() or "unused",
                base_url=config.base_url or None,
                timeout=config.attempt_timeout_seconds,
                max_retries=config.max_retries,
            ),
        )

    def complete(self, request: TutorRequest) -> Completion:
        sdk = self._sdk
        try:
            response = self._client.messages.create(
                model=request.model,
                system=request.system,
                max_tokens=request.max_output_tokens,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
            )
        except sdk.APITimeoutError as error:
            raise ProviderError("timeout", "Anthropic request timed out") from error
        except sdk.APIConnectionError as error:
            raise ProviderError("connection", "cannot reach the Anthropic endpoint") from error
        except sdk.APIStatusError as error:
            raise _status_error(error) from error
        except sdk.APIResponseValidationError as error:
            raise ProviderError("bad_response", "malformed Anthropic response") from error
        except ValueError as error:  # a body that is not JSON (a proxy's error page)
            raise ProviderError("bad_response", "Anthropic response is not JSON") from error

        return _completion(response)


def _status_error(error: Any) -> ProviderError:
    status = error.status_code
    detail = _error_type(error)
    if status == 429:
        return ProviderError(
            "rate_limited", "Anthropic rate limit", retry_after=retry_after_seconds(error)
        )
    if status in (401, 403):
        return ProviderError("auth", f"Anthropic refused the credentials ({status})")
    if status == 404:
        return ProviderError("not_found", "Anthropic does not know the model")
    if status in (400, 413) and ("too long" in detail or status == 413):
        return ProviderError("context_too_long", "Anthropic: prompt is too long")
    if status == 529 or status >= 500:
        return ProviderError("overloaded", f"Anthropic overloaded or failing ({status})")
    return ProviderError("bad_request", f"Anthropic refused the request ({status})")


def _error_type(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return f"{inner.get('type', '')} {inner.get('message', '')}".lower()
    return str(getattr(error, "message", "")).lower()


def _completion(response: Any) -> Completion:
    try:
        text = "".join(
            getattr(block, "text", "") for block in response.content if block.type == "text"
        )
        stop_reason = str(response.stop_reason or "")
        input_tokens = int(response.usage.input_tokens or 0)
        output_tokens = int(response.usage.output_tokens or 0)
    except (AttributeError, TypeError, ValueError) as error:
        raise ProviderError("bad_response", "malformed Anthropic response") from error

    if stop_reason == "refusal":
        raise ProviderError("refusal", "Anthropic declined to answer")
    if not text.strip():
        raise ProviderError("empty", f"Anthropic gave an empty reply (stop: {stop_reason})")
    return Completion(
        text=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        stop_reason=stop_reason,
        truncated=stop_reason == "max_tokens",
    )
