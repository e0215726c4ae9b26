"""Operator settings for the identity gate: `XBLOCK_SETTINGS["ai_tutor"]["oidc"]`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

MODES = ("off", "optional", "required")

# Only asymmetric signatures: a symmetric algorithm would let anyone holding the provider's
# public key text (which is public) forge tokens, and `none` signs nothing at all.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

MAX_LEEWAY_SECONDS = 300

WELL_KNOWN_PATH = "/.well-known/openid-configuration"

DEFAULT_CLAIMS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "given_name": ("given_name",),
    "family_name": ("family_name",),
    # B2C puts the address in an `emails` array and often sends no `email`.
    "email": ("email", "emails"),
    "roles": ("roles",),
}

DEFAULT_LOGIN_URL = "/auth/login/{backend}/?auth_entry=login&next={next}"


@dataclass(frozen=True)
class OidcSettings:
    """Parsed, defaulted and bounded identity settings; the README section "Learner identity" documents each key."""

    mode: str = "off"
    discovery_url: str = ""
    issuers: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ("RS256",)
    leeway_seconds: int = 60
    tenant_id: str = ""
    policy: str = ""
    claims: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_CLAIMS))
    role_labels: Mapping[str, str] = field(default_factory=dict)
    jwks_ttl_seconds: int = 3600
    jwks_refetch_cooldown_seconds: int = 60
    http_timeout_seconds: float = 5.0
    social_auth_backend: str = "azuread-b2c-oauth2"
    social_auth_uid_claim: str = "sub"
    refresh_expired_tokens: bool = True
    accept_bearer_header: bool = False
    send_email_to_provider: bool = False
    login_url: str = DEFAULT_LOGIN_URL

    @property
    def cache_key(self) -> tuple[str, int, int, float]:
        """What the shared key cache is keyed by: one cache per provider configuration."""
        return (
            self.discovery_url,
            self.jwks_ttl_seconds,
            self.jwks_refetch_cooldown_seconds,
            self.http_timeout_seconds,
        )


def load_oidc_settings(raw: Mapping[str, Any] | None) -> OidcSettings:
    """Build `OidcSettings` from the operator's mapping, failing closed on nonsense.

    An unknown mode is treated as `required`; disallowed algorithms are dropped (leaving
    possibly none, so every token is refused); the leeway is clamped to 0..300 seconds.
    """
    raw = raw or {}

    mode = str(raw.get("mode") or "off").strip().lower()
    if mode not in MODES:
        log.error("Unknown oidc mode %r: treating it as 'required'", mode)
        mode = "required"

    discovery_url = str(raw.get("discovery_url") or "").strip()
    issuer = str(raw.get("issuer") or "").strip()
    if not discovery_url and issuer:
        discovery_url = issuer.rstrip("/") + WELL_KNOWN_PATH

    algorithms = _string_tuple(raw.get("algorithms")) or ("RS256",)
    refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
    if refused:
        log.error("Refusing oidc algorithms %s: only asymmetric signatures are accepted", refused)
    algorithms = tuple(name for name in algorithms if name in ASYMMETRIC_ALGORITHMS)

    claims = dict(DEFAULT_CLAIMS)
    for name, claim_names in dict(raw.get("claims") or {}).items():
        if name in claims:
            claims[name] = _string_tuple(claim_names)

    return OidcSettings(
        mode=mode,
        discovery_url=discovery_url,
        issuers=_string_tuple(raw.get("issuers")),
        audiences=_string_tuple(raw.get("audience")),
        algorithms=algorithms,
        leeway_seconds=_bounded_int(raw.get("leeway_seconds"), 60, 0, MAX_LEEWAY_SECONDS),
        tenant_id=str(raw.get("tenant_id") or "").strip(),
        policy=str(raw.get("policy") or "").strip(),
        claims=claims,
        role_labels={str(k): str(v) for k, v in dict(raw.get("role_labels") or {}).items()},
        jwks_ttl_seconds=_bounded_int(raw.get("jwks_ttl_seconds"), 3600, 60, 7 * 24 * 3600),
        jwks_refetch_cooldown_seconds=_bounded_int(
            raw.get("jwks_refetch_cooldown_seconds"), 60, 1, 3600
        ),
        http_timeout_seconds=_bounded_float(raw.get("http_timeout_seconds"), 5.0, 0.5, 30.0),
        social_auth_backend=str(raw.get("social_auth_backend") or "azuread-b2c-oauth2"),
        social_auth_uid_claim=str(raw.get("social_auth_uid_claim") or "sub"),
        refresh_expired_tokens=_flag(raw.get("refresh_expired_tokens"), True),
        accept_bearer_header=_flag(raw.get("accept_bearer_header"), False),
        send_email_to_provider=_flag(raw.get("send_email_to_provider"), False),
        login_url=str(raw.get("login_url") or DEFAULT_LOGIN_URL),
    )


def _string_tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(item).strip() for item in value if str(item).strip())


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _bounded_int(value: Any, default: int, lowest: int, highest: int) -> int:
    try:
        number = int(value) if value is not None else default
    except (TypeError, ValueError):
        log.error("Invalid oidc setting %r: using %s", value, default)
        number = default
    return max(lowest, min(highest, number))


def _bounded_float(value: Any, default: float, lowest: float, highest: float) -> float:
    try:
        number = float(value) if value is not None else default
    except (TypeError, ValueError):
        log.error("Invalid oidc setting %r: using %s", value, default)
        number = default
    return max(lowest, min(highest, number))
