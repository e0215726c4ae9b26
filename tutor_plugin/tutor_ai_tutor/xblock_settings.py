"""`XBLOCK_SETTINGS["ai_tutor"]` and the pip requirement, derived from the AI_TUTOR_* config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .identity import ConfigurationError, oidc_settings

PROVIDERS = ("offline", "anthropic", "openai")

# Providers whose SDK is an extra of the xblock-ai-tutor distribution.
PROVIDER_EXTRAS = ("anthropic", "openai")

# XBLOCK_SETTINGS key, Tutor config key, default. The defaults are the XBlock's own.
SETTINGS: tuple[tuple[str, str, Any], ...] = (
    ("provider", "AI_TUTOR_PROVIDER", "offline"),
    ("model", "AI_TUTOR_MODEL", ""),
    ("api_key", "AI_TUTOR_API_KEY", ""),
    ("base_url", "AI_TUTOR_BASE_URL", ""),
    ("timeout_seconds", "AI_TUTOR_TIMEOUT_SECONDS", 20),
    ("max_retries", "AI_TUTOR_MAX_RETRIES", 1),
    ("max_output_tokens", "AI_TUTOR_MAX_OUTPUT_TOKENS", 800),
    ("max_question_chars", "AI_TUTOR_MAX_QUESTION_CHARS", 2000),
    ("history_turns", "AI_TUTOR_HISTORY_TURNS", 12),
    ("max_stored_turns", "AI_TUTOR_MAX_STORED_TURNS", 200),
    ("enabled", "AI_TUTOR_ENABLED", True),
    ("deadline_seconds", "AI_TUTOR_DEADLINE_SECONDS", 25),
    # Must stay below the LMS uWSGI workers, or slow provider calls can hold every worker.
    ("max_concurrent_calls_site", "AI_TUTOR_MAX_CONCURRENT_CALLS_SITE", 1),
    ("max_concurrent_calls_process", "AI_TUTOR_MAX_CONCURRENT_CALLS_PROCESS", 1),
    ("questions_per_block_per_day", "AI_TUTOR_QUESTIONS_PER_BLOCK_PER_DAY", 50),
    ("questions_per_learner_per_day", "AI_TUTOR_QUESTIONS_PER_LEARNER_PER_DAY", 200),
    ("course_tokens_per_day", "AI_TUTOR_COURSE_DAILY_TOKEN_BUDGET", 200000),
    ("site_tokens_per_day", "AI_TUTOR_SITE_DAILY_TOKEN_BUDGET", 2000000),
    ("fallback_provider", "AI_TUTOR_FALLBACK_PROVIDER", ""),
    ("share_question_text", "AI_TUTOR_SHARE_QUESTION_TEXT", False),
    ("disclosure_url", "AI_TUTOR_DISCLOSURE_URL", ""),
)

SECRET_KEYS = ("AI_TUTOR_API_KEY", "AI_TUTOR_OIDC_CLIENT_SECRET")


def xblock_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The operator settings the XBlock reads, with the token validation settings under `oidc`.

    Raises `ConfigurationError` for values that the XBlock would refuse.
    """
    settings: dict[str, Any] = {}
    for name, key, default in SETTINGS:
        value = config.get(key, default)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigurationError(f"{key} must be true or false")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(f"{key} must be a number")
        else:
            value = "" if value is None else str(value).strip()
        settings[name] = value

    settings["provider"] = settings["provider"].lower()
    if settings["provider"] not in PROVIDERS:
        raise ConfigurationError(f"AI_TUTOR_PROVIDER must be one of: {', '.join(PROVIDERS)}")
    settings["fallback_provider"] = settings["fallback_provider"].lower()
    if settings["fallback_provider"] not in ("", *PROVIDERS):
        raise ConfigurationError(
            f"AI_TUTOR_FALLBACK_PROVIDER must be empty or one of: {', '.join(PROVIDERS)}"
        )

    allowed_models = config.get("AI_TUTOR_ALLOWED_MODELS") or []
    if not isinstance(allowed_models, list) or not all(
        isinstance(model, str) for model in allowed_models
    ):
        raise ConfigurationError("AI_TUTOR_ALLOWED_MODELS must be a list of model names")
    settings["allowed_models"] = [model.strip() for model in allowed_models if model.strip()]

    settings["oidc"] = oidc_settings(config)
    return settings


def pip_extras(config: Mapping[str, Any]) -> str:
    """The extras of xblock-ai-tutor that the configured providers need, e.g. `[anthropic]`."""
    wanted = {
        str(config.get(key) or "").strip().lower()
        for key in ("AI_TUTOR_PROVIDER", "AI_TUTOR_FALLBACK_PROVIDER")
    }
    extras = [extra for extra in PROVIDER_EXTRAS if extra in wanted]
    return f"[{','.join(extras)}]" if extras else ""


def python_literal(value: Any, indent: int = 0) -> str:
    """Python source for `value` (None, bools, numbers, strings, lists, str-keyed dicts).

    Strings are written whole with `repr`, never split across lines, so a rendered settings
    file holds each value exactly once and evaluates back to `value`.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    padding = " " * (indent + 4)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [python_literal(item, indent + 4) for item in value]
        if all("\n" not in item for item in items) and sum(map(len, items)) < 60:
            return "[" + ", ".join(items) + "]"
        return "[\n" + "".join(f"{padding}{item},\n" for item in items) + " " * indent + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        lines = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"settings keys must be strings, not {type(key).__name__}")
            lines.append(f"{padding}{key!r}: {python_literal(item, indent + 4)},\n")
        return "{\n" + "".join(lines) + " " * indent + "}"
    raise TypeError(f"cannot write a {type(value).__name__} into a settings file")
