"""OIDC settings for the workbench, built from environment variables.

By default the workbench requires a token from its own development identity provider
(`ai_tutor.workbench.dev_idp`), which it serves under a B2C-shaped path on its own origin.
`AI_TUTOR_OIDC_DISCOVERY_URL` points it at any other provider instead. No Django here: the
settings module imports this before Django is set up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The development provider's fixed coordinates, shaped like an Azure AD B2C tenant.
DEV_TENANT_NAME = "aitutordev"
DEV_TENANT_ID = "2c4f1d7e-8b3a-4e5f-9a6c-1d2e3f4a5b6c"
DEV_POLICY = "B2C_1_workbench_signin"
DEV_CLIENT_ID = "7e3b9a1c-5d2f-4b8e-a6c4-0f1e2d3c4b5a"
DEV_PREFIX = "dev-idp"


def dev_policy_path() -> str:
    """Path of the user flow below the dev IdP's prefix, as B2C lays it out."""
    return f"{DEV_TENANT_NAME}.onmicrosoft.com/{DEV_POLICY}"


def dev_discovery_url(origin: str) -> str:
    base = f"{origin.rstrip('/')}/{DEV_PREFIX}/{dev_policy_path()}"
    return f"{base}/v2.0/.well-known/openid-configuration"


def dev_issuer(origin: str) -> str:
    """B2C-shaped: the tenant id in the path and a trailing slash."""
    return f"{origin.rstrip('/')}/{DEV_PREFIX}/{DEV_TENANT_ID}/v2.0/"


def oidc_settings_from_env(environ: Mapping[str, str], origin: str) -> dict[str, Any]:
    """Return `XBLOCK_SETTINGS["ai_tutor"]["oidc"]` for the workbench.

    Default: mode `required` against the development provider, bearer header accepted.
    `AI_TUTOR_OIDC_DISCOVERY_URL` replaces the development provider; `AI_TUTOR_OIDC_MODE`,
    `AI_TUTOR_OIDC_ISSUERS` (comma-separated), `AI_TUTOR_OIDC_AUDIENCE` (comma-separated)
    and `AI_TUTOR_OIDC_ACCEPT_BEARER` (`1`/`true`, anything else turns it off) override.
    """
    discovery_url = environ.get("AI_TUTOR_OIDC_DISCOVERY_URL", "").strip()
    settings: dict[str, Any]
    if discovery_url:
        settings = {"mode": "required", "discovery_url": discovery_url}
    else:
        settings = {
            "mode": "required",
            "discovery_url": dev_discovery_url(origin),
            "audience": DEV_CLIENT_ID,
            "policy": DEV_POLICY,
        }
    settings["accept_bearer_header"] = True

    mode = environ.get("AI_TUTOR_OIDC_MODE", "").strip().lower()
    if mode:
        settings["mode"] = mode
    issuers = _comma_list(environ.get("AI_TUTOR_OIDC_ISSUERS", ""))
    if issuers:
        settings["issuers"] = issuers
    audience = _comma_list(environ.get("AI_TUTOR_OIDC_AUDIENCE", ""))
    if audience:
        settings["audience"] = audience
    accept_bearer = environ.get("AI_TUTOR_OIDC_ACCEPT_BEARER", "").strip().lower()
    if accept_bearer:
        settings["accept_bearer_header"] = accept_bearer in ("1", "true")
    return settings


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
