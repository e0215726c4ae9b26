"""The `ai_tutor` XBlock: a chat with an AI tutor inside a course unit.

The block stays thin: it reads requests and fields and renders views; the work is done by
plain modules (`config`, `prompt`, `providers`, `conversation`, `rendering`, `identity`,
`context`) that know nothing of XBlock.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from web_fragments.fragment import Fragment
from webob import Response
from xblock.completable import XBlockCompletionMode
from xblock.core import XBlock
from xblock.fields import Dict, List, Scope, String
from xblock.utils.studio_editable import StudioEditableXBlockMixin

from ai_tutor import calls, conversation, idempotency, limits
from ai_tutor.config import ConfigError, TutorConfig, load_config
from ai_tutor.errors import BadQuestion, Refused, TutorError, Unavailable
from ai_tutor.prompt import MODES, PromptParts, build_request
from ai_tutor.providers import OfflineProvider, Provider, ProviderError, provider_for
from ai_tutor.providers.base import Citation, Completion, TutorRequest
from ai_tutor.rendering import render_markdown
from ai_tutor.retrieval import Passage, split_passages
from ai_tutor.templating import render_html, static_text

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024

# Characters that render as nothing: a question made only of them is empty.
_INVISIBLE_CATEGORIES = {"Cf", "Zs", "Zl", "Zp", "Cc"}

_BUSY_MESSAGE = "The tutor is busy. Please try again in a moment."
_PROVIDER_MESSAGES = {
    "timeout": _BUSY_MESSAGE,
    "connection": "The tutor cannot be reached right now. Please try again in a moment.",
    "rate_limited": _BUSY_MESSAGE,
    "overloaded": _BUSY_MESSAGE,
    "context_too_long": "This conversation has grown too long for the tutor. Clear it to go on.",
    "content_filter": "The tutor cannot answer that question.",
    "refusal": "The tutor cannot answer that question.",
    "empty": "The tutor could not answer this time. Please try again.",
    "bad_response": "The tutor could not answer this time. Please try again.",
}
_NEUTRAL_MESSAGE = "The tutor is not available right now. Your course team has been told."
# Failures a retry may cure; the others are configuration faults or about the question itself.
_RETRYABLE_KINDS = {"timeout", "connection", "rate_limited", "overloaded", "empty", "bad_response"}
# Configuration faults: logged as errors for staff; the learner sees the neutral message.
_CONFIGURATION_KINDS = {"auth", "not_found", "bad_request", "unavailable"}
_LIMIT_MESSAGES = {
    "block_questions": "You have asked all your questions for today in this tutor. "
    "Come back tomorrow.",
    "learner_questions": "You have asked all your tutor questions for today. Come back tomorrow.",
    "course_budget": "The tutor has reached its daily limit for this course. "
    "Please try again tomorrow.",
    "site_budget": "The tutor has reached its daily limit. Please try again tomorrow.",
}
_IN_FLIGHT_MESSAGE = "Please wait for the answer to your previous question, one question at a time."


def _json_response(payload: dict[str, Any], status: int = 200, **headers: str) -> Response:
    response = Response(
        body=json.dumps(payload).encode("utf-8"),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def _error_response(error: TutorError) -> Response:
    payload: dict[str, Any] = {"error": {"code": error.code, "message": error.message}}
    payload["error"].update(error.extra)
    headers = {}
    if error.retry_after is not None:
        headers["Retry_After"] = str(error.retry_after)
    return _json_response(payload, error.status, **headers)


def _read_json_object(request: Any) -> dict[str, Any]:
    if request.method != "POST":
        raise TutorError("method_not_allowed", "Use POST.", status=405)
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        raise BadQuestion("too_large", "The request is too large.")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise BadQuestion("bad_json", "The request is not valid JSON.") from error
    if not isinstance(payload, dict):
        raise BadQuestion("bad_json", "The request must be a JSON object.")
    return payload


def _clean_client_msg_id(value: Any) -> str:
    if value is None:
        return ""
    if (
        not isinstance(value, str)
        or len(value) > idempotency.MAX_CLIENT_MSG_ID_CHARS
        or not value.isascii()
        or not value.isprintable()
    ):
        raise BadQuestion("bad_client_msg_id", "The message id is not valid.")
    return value


def _shared_cache() -> Any:
    """The Django cache shared by the LMS's processes (Redis under Tutor).

    TODO: if the cache itself is down, its error ends the request in a 500; deciding
    between failing open (no limits) and closed (no tutor) is left to an operator setting.
    """
    from django.core.cache import cache

    return cache


def _clean_question(value: Any, max_chars: int) -> str:
    if not isinstance(value, str):
        raise BadQuestion("bad_question", "The question must be text.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:  # lone surrogates from "\ud800" escapes
        raise BadQuestion("bad_question", "The question contains invalid characters.") from error
    if "\x00" in value:
        raise BadQuestion("bad_question", "The question contains invalid characters.")
    question = value.strip()
    if all(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in question):
        raise BadQuestion("empty_question", "Please type a question.")
    if len(question) > max_chars:
        raise BadQuestion(
            "question_too_long",
            f"Please keep your question under {max_chars} characters.",
        )
    return question


@XBlock.wants("settings", "user", "i18n", "ai_tutor_identity_token")
class AITutorBlock(StudioEditableXBlockMixin, XBlock):
    """A learner chats with an AI tutor that knows the unit the block sits in."""

    display_name = String(
        display_name="Display name",
        help="The name learners see above the chat.",
        default="AI Tutor",
        scope=Scope.settings,
    )
    mode = String(
        display_name="Tutoring style",
        help="Socratic guides with questions, Explain explains fully, Practice sets new exercises.",
        default="socratic",
        values=[
            {"display_name": "Socratic", "value": "socratic"},
            {"display_name": "Explain", "value": "explain"},
            {"display_name": "Practice", "value": "practice"},
        ],
        scope=Scope.settings,
    )
    instructions = String(
        display_name="Tutor instructions",
        help="Added to the tutor's instructions; they can narrow what it does, not lift its rules.",
        default="",
        multiline_editor=True,
        scope=Scope.settings,
    )
    course_material = String(
        display_name="Course material",
        help="Extra text the tutor may draw on, beside the unit's own components.",
        default="",
        multiline_editor=True,
        scope=Scope.content,
    )
    welcome_message = String(
        display_name="Welcome message",
        help="The tutor's first words, shown before the learner asks anything.",
        default="Hi! I am your AI tutor for this unit. What would you like to understand better?",
        scope=Scope.settings,
    )
    model_override = String(
        display_name="Model",
        help="Leave empty to use the model your site's operator configured.",
        default="",
        scope=Scope.settings,
    )
    conversation = List(
        help="This learner's conversation with the tutor: a list of turns.",
        default=[],
        scope=Scope.user_state,
    )
    usage_totals = Dict(
        help="Questions answered and tokens used in this block, per UTC day and month.",
        default={},
        scope=Scope.user_state_summary,
    )

    editable_fields = (
        "display_name",
        "mode",
        "instructions",
        "course_material",
        "welcome_message",
        "model_override",
    )

    block_settings_key = "ai_tutor"
    has_score = False
    completion_mode = XBlockCompletionMode.EXCLUDED
    has_author_view = False

    # ---------------------------------------------------------------- configuration

    def tutor_config(self) -> TutorConfig:
        """The operator's settings. Raises ConfigError when they are unusable."""
        service = self.runtime.service(self, "settings")
        raw = service.get_settings_bucket(self, {}) if service else {}
        return load_config(raw)

    def _gettext(self, text: str) -> str:
        service = self.runtime.service(self, "i18n")
        return service.gettext(text) if service else text

    @property
    def block_id(self) -> str:
        return str(self.scope_ids.usage_id)

    # ---------------------------------------------------------------- views

    def student_view(self, context: dict[str, Any] | None = None) -> Fragment:
        try:
            max_chars = self.tutor_config().max_question_chars
        except ConfigError:
            max_chars = TutorConfig.max_question_chars

        turns = [
            {
                "role": turn["role"],
                "text": turn["content"],
                "html": render_markdown(turn["content"]) if turn["role"] == "assistant" else "",
                "citations": conversation.citations_of(turn),
                "offline": bool(turn.get("offline")),
                "truncated": bool(turn.get("truncated")),
                "failed": conversation.is_failed(turn),
                "client_msg_id": str(turn.get("client_msg_id") or ""),
            }
            for turn in conversation.valid_turns(self.conversation)
        ]
        html = render_html(
            "student_view.html",
            {
                "block_id": self.block_id,
                "display_name": self.display_name,
                "welcome_html": render_markdown(self.welcome_message),
                "turns": turns,
                "max_chars": max_chars,
            },
        )
        fragment = Fragment(html)
        fragment.add_css(static_text("ai_tutor.css"))
        fragment.add_javascript(static_text("ai_tutor.js"))
        fragment.initialize_js("AITutorBlock", {"maxQuestionChars": max_chars})
        return fragment

    def validate_field_data(self, validation: Any, data: Any) -> None:
        from xblock.validation import ValidationMessage

        if data.mode not in MODES:
            validation.add(ValidationMessage(ValidationMessage.ERROR, "Unknown tutoring style."))

    # ---------------------------------------------------------------- handlers

    @XBlock.handler
    def ask(self, request: Any, suffix: str = "") -> Response:
        """Answer `{"question": ..., "client_msg_id": ...}` with the tutor's reply, and keep
        both in the history. A repeated `client_msg_id` gets the first reply back."""
        try:
            config = self._config_or_unavailable()
            payload = _read_json_object(request)
            question = _clean_question(payload.get("question"), config.max_question_chars)
            client_msg_id = _clean_client_msg_id(payload.get("client_msg_id"))
            if not config.enabled:
                raise Unavailable("disabled", "The tutor is turned off on this site for now.")
            learner_lines = self._learner_lines(request, config)

            cache = _shared_cache()
            learner = str(self.scope_ids.user_id)
            earlier = idempotency.recorded_reply(
                cache, learner, self.block_id, client_msg_id, question
            )
            if earlier is not None:
                return _json_response(earlier)
            try:
                with idempotency.question_lock(
                    cache, learner, self.block_id, config.deadline_seconds + 5
                ):
                    try:
                        reply = self._ask_once(
                            config, cache, learner, question, client_msg_id, learner_lines
                        )
                    finally:
                        # Saved before the lock is let go, so the next question reads this one.
                        self.save()
            except idempotency.QuestionInFlight as error:
                log.info("ai_tutor question refused: block=%s in_flight=1", self.block_id)
                raise Refused(
                    "question_in_flight",
                    _IN_FLIGHT_MESSAGE,
                    status=409,
                    retry_after=2,
                    extra={"retry": True},
                ) from error
        except TutorError as error:
            return _error_response(self._translated(error))
        return _json_response(reply)

    def _ask_once(
        self,
        config: TutorConfig,
        cache: Any,
        learner: str,
        question: str,
        client_msg_id: str,
        learner_lines: list[str],
    ) -> dict[str, Any]:
        """Check the limits, ask the provider, store and count the answer; the reply JSON.

        A question that fails at the provider is stored as failed and not counted.
        """
        started = time.monotonic()
        earlier = idempotency.recorded_reply(cache, learner, self.block_id, client_msg_id, question)
        if earlier is not None:  # the first copy finished while this one waited for the lock
            return earlier

        quotas = limits.Quotas(
            questions_per_block_per_day=config.questions_per_block_per_day,
            questions_per_learner_per_day=config.questions_per_learner_per_day,
            course_tokens_per_day=config.course_tokens_per_day,
            site_tokens_per_day=config.site_tokens_per_day,
        )
        usage = limits.DailyUsage(
            cache, learner=learner, block=self.block_id, course=self._course_id()
        )
        try:
            usage.check(quotas)
        except limits.LimitReached as error:
            log.info("ai_tutor question refused: block=%s limit=%s", self.block_id, error.reason)
            raise Refused(
                f"limit_{error.reason}",
                _LIMIT_MESSAGES[error.reason],
                retry_after=error.retry_after,
                extra={"retry": False},
            ) from error

        history = conversation.without_failed(
            conversation.valid_turns(self.conversation), question, client_msg_id
        )
        try:
            completion, citations, provider_name = self._answer(
                config, cache, question, learner_lines
            )
        except Unavailable:
            self.conversation = conversation.appended(
                history,
                [conversation.failed_question_turn(question, client_msg_id)],
                config.max_stored_turns,
            )
            raise

        reply = conversation.reply_turn(
            Completion(
                text=completion.text,
                input_tokens=completion.input_tokens,
                output_tokens=completion.output_tokens,
                stop_reason=completion.stop_reason,
                truncated=completion.truncated,
                citations=completion.citations or citations,
                offline=completion.offline,
            ),
            provider_name,
        )
        self.conversation = conversation.appended(
            history,
            [conversation.question_turn(question, client_msg_id), reply],
            config.max_stored_turns,
        )
        tokens = completion.input_tokens + completion.output_tokens
        remaining = usage.record(quotas, tokens)
        # TODO: two learners answered at the same moment both write the block's shared
        # totals and the later write wins, losing a count; the cache's daily counters (which
        # the limits use) are exact. An atomic per-block row would need an LMS-side model.
        self.usage_totals = limits.with_usage(self.usage_totals, tokens=tokens)
        log.info(
            "ai_tutor question answered: block=%s provider=%s model=%s input_tokens=%d "
            "output_tokens=%d stop=%s latency_ms=%d",
            self.block_id,
            provider_name,
            config.effective_model if provider_name != "offline" else "bm25",
            completion.input_tokens,
            completion.output_tokens,
            completion.stop_reason,
            (time.monotonic() - started) * 1000,
        )
        payload = {
            "reply_html": render_markdown(reply["content"]),
            "reply_text": reply["content"],
            "citations": reply["citations"],
            "provider": provider_name,
            "offline": reply["offline"],
            "truncated": reply["truncated"],
            "questions_remaining": remaining,
        }
        idempotency.record_reply(cache, learner, self.block_id, client_msg_id, question, payload)
        return payload

    @XBlock.handler
    def clear(self, request: Any, suffix: str = "") -> Response:
        """Empty this learner's conversation; refused while one of their questions is in
        flight, whose answer would otherwise write the old conversation back."""
        try:
            _read_json_object(request)
            with idempotency.question_lock(
                _shared_cache(), str(self.scope_ids.user_id), self.block_id, hold_seconds=5
            ):
                self.conversation = []
                self.save()
        except idempotency.QuestionInFlight:
            return _error_response(
                self._translated(
                    Refused("question_in_flight", _IN_FLIGHT_MESSAGE, status=409, retry_after=2)
                )
            )
        except TutorError as error:
            return _error_response(self._translated(error))
        return _json_response({"cleared": True})

    # ---------------------------------------------------------------- the steps of a question

    def _config_or_unavailable(self) -> TutorConfig:
        try:
            return self.tutor_config()
        except ConfigError as error:
            log.error("ai_tutor is misconfigured: %s", error)
            raise Unavailable("misconfigured", _NEUTRAL_MESSAGE) from error

    def _learner_lines(self, request: Any, config: TutorConfig) -> list[str]:
        """Check the learner's identity as configured; lines describing them for the prompt."""
        from ai_tutor.identity import (
            IdentityError,
            check_learner,
            describe_learner,
            is_course_staff,
        )

        try:
            identity = check_learner(self, request, config.oidc)
        except IdentityError as error:
            extra = {"login_url": error.login_url} if error.login_url else {}
            raise TutorError(
                f"identity_{error.reason}", error.message, status=error.status, extra=extra
            ) from error
        if identity is None:
            return []
        return describe_learner(identity, config.oidc, is_course_staff=is_course_staff(self))

    def _unit_material(self) -> tuple[str, list[Passage]]:
        from ai_tutor.context.unit import gather_unit_components

        passages: list[Passage] = []
        unit_name = ""
        parent = self.get_parent() if self.parent else None
        if parent is not None:
            unit_name = str(getattr(parent, "display_name", "") or "")
        for component in gather_unit_components(self):
            passages += split_passages(component.block_id, component.display_name, component.text)
        if self.course_material.strip():
            passages += split_passages(
                f"{self.block_id}#material", self._gettext("Course material"), self.course_material
            )
        return unit_name or self.display_name, passages

    def _course_id(self) -> str:
        return str(getattr(self.scope_ids.usage_id, "course_key", "") or "")

    def _answer(
        self, config: TutorConfig, cache: Any, question: str, learner_lines: list[str]
    ) -> tuple[Completion, tuple[Citation, ...], str]:
        """Ask the provider within the deadline and the caps; on failure the fallback, if the
        operator set one. Raises `Unavailable` when no one answered."""
        unit_name, material = self._unit_material()
        history = conversation.prompt_messages(self.conversation, config.history_turns)
        request, citations = build_request(
            parts=PromptParts(self.mode, self.instructions, learner_lines, unit_name),
            material=material,
            history=history,
            question=question,
            model=self.model_override.strip() or config.effective_model,
            max_output_tokens=config.max_output_tokens,
            token_budget=config.context_token_budget,
        )
        started = time.monotonic()
        try:
            # The provider is built inside the call: building an SDK client the first time
            # (TLS setup, imports) counts against the deadline too.
            completion = self._call(
                config,
                cache,
                config.provider,
                lambda: provider_for(config),
                request,
                config.deadline_seconds,
            )
            return completion, citations, config.provider
        except calls.OverCapacity as error:
            log.warning(
                "ai_tutor question refused: block=%s over the %s cap of provider calls",
                self.block_id,
                error.scope,
            )
            raise Unavailable(
                "busy", _BUSY_MESSAGE, retry_after=5, extra={"retry": True}
            ) from error
        except (calls.DeadlinePassed, ProviderError) as error:
            failure = self._provider_failure(config, error)

        for fallback in self._fallbacks(config):
            # The fallback gets what is left of the one deadline of the question.
            left = config.deadline_seconds - (time.monotonic() - started)
            if fallback.name != "offline" and left < 1:
                continue
            try:
                completion = self._call(
                    config, cache, fallback.name, lambda chosen=fallback: chosen, request, left
                )
            except (calls.OverCapacity, calls.DeadlinePassed, ProviderError) as error:
                log.warning(
                    "ai_tutor fallback failed: block=%s provider=%s kind=%s",
                    self.block_id,
                    fallback.name,
                    getattr(error, "kind", type(error).__name__),
                )
                continue
            log.info(
                "ai_tutor fallback answered: block=%s provider=%s", self.block_id, fallback.name
            )
            return completion, citations, fallback.name
        raise failure

    def _call(
        self,
        config: TutorConfig,
        cache: Any,
        name: str,
        provider: Callable[[], Provider],
        request: TutorRequest,
        deadline_seconds: float,
    ) -> Completion:
        if name == "offline":  # local and quick: no thread, no slot
            return provider().complete(request)
        with calls.site_slot(cache, config.max_concurrent_calls_site, config.deadline_seconds):
            return calls.call_within(
                deadline_seconds,
                config.max_concurrent_calls_process,
                lambda: provider().complete(request),
            )

    def _fallbacks(self, config: TutorConfig) -> list[Provider]:
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
        self, config: TutorConfig, error: calls.DeadlinePassed | ProviderError
    ) -> Unavailable:
        """Log a provider failure for staff; the error the learner gets for it."""
        if isinstance(error, calls.DeadlinePassed):
            log.warning(
                "ai_tutor provider call passed its deadline: block=%s provider=%s deadline_s=%g",
                self.block_id,
                config.provider,
                config.deadline_seconds,
            )
            return Unavailable("deadline", _BUSY_MESSAGE, retry_after=5, extra={"retry": True})

        log_at = log.error if error.kind in _CONFIGURATION_KINDS else log.warning
        log_at(
            "ai_tutor provider failed: block=%s provider=%s kind=%s detail=%s",
            self.block_id,
            config.provider,
            error.kind,
            error,
        )
        message = _PROVIDER_MESSAGES.get(error.kind, _NEUTRAL_MESSAGE)
        retry_after = int(error.retry_after) + 1 if error.retry_after is not None else 5
        return Unavailable(
            f"provider_{error.kind}",
            message,
            retry_after=retry_after,
            extra={"retry": error.kind in _RETRYABLE_KINDS},
        )

    def _translated(self, error: TutorError) -> TutorError:
        error.message = self._gettext(error.message)
        return error

    # ---------------------------------------------------------------- workbench

    @staticmethod
    def workbench_scenarios() -> list[tuple[str, str]]:
        from ai_tutor.workbench.scenarios import tutor_scenarios

        return tutor_scenarios()
