"""OIDC settings for the workbench, built from environment variables (filled in by the identity work)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def oidc_settings_from_env(environ: Mapping[str, str], origin: str) -> dict[str, Any]:
    """Return `XBLOCK_SETTINGS["ai_tutor"]["oidc"]` for the workbench."""
    return {"mode": environ.get("AI_TUTOR_OIDC_MODE", "off")}
