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
    oidc: Mapping[str, Any] = dataclasses.field(default_factory=lambda: {"mode": "off"})

    @property
    def effective_model(self) -> str:
        return self.model or DEFAULT_MODELS[self.provider]

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
}


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

    for name in ("model", "api_key", "base_url"):
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
        values[name] = float(value) if name == "timeout_seconds" else int(value)

    if "enabled" in values:
        values["enabled"] = bool(values["enabled"])
    if "oidc" in values and not isinstance(values["oidc"], Mapping):
        raise ConfigError("ai_tutor setting 'oidc' must be a mapping")

    return TutorConfig(**values)
