"""Validate an OIDC ID token against the provider's published keys (no Django here).

Only the header's `alg` and `kid` are read before the signature is checked; header fields
that point at other keys (`jku`, `x5u`, an embedded `jwk`) are never looked at. Keys reach
PyJWT as key objects, never as strings, and only asymmetric algorithms are accepted, which
keeps the algorithm-confusion attacks out on every PyJWT release the project supports.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jwt

from .keys import ProviderKeys, provider_keys
from .model import Identity, IdentityError, Reason
from .settings import OidcSettings

log = logging.getLogger(__name__)

REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]

MAX_TOKEN_CHARS = 16 * 1024
MAX_TEXT_CHARS = 200
MAX_ROLES = 20


def validate_id_token(
    token: str,
    settings: OidcSettings,
    *,
    keys: ProviderKeys | None = None,
    allow_expired: bool = False,
) -> Identity:
    """Return the identity the token proves, or raise `IdentityError` with a reason code.

    `allow_expired` still checks everything else, signature included; the social-auth path
    uses it to learn whose expired token it is about to refresh.
    """
    try:
        return _validate(token, settings, keys or provider_keys(settings), allow_expired)
    except IdentityError as error:
        if error.issuer is None:
            error.issuer = _unverified_issuer(token)
        _log_refusal(error, settings)
        raise


def _validate(
    token: str, settings: OidcSettings, keys: ProviderKeys, allow_expired: bool
) -> Identity:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise IdentityError(Reason.MALFORMED, "not a compact JWT")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdentityError(Reason.MALFORMED, "unreadable JWT header") from None

    alg = header.get("alg")
    kid = header.get("kid")
    if not isinstance(alg, str) or (kid is not None and not isinstance(kid, str)):
        raise IdentityError(Reason.MALFORMED, "header alg or kid of the wrong type")
    if alg not in settings.algorithms:
        raise IdentityError(Reason.DISALLOWED_ALGORITHM, f"alg {alg!r} is not allowed")

    key = keys.key_for(kid, alg)
    if not key.fits(alg):
        raise IdentityError(Reason.BAD_SIGNATURE, f"key {kid!r} cannot verify {alg}")

    claims = _decode(token, key.key, alg, settings, allow_expired)

    issuer = claims["iss"]
    expected_issuers = settings.issuers or (keys.issuer(),)
    if issuer not in expected_issuers:
        raise IdentityError(
            Reason.WRONG_ISSUER,
            f"token issuer {issuer!r} is not the expected {', '.join(expected_issuers)!r}",
            issuer=issuer,
        )

    _check_authorized_party(claims, settings)
    _check_issued_at(claims, settings)
    _check_tenant_and_policy(claims, settings)
    return _identity_from(claims, settings)


def _decode(
    token: str, key: Any, alg: str, settings: OidcSettings, allow_expired: bool
) -> dict[str, Any]:
    if not settings.audiences:
        raise IdentityError(Reason.MISCONFIGURED, "no audience (client id) configured")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=list(settings.audiences),
            leeway=settings.leeway_seconds,
            options={"require": REQUIRED_CLAIMS, "verify_exp": not allow_expired},
        )
    except jwt.ExpiredSignatureError:
        raise IdentityError(Reason.EXPIRED, "exp is past, beyond the leeway") from None
    except jwt.ImmatureSignatureError:
        raise IdentityError(Reason.NOT_YET_VALID, "nbf or iat is in the future") from None
    except jwt.InvalidSignatureError:
        raise IdentityError(Reason.BAD_SIGNATURE, "signature does not verify") from None
    except jwt.InvalidAudienceError:
        raise IdentityError(Reason.WRONG_AUDIENCE, "aud is not the client id") from None
    except jwt.PyJWTError as error:
        raise IdentityError(Reason.MALFORMED, type(error).__name__) from None
    except (TypeError, ValueError) as error:
        raise IdentityError(Reason.MALFORMED, type(error).__name__) from None

    for name in ("iss", "sub"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise IdentityError(Reason.MALFORMED, f"{name} is not a string")
    return claims


def _check_authorized_party(claims: Mapping[str, Any], settings: OidcSettings) -> None:
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1:
        if claims.get("azp") not in settings.audiences:
            raise IdentityError(
                Reason.WRONG_AUDIENCE, "several audiences and azp is not the client id"
            )


def _check_issued_at(claims: Mapping[str, Any], settings: OidcSettings) -> None:
    # Not every PyJWT release refuses an `iat` in the future; do it here for all of them.
    issued_at = claims["iat"]
    if not isinstance(issued_at, (int, float)) or isinstance(issued_at, bool):
        raise IdentityError(Reason.MALFORMED, "iat is not a number")
    if issued_at > time.time() + settings.leeway_seconds:
        raise IdentityError(Reason.NOT_YET_VALID, "iat is in the future")


def _check_tenant_and_policy(claims: Mapping[str, Any], settings: OidcSettings) -> None:
    if settings.tenant_id:
        # Entra puts the tenant in `tid`; B2C only in the issuer path.
        tenant = claims.get("tid") or _first_path_segment(claims["iss"])
        if str(tenant).lower() != settings.tenant_id.lower():
            raise IdentityError(
                Reason.WRONG_ISSUER,
                f"tenant {tenant!r} is not {settings.tenant_id!r}",
                issuer=claims["iss"],
            )
    if settings.policy:
        # B2C names the user flow or custom policy in `tfp` (or `acr`), in any letter case.
        policy = claims.get("tfp") or claims.get("acr") or ""
        if str(policy).lower() != settings.policy.lower():
            raise IdentityError(
                Reason.WRONG_POLICY,
                f"policy {policy!r} is not {settings.policy!r}",
                issuer=claims["iss"],
            )


def _first_path_segment(url: str) -> str:
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    return segments[0] if segments else ""


def _identity_from(claims: Mapping[str, Any], settings: OidcSettings) -> Identity:
    def first(name: str) -> str | None:
        for claim in settings.claims.get(name, ()):
            value = claims.get(claim)
            if isinstance(value, list):
                value = next((item for item in value if isinstance(item, str) and item), None)
            if isinstance(value, str) and value.strip():
                return _clean(value)
        return None

    return Identity(
        issuer=claims["iss"],
        subject=claims["sub"],
        object_id=_clean(claims["oid"]) if isinstance(claims.get("oid"), str) else None,
        tenant_id=_clean(claims["tid"]) if isinstance(claims.get("tid"), str) else None,
        name=first("name"),
        given_name=first("given_name"),
        family_name=first("family_name"),
        email=first("email"),
        roles=_roles(claims, settings),
    )


def _roles(claims: Mapping[str, Any], settings: OidcSettings) -> tuple[str, ...]:
    found: list[str] = []
    for claim in settings.claims.get("roles", ()):
        value = claims.get(claim)
        if isinstance(value, str):
            # B2C custom attributes carry several roles as one comma-separated string.
            value = value.split(",")
        if isinstance(value, list):
            found.extend(item.strip() for item in value if isinstance(item, str) and item.strip())

    if settings.role_labels:
        found = [settings.role_labels[role] for role in found if role in settings.role_labels]
    unique = dict.fromkeys(_clean(role) for role in found)
    return tuple(role for role in unique if role)[:MAX_ROLES]


def _clean(text: str) -> str:
    """Printable, single-line and short: these values end up in a prompt."""
    printable = "".join(char if unicodedata.category(char)[0] != "C" else " " for char in text)
    return " ".join(printable.split())[:MAX_TEXT_CHARS]


def _unverified_issuer(token: Any) -> str | None:
    """The token's claimed issuer, for the log line only; never trusted."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except Exception:  # noqa: BLE001 - a malformed token simply has no issuer to log
        return None
    return issuer[:MAX_TEXT_CHARS] if isinstance(issuer, str) else None


def _log_refusal(error: IdentityError, settings: OidcSettings) -> None:
    level = logging.INFO if error.reason is Reason.EXPIRED else logging.WARNING
    # The detail names only issuers, tenants and policies for these reasons, never a person.
    detail = error.detail if error.reason in (Reason.WRONG_ISSUER, Reason.WRONG_POLICY) else ""
    log.log(
        level,
        "ID token refused: reason=%s issuer=%r provider=%s %s",
        error.reason.value,
        error.issuer,
        settings.discovery_url,
        detail,
    )
