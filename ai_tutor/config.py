"""Operator configuration of the tutor, read from `XBLOCK_SETTINGS["ai_tutor"]`.

The block never stores keys or endpoints in its fields (fields travel with course exports);
everything an operator sets lives here and comes from the runtime's settings service.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

PROVIDERS = ("offline", "anthropic", "openai")

DEFAULT_MODELS = {
    "anthropic": "claude-haiku-4-5",
    "openai": "gpt-4o-mini",
    "offline": "bm25",
}

API_KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


class ConfigError(ValueError):
    """The operator's settings cannot be used. The message names the key, never a value."""


@dataclasses.dataclass(frozen=True)
class TutorConfig:
    """Every operator setting with its default. README.md documents each one."""

    provider: str = "offline"
    model: str = ""
    api_key: str = dataclasses.field(default="", repr=False)
    base_url: str = ""
    timeout_seconds: float = 20.0
    max_retries: int = 1
    max_output_tokens: int = 800
    max_question_chars: int = 2000
    history_turns: int = 12
    max_stored_turns: int = 200
    context_token_budget: int = 3000
    enabled: bool = True
    # Reliability: one deadline bounds the whole provider call (SDK timeouts are per read).
    deadline_seconds: float = 25.0
    max_concurrent_calls_process: int = 4
    max_concurrent_calls_site: int = 1
    fallback_provider: str = ""
    # Limits and budgets, per UTC day; 0 turns a limit off.
    questions_per_block_per_day: int = 50
    questions_per_learner_per_day: int = 200
    course_tokens_per_day: int = 2_000_000
    site_tokens_per_day: int = 10_000_000
    oidc: Mapping[str, Any] = dataclasses.field(default_factory=lambda: {"mode": "off"})
    # Transparency: question text in tracking events and the staff panel only when turned on.
    share_question_text: bool = False
    # Models a block's "Model" field may name; empty allows any.
    allowed_models: tuple[str, ...] = ()
    # A page explaining the tutor's data use, linked from the disclosure under the chat.
    disclosure_url: str = ""

    @property
    def effective_model(self) -> str:
        return self.model or DEFAULT_MODELS[self.provider]

    @property
    def attempt_timeout_seconds(self) -> float:
        """The SDK timeout per attempt: `timeout_seconds`, shortened so that every attempt the
        SDK may make (`max_retries` + 1) fits inside `deadline_seconds`."""
        return min(self.timeout_seconds, self.deadline_seconds / (self.max_retries + 1))

    def resolved_api_key(self, environ: Mapping[str, str] | None = None) -> str:
        """The configured key, else the SDK's own environment variable, else ""."""
        if self.api_key:
            return self.api_key
        variable = API_KEY_VARIABLES.get(self.provider)
        environ = os.environ if environ is None else environ
        return environ.get(variable, "") if variable else ""


_NUMBER_LIMITS: dict[str, tuple[float, float]] = {
    "timeout_seconds": (1, 120),
    "max_retries": (0, 5),
    "max_output_tokens": (16, 8192),
    "max_question_chars": (10, 20000),
    "history_turns": (0, 100),
    "max_stored_turns": (2, 2000),
    "context_token_budget": (500, 200000),
    "deadline_seconds": (1, 120),
    "max_concurrent_calls_process": (1, 64),
    "max_concurrent_calls_site": (0, 10000),
    "questions_per_block_per_day": (0, 100000),
    "questions_per_learner_per_day": (0, 100000),
    "course_tokens_per_day": (0, 10**10),
    "site_tokens_per_day": (0, 10**10),
}
_FLOAT_SETTINGS = ("timeout_seconds", "deadline_seconds")


def load_config(raw: Mapping[str, Any] | None) -> TutorConfig:
    """Build a `TutorConfig` from the settings mapping, checking types and ranges.

    Unknown keys are ignored with a warning (later releases and the Tutor plugin may write
    keys this version does not know). Raises `ConfigError` for a value it cannot use.
    """
    raw = dict(raw or {})
    known = {field.name for field in dataclasses.fields(TutorConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        log.debug("Ignoring ai_tutor settings this version does not use: %s", ", ".join(unknown))

    values: dict[str, Any] = {}
    for name in known & set(raw):
        values[name] = raw[name]

    provider = str(values.get("provider") or "offline").strip().lower()
    if provider not in PROVIDERS:
        raise ConfigError(f"ai_tutor setting 'provider' must be one of {', '.join(PROVIDERS)}")
    values["provider"] = provider

    for name in ("model", "api_key", "base_url", "disclosure_url"):
        if name in values:
            if values[name] is None:
                values[name] = ""
            if not isinstance(values[name], str):
                raise ConfigError(f"ai_tutor setting {name!r} must be a string")
            values[name] = values[name].strip()

    for name, (low, high) in _NUMBER_LIMITS.items():
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"ai_tutor setting {name!r} must be a number")
        if not low <= value <= high:
            raise ConfigError(f"ai_tutor setting {name!r} must be between {low:g} and {high:g}")
        values[name] = float(value) if name in _FLOAT_SETTINGS else int(value)

    fallback = str(values.get("fallback_provider") or "").strip().lower()
    if fallback and (fallback not in PROVIDERS or fallback == provider):
        raise ConfigError(
            "ai_tutor setting 'fallback_provider' must be another of " + ", ".join(PROVIDERS)
        )
    values["fallback_provider"] = fallback

    for name in ("enabled", "share_question_text"):
        if name in values:
            values[name] = bool(values[name])
    if "allowed_models" in values:
        models = values["allowed_models"] or ()
        if not isinstance(models, (list, tuple)) or not all(isinstance(m, str) for m in models):
            raise ConfigError("ai_tutor setting 'allowed_models' must be a list of strings")
        values["allowed_models"] = tuple(m.strip() for m in models if m.strip())
    if values.get("disclosure_url") and not values["disclosure_url"].startswith(
        ("https://", "http://", "/")
    ):
        raise ConfigError("ai_tutor setting 'disclosure_url' must be an http(s) URL or a path")
    if "oidc" in values and not isinstance(values["oidc"], Mapping):
        raise ConfigError("ai_tutor setting 'oidc' must be a mapping")

    return TutorConfig(**values)
