"""Sign-in through the organisation's identity provider, derived from the AI_TUTOR_* config.

One function reads the tenant, policy and client id and produces both the social-auth
provider record (how learners sign in) and the XBlock's token validation settings (how the
tutor checks their ID token). Both come from the same values, so they cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

SSO_MODES = ("none", "b2c", "external-id", "oidc")

OIDC_MODES = ("off", "optional", "required")

B2C_BACKEND = "azuread-b2c-oauth2"
OIDC_BACKEND = "oidc"

BACKEND_PATHS = {
    B2C_BACKEND: "social_core.backends.azuread_b2c.AzureADB2COAuth2",
    OIDC_BACKEND: "social_core.backends.open_id_connect.OpenIdConnectAuth",
}

DEFAULT_TITLES = {
    "b2c": "Azure AD B2C",
    "external-id": "Microsoft Entra External ID",
    "oidc": "Single sign-on",
}

# Tokens the XBlock reads from UserSocialAuth.extra_data: the ID token it validates and the
# refresh token it uses when that ID token has expired. Both backends keep them already;
# naming them in the record keeps them kept whatever the backend's defaults become.
KEPT_TOKENS = ["id_token", "refresh_token"]

_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$", re.IGNORECASE)
_TENANT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class ConfigurationError(ValueError):
    """The AI_TUTOR_* values cannot configure sign-in. The message names keys, never secrets."""


@dataclasses.dataclass(frozen=True)
class IdentityProvider:
    """What Open edX needs to sign learners in through one social-auth backend.

    `record` holds the fields of edx-platform's `OAuth2ProviderConfig` row (no secret: the
    secret goes to the `SOCIAL_AUTH_OAUTH_SECRETS` setting). `discovery_url` and `issuers`
    are what the XBlock validates the resulting ID tokens against.
    """

    sso: str
    backend_name: str
    backend_path: str
    client_id: str
    other_settings: dict[str, Any]
    discovery_url: str
    issuers: list[str]
    tenant_id: str
    policy: str
    redirect_uri: str
    record: dict[str, Any]


def sso_mode(config: Mapping[str, Any]) -> str:
    mode = str(config.get("AI_TUTOR_SSO") or "none").strip().lower()
    if mode not in SSO_MODES:
        raise ConfigurationError(f"AI_TUTOR_SSO must be one of: {', '.join(SSO_MODES)}")
    return mode


def identity_provider(config: Mapping[str, Any]) -> IdentityProvider | None:
    """The provider that `AI_TUTOR_SSO` selects, or None for `none`.

    Raises `ConfigurationError` when a value the mode needs is missing or malformed.
    """
    mode = sso_mode(config)
    if mode == "none":
        return None

    client_id = _text(config, "AI_TUTOR_OIDC_CLIENT_ID")
    if not client_id:
        raise ConfigurationError(f"AI_TUTOR_SSO={mode} needs AI_TUTOR_OIDC_CLIENT_ID")
    scope = _string_list(config, "AI_TUTOR_SSO_SCOPE")

    tenant_name = tenant_id = policy = ""
    if mode == "b2c":
        tenant_name = _tenant_name(config, mode)
        tenant_id = _tenant_id(config, mode)
        policy = _text(config, "AI_TUTOR_OIDC_POLICY")
        # social-auth's B2C backend refuses a policy that does not start with b2c_.
        if not policy.lower().startswith("b2c_") or not re.fullmatch(r"[A-Za-z0-9_.-]+", policy):
            raise ConfigurationError(
                "AI_TUTOR_SSO=b2c needs AI_TUTOR_OIDC_POLICY, the user flow or custom policy "
                "name (it starts with B2C_)"
            )
        backend_name = B2C_BACKEND
        authority = f"https://{tenant_name}.b2clogin.com/{tenant_name}.onmicrosoft.com/{policy}"
        discovery_url = f"{authority}/v2.0/.well-known/openid-configuration"
        issuers = [f"https://{tenant_name}.b2clogin.com/{tenant_id}/v2.0/"]
        other_settings: dict[str, Any] = {"TENANT_NAME": tenant_name, "POLICY": policy}
    elif mode == "external-id":
        tenant_name = _tenant_name(config, mode)
        tenant_id = _tenant_id(config, mode)
        backend_name = OIDC_BACKEND
        endpoint = f"https://{tenant_name}.ciamlogin.com/{tenant_id}/v2.0"
        discovery_url = f"{endpoint}/.well-known/openid-configuration"
        # External ID's issuer uses the tenant id as host, unlike its discovery URL.
        issuers = [f"https://{tenant_id}.ciamlogin.com/{tenant_id}/v2.0"]
        other_settings = {"OIDC_ENDPOINT": endpoint}
    else:
        endpoint = _text(config, "AI_TUTOR_OIDC_ENDPOINT").rstrip("/")
        if not endpoint.startswith("https://"):
            raise ConfigurationError(
                "AI_TUTOR_SSO=oidc needs AI_TUTOR_OIDC_ENDPOINT, the provider's https issuer URL"
            )
        backend_name = OIDC_BACKEND
        discovery_url = f"{endpoint}/.well-known/openid-configuration"
        # Empty: the XBlock then trusts exactly the issuer of the discovery document.
        issuers = []
        other_settings = {"OIDC_ENDPOINT": endpoint}

    # SCOPE is added to the backend's own default scope (openid email, or openid profile
    # email). offline_access makes the provider issue the refresh token the tutor uses.
    other_settings["SCOPE"] = scope
    other_settings["EXTRA_DATA"] = list(KEPT_TOKENS)

    redirect_uri = f"{_lms_root(config)}/auth/complete/{backend_name}/"
    record = {
        "backend_name": backend_name,
        "slug": backend_name,
        "name": _text(config, "AI_TUTOR_SSO_NAME") or DEFAULT_TITLES[mode],
        "enabled": True,
        "visible": _flag(config, "AI_TUTOR_SSO_VISIBLE", True),
        "key": client_id,
        "other_settings": other_settings,
        "skip_email_verification": _flag(config, "AI_TUTOR_SSO_SKIP_EMAIL_VERIFICATION", True),
        "sync_learner_profile_data": _flag(config, "AI_TUTOR_SSO_SYNC_LEARNER_PROFILE_DATA", True),
        "skip_registration_form": _flag(config, "AI_TUTOR_SSO_SKIP_REGISTRATION_FORM", False),
    }
    return IdentityProvider(
        sso=mode,
        backend_name=backend_name,
        backend_path=BACKEND_PATHS[backend_name],
        client_id=client_id,
        other_settings=other_settings,
        discovery_url=discovery_url,
        issuers=issuers,
        tenant_id=tenant_id,
        policy=policy,
        redirect_uri=redirect_uri,
        record=record,
    )


def oidc_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """`XBLOCK_SETTINGS["ai_tutor"]["oidc"]`: how the XBlock validates the learner's ID token."""
    provider = identity_provider(config)

    mode = _text(config, "AI_TUTOR_OIDC_MODE").lower()
    if not mode:
        mode = "off" if provider is None else "required"
    if mode not in OIDC_MODES:
        raise ConfigurationError(
            f"AI_TUTOR_OIDC_MODE must be empty or one of: {', '.join(OIDC_MODES)}"
        )
    if mode != "off" and provider is None:
        raise ConfigurationError(
            f"AI_TUTOR_OIDC_MODE={mode} needs an identity provider: set AI_TUTOR_SSO"
        )

    algorithms = _string_list(config, "AI_TUTOR_OIDC_ALGORITHMS") or ["RS256"]
    claims = config.get("AI_TUTOR_OIDC_CLAIMS") or {}
    if not isinstance(claims, Mapping):
        raise ConfigurationError("AI_TUTOR_OIDC_CLAIMS must be a mapping")

    return {
        "mode": mode,
        "discovery_url": provider.discovery_url if provider else "",
        "issuers": list(provider.issuers) if provider else [],
        "audience": provider.client_id if provider else "",
        "algorithms": algorithms,
        "leeway_seconds": _number(config, "AI_TUTOR_OIDC_LEEWAY_SECONDS", 60),
        "tenant_id": provider.tenant_id if provider else "",
        "policy": provider.policy if provider else "",
        "claims": dict(claims),
        "jwks_ttl_seconds": _number(config, "AI_TUTOR_OIDC_JWKS_TTL_SECONDS", 3600),
        "http_timeout_seconds": _number(config, "AI_TUTOR_OIDC_HTTP_TIMEOUT_SECONDS", 5),
        "social_auth_backend": provider.backend_name if provider else B2C_BACKEND,
        "accept_bearer_header": _flag(config, "AI_TUTOR_OIDC_ACCEPT_BEARER_HEADER", False),
    }


def _lms_root(config: Mapping[str, Any]) -> str:
    scheme = "https" if _flag(config, "ENABLE_HTTPS", False) else "http"
    return f"{scheme}://{config.get('LMS_HOST', 'local.openedx.io')}"


def _tenant_name(config: Mapping[str, Any], mode: str) -> str:
    name = _text(config, "AI_TUTOR_OIDC_TENANT_NAME")
    if not _TENANT_NAME.match(name):
        host = "b2clogin.com" if mode == "b2c" else "ciamlogin.com"
        raise ConfigurationError(
            f"AI_TUTOR_SSO={mode} needs AI_TUTOR_OIDC_TENANT_NAME, the tenant's subdomain "
            f"(<name>.{host}), without the domain"
        )
    return name.lower()


def _tenant_id(config: Mapping[str, Any], mode: str) -> str:
    tenant_id = _text(config, "AI_TUTOR_OIDC_TENANT_ID")
    if not _TENANT_ID.match(tenant_id):
        raise ConfigurationError(
            f"AI_TUTOR_SSO={mode} needs AI_TUTOR_OIDC_TENANT_ID, the directory (tenant) id GUID"
        )
    return tenant_id.lower()


def _text(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    return "" if value is None else str(value).strip()


def _flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _number(config: Mapping[str, Any], key: str, default: int) -> int | float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{key} must be a number")
    return value


def _string_list(config: Mapping[str, Any], key: str) -> list[str]:
    value = config.get(key) or []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigurationError(f"{key} must be a list of strings")
    return [item.strip() for item in value if item.strip()]
