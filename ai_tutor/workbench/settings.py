"""Django settings for running the tutor in the xblock-sdk workbench.

`DJANGO_SETTINGS_MODULE=ai_tutor.workbench.settings python -m django runserver` (see the
Makefile). Operator settings come from environment variables, as the README lists.
"""

from __future__ import annotations

import os
from importlib.metadata import EntryPoint

# Hide xblock-sdk's own sample scenarios unless asked for; xblock-sdk reads this on import.
os.environ.setdefault("EXCLUDE_SAMPLE_XBLOCKS", "yes")

from workbench.settings import *  # noqa: F401,F403  (xblock-sdk's own settings)
from workbench.settings import WORKBENCH
from xblock.core import XBlock

from ai_tutor.workbench.oidc_env import oidc_settings_from_env

# The stand-ins answer to edx-platform's tag names inside the workbench only.
for _tag, _class_name in (
    ("html", "HtmlStandIn"),
    ("problem", "ProblemStandIn"),
    ("video", "VideoStandIn"),
    ("vertical", "UnitStandIn"),
):
    _entry_point = EntryPoint(
        name=_tag, value=f"ai_tutor.workbench.standins:{_class_name}", group="xblock.v1"
    )
    if all(name != _tag for name, _ in XBlock.extra_entry_points):
        XBlock.extra_entry_points.append((_tag, _entry_point))

ROOT_URLCONF = "ai_tutor.workbench.urls"

PORT = os.environ.get("PORT", "8000")
AI_TUTOR_WORKBENCH_ORIGIN = os.environ.get("AI_TUTOR_WORKBENCH_ORIGIN", f"http://127.0.0.1:{PORT}")


def _number(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, not {value!r}") from None


XBLOCK_SETTINGS = {
    "ai_tutor": {
        "provider": os.environ.get("AI_TUTOR_PROVIDER", "offline"),
        "model": os.environ.get("AI_TUTOR_MODEL", ""),
        "base_url": (
            os.environ.get("AI_TUTOR_BASE_URL")
            or (
                os.environ.get("ANTHROPIC_BASE_URL", "")
                if os.environ.get("AI_TUTOR_PROVIDER") == "anthropic"
                else os.environ.get("OPENAI_BASE_URL", "")
            )
        ),
        "timeout_seconds": _number("AI_TUTOR_TIMEOUT_SECONDS", 20),
        # The key is left out on purpose: the SDKs read ANTHROPIC_API_KEY / OPENAI_API_KEY.
        "oidc": oidc_settings_from_env(os.environ, AI_TUTOR_WORKBENCH_ORIGIN),
    }
}

WORKBENCH["services"]["ai_tutor_identity_token"] = (
    "ai_tutor.workbench.dev_idp.DevIdentityTokenService"
)

# A process-local cache is enough for one workbench process.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
