"""Getting a reply for a question: the provider within one deadline and the call caps, one
retry when the context is too long, the operator's fallback, and what each failure tells the
learner and the staff log. Nothing here knows XBlock: the block hands in the request builder.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from ai_tutor import calls, canary
from ai_tutor.config import TutorConfig
from ai_tutor.errors import Unavailable
from ai_tutor.prompt import cited_sources, request_size, retry_budget
from ai_tutor.providers import OfflineProvider, Provider, ProviderError, provider_for
from ai_tutor.providers.base import Citation, Completion, TutorRequest
from ai_tutor.translations import N_

log = logging.getLogger(__name__)

BUSY_MESSAGE = N_("The tutor is busy. Please try again in a moment.")
PROVIDER_MESSAGES = {
    "timeout": BUSY_MESSAGE,
    "connection": N_("The tutor cannot be reached right now. Please try again in a moment."),
    "rate_limited": BUSY_MESSAGE,
    "overloaded": BUSY_MESSAGE,
    "context_too_long": N_(
        "This conversation has grown too long for the tutor. Clear it to go on."
    ),
    "content_filter": N_("The tutor cannot answer that question."),
    "refusal": N_("The tutor cannot answer that question."),
    "empty": N_("The tutor could not answer this time. Please try again."),
    "bad_response": N_("The tutor could not answer this time. Please try again."),
}
NEUTRAL_MESSAGE = N_("The tutor is not available right now. Your course team has been told.")
# Failures a retry may cure; the others are configuration faults or about the question itself.
RETRYABLE_KINDS = {"timeout", "connection", "rate_limited", "overloaded", "empty", "bad_response"}
# Configuration faults: logged as errors for staff; the learner sees the neutral message.
CONFIGURATION_KINDS = {"auth", "not_found", "bad_request", "unavailable"}


def answer(
    config: TutorConfig,
    cache: Any,
    request_within: Callable[[int], tuple[TutorRequest, tuple[Citation, ...]]],
    block_id: str,
) -> tuple[Completion, tuple[Citation, ...], str]:
    """Ask the configured provider within the deadline and the caps; on failure the fallback,
    if the operator set one. Raises `Unavailable` when no one answered.

    `request_within(budget)` builds the request within `budget` input tokens. A "context too
    long" answer is met once: the request is rebuilt within a much smaller budget (older
    turns go first) and asked again, if that made it smaller. The citations are the sources
    the reply cites as [n], else all it was sent.
    """

    def ask_primary(request: TutorRequest, seconds: float) -> Completion:
        # The provider is built inside the call: building an SDK client the first time
        # (TLS setup, imports) counts against the deadline too.
        return _call(
            block_id, config, cache, config.provider, lambda: provider_for(config), request, seconds
        )

    request, citations = request_within(config.context_token_budget)
    started = time.monotonic()
    try:
        try:
            completion = ask_primary(request, config.deadline_seconds)
        except ProviderError as error:
            if error.kind != "context_too_long":
                raise
            smaller, smaller_citations = request_within(retry_budget(config.context_token_budget))
            if request_size(smaller) >= request_size(request):
                raise  # nothing left to trim: the same request would fail the same way
            log.info(
                "ai_tutor request too long, asking once more with less: block=%s "
                "estimated_tokens=%d retry_estimated_tokens=%d",
                block_id,
                request_size(request),
                request_size(smaller),
            )
            request, citations = smaller, smaller_citations
            left = config.deadline_seconds - (time.monotonic() - started)
            if left < 1:
                raise calls.DeadlinePassed() from error
            completion = ask_primary(request, left)
        return completion, cited_sources(completion.text, citations), config.provider
    except calls.OverCapacity as error:
        log.warning(
            "ai_tutor question refused: block=%s over the %s cap of provider calls",
            block_id,
            error.scope,
        )
        raise Unavailable("busy", BUSY_MESSAGE, retry_after=5, extra={"retry": True}) from error
    except (calls.DeadlinePassed, ProviderError) as error:
        failure = _provider_failure(block_id, config, error)

    for fallback in _fallbacks(config):
        # The fallback gets what is left of the one deadline of the question.
        left = config.deadline_seconds - (time.monotonic() - started)
        if fallback.name != "offline" and left < 1:
            continue
        try:
            completion = _call(
                block_id,
                config,
                cache,
                fallback.name,
                lambda chosen=fallback: chosen,
                request,
                left,
            )
        except (calls.OverCapacity, calls.DeadlinePassed, ProviderError) as error:
            log.warning(
                "ai_tutor fallback failed: block=%s provider=%s kind=%s",
                block_id,
                fallback.name,
                getattr(error, "kind", type(error).__name__),
            )
            continue
        log.info("ai_tutor fallback answered: block=%s provider=%s", block_id, fallback.name)
        return completion, cited_sources(completion.text, citations), fallback.name
    raise failure


def _call(
    block_id: str,
    config: TutorConfig,
    cache: Any,
    name: str,
    provider: Callable[[], Provider],
    request: TutorRequest,
    deadline_seconds: float,
) -> Completion:
    if name == "offline":  # local and quick: no thread, no slot
        return provider().complete(request)
    marker = canary.new_marker()
    request = canary.guarded(request, marker)
    with calls.site_slot(cache, config.max_concurrent_calls_site, config.deadline_seconds):
        completion = calls.call_within(
            deadline_seconds,
            config.max_concurrent_calls_process,
            lambda: provider().complete(request),
        )
    if canary.leaked(completion.text, marker):
        log.warning(
            "ai_tutor reply withheld: block=%s provider=%s reason=system_prompt_echoed",
            block_id,
            name,
        )
        return canary.refusal(completion)
    return completion


def _fallbacks(config: TutorConfig) -> list[Provider]:
    """The secondary provider, if one is set, then the offline tutor."""
    if not config.fallback_provider:
        return []
    chain: list[Provider] = []
    if config.fallback_provider != "offline":
        # TODO: the secondary provider takes its key from its SDK's environment variable
        # and its default model; it has no settings of its own yet.
        secondary = dataclasses.replace(
            config, provider=config.fallback_provider, model="", api_key="", base_url=""
        )
        try:
            chain.append(provider_for(secondary))
        except ProviderError:
            log.error("ai_tutor fallback provider %s is not installed", secondary.provider)
    return [*chain, OfflineProvider()]


def _provider_failure(
    block_id: str, config: TutorConfig, error: calls.DeadlinePassed | ProviderError
) -> Unavailable:
    """Log a provider failure for staff; the error the learner gets for it."""
    if isinstance(error, calls.DeadlinePassed):
        log.warning(
            "ai_tutor provider call passed its deadline: block=%s provider=%s deadline_s=%g",
            block_id,
            config.provider,
            config.deadline_seconds,
        )
        return Unavailable("deadline", BUSY_MESSAGE, retry_after=5, extra={"retry": True})

    log_at = log.error if error.kind in CONFIGURATION_KINDS else log.warning
    log_at(
        "ai_tutor provider failed: block=%s provider=%s kind=%s detail=%s",
        block_id,
        config.provider,
        error.kind,
        error,
    )
    message = PROVIDER_MESSAGES.get(error.kind, NEUTRAL_MESSAGE)
    retry_after = int(error.retry_after) + 1 if error.retry_after is not None else 5
    return Unavailable(
        f"provider_{error.kind}",
        message,
        retry_after=retry_after,
        extra={"retry": error.kind in RETRYABLE_KINDS},
    )
