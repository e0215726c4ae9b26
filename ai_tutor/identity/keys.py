"""The provider's discovery document and signing keys, cached per process.

One `ProviderKeys` per provider configuration is shared by every block instance in the
process. Keys are fetched once and reused; they are refreshed after the TTL; an unknown
`kid` triggers at most one re-fetch per cooldown, so forged `kid`s cannot cause a fetch
storm; when a refresh fails the last good key set stays in use.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from .model import IdentityError, Reason
from .settings import OidcSettings

log = logging.getLogger(__name__)

PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)

MAX_DOCUMENT_BYTES = 512 * 1024

# After a failed fetch with nothing cached yet, wait this long before trying again.
FAILURE_BACKOFF_SECONDS = 10.0

_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}


def _now() -> float:
    """Monotonic clock for cache ages (replaced in tests)."""
    return time.monotonic()


@dataclass(frozen=True)
class SigningKey:
    """One public verification key from the provider's JWKS."""

    kid: str | None
    key: PublicKey
    alg: str | None

    def fits(self, alg: str) -> bool:
        """Whether this key can verify a signature made with `alg`."""
        if self.alg and self.alg != alg:
            return False
        if alg.startswith(("RS", "PS")):
            return isinstance(self.key, rsa.RSAPublicKey)
        if alg in _EC_CURVES:
            return (
                isinstance(self.key, ec.EllipticCurvePublicKey)
                and self.key.curve.name == _EC_CURVES[alg]
            )
        if alg == "EdDSA":
            return isinstance(self.key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey))
        return False


def is_allowed_url(url: str) -> bool:
    """HTTPS anywhere; plain HTTP only to a loopback host, for local testing."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def fetch_json(url: str, timeout: float) -> dict[str, Any]:
    """GET a JSON object without following redirects; any failure is `provider_unreachable`."""
    if not is_allowed_url(url):
        raise IdentityError(Reason.MISCONFIGURED, f"refusing non-HTTPS provider URL {url}")

    try:
        with requests.get(url, timeout=timeout, allow_redirects=False, stream=True) as response:
            if response.status_code != 200:
                raise IdentityError(
                    Reason.PROVIDER_UNREACHABLE, f"{url} answered HTTP {response.status_code}"
                )
            body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
    except requests.RequestException as error:
        raise IdentityError(Reason.PROVIDER_UNREACHABLE, f"{url}: {type(error).__name__}") from None

    if len(body) > MAX_DOCUMENT_BYTES:
        raise IdentityError(Reason.PROVIDER_UNREACHABLE, f"{url} answered an oversized document")
    try:
        document = json.loads(body)
    except ValueError:
        raise IdentityError(Reason.PROVIDER_UNREACHABLE, f"{url} answered invalid JSON") from None
    if not isinstance(document, dict):
        raise IdentityError(Reason.PROVIDER_UNREACHABLE, f"{url} answered a non-object")
    return document


_JWK_LOADERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "RSA": RSAAlgorithm.from_jwk,
    "EC": ECAlgorithm.from_jwk,
    "OKP": OKPAlgorithm.from_jwk,
}


def parse_jwks(document: dict[str, Any]) -> dict[str | None, SigningKey]:
    """Signing keys by `kid`; encryption keys, symmetric keys and private keys are skipped."""
    keys: dict[str | None, SigningKey] = {}
    for jwk in document.get("keys") or []:
        if not isinstance(jwk, dict):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        if "key_ops" in jwk and "verify" not in (jwk.get("key_ops") or []):
            continue
        if "d" in jwk:
            log.error("The provider's JWKS publishes private key material; key skipped")
            continue

        loader = _JWK_LOADERS.get(str(jwk.get("kty")))
        if loader is None:
            continue
        try:
            key = loader(jwk)
        except Exception:  # noqa: BLE001 - one bad key must not hide the others
            log.warning("Skipping an unreadable key in the provider's JWKS")
            continue

        kid = jwk.get("kid") if isinstance(jwk.get("kid"), str) else None
        alg = jwk.get("alg") if isinstance(jwk.get("alg"), str) else None
        keys[kid] = SigningKey(kid=kid, key=key, alg=alg)  # type: ignore[arg-type]
    return keys


class ProviderKeys:
    """Discovery document and key set of one provider, shared by all blocks in the process."""

    def __init__(self, settings: OidcSettings) -> None:
        self._discovery_url = settings.discovery_url
        self._ttl = settings.jwks_ttl_seconds
        self._cooldown = settings.jwks_refetch_cooldown_seconds
        self._timeout = settings.http_timeout_seconds
        self._lock = threading.Lock()

        self._issuer: str | None = None
        self._jwks_uri: str | None = None
        self._keys: dict[str | None, SigningKey] | None = None
        self._expires_at = 0.0
        self._next_attempt_at = float("-inf")
        self._last_unknown_kid_fetch = float("-inf")

    def issuer(self) -> str:
        """The issuer the discovery document declares."""
        with self._lock:
            self._ensure_fresh(_now())
            assert self._issuer is not None
            return self._issuer

    def key_for(self, kid: str | None, alg: str) -> SigningKey:
        """The key to verify a token whose header names `kid` and `alg`."""
        with self._lock:
            now = _now()
            just_loaded = self._ensure_fresh(now)
            key = self._find(kid, alg)
            if key is not None:
                return key

            if just_loaded or now - self._last_unknown_kid_fetch < self._cooldown:
                raise IdentityError(Reason.UNKNOWN_KEY, "unknown kid; re-fetch in cooldown")
            self._last_unknown_kid_fetch = now
            log.info("Unknown signing key id: re-fetching the provider's JWKS")
            try:
                self._load_keys(now)
            except IdentityError as error:
                log.warning("JWKS re-fetch failed (%s); keeping the last good key set", error)

            key = self._find(kid, alg)
            if key is None:
                raise IdentityError(Reason.UNKNOWN_KEY, "kid not in the provider's JWKS")
            return key

    def _find(self, kid: str | None, alg: str) -> SigningKey | None:
        assert self._keys is not None
        if kid is None:
            # Without a kid, only an unambiguous key set can be used.
            fitting = [key for key in self._keys.values() if key.fits(alg)]
            return fitting[0] if len(fitting) == 1 else None
        return self._keys.get(kid)

    def _ensure_fresh(self, now: float) -> bool:
        """Load or refresh when due; True when the key set was fetched just now."""
        if self._keys is not None and now < self._expires_at:
            return False
        if now < self._next_attempt_at:
            if self._keys is None:
                raise IdentityError(Reason.PROVIDER_UNREACHABLE, "waiting before retrying")
            return False

        try:
            self._load_discovery()
            self._load_keys(now)
        except IdentityError as error:
            if self._keys is None:
                self._next_attempt_at = now + FAILURE_BACKOFF_SECONDS
                raise
            self._next_attempt_at = now + self._cooldown
            log.warning(
                "Refreshing the provider's keys failed (%s); keeping the last good key set",
                error.reason.value,
            )
            return False
        return True

    def _load_discovery(self) -> None:
        if not self._discovery_url:
            raise IdentityError(Reason.MISCONFIGURED, "no discovery_url or issuer configured")
        document = fetch_json(self._discovery_url, self._timeout)

        issuer = document.get("issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
            raise IdentityError(
                Reason.PROVIDER_UNREACHABLE, "discovery document lacks issuer or jwks_uri"
            )
        self._issuer = issuer
        self._jwks_uri = jwks_uri

    def _load_keys(self, now: float) -> None:
        assert self._jwks_uri is not None
        keys = parse_jwks(fetch_json(self._jwks_uri, self._timeout))
        if not keys:
            raise IdentityError(Reason.PROVIDER_UNREACHABLE, "the JWKS holds no signing key")
        self._keys = keys
        self._expires_at = now + self._ttl
        log.debug("Loaded %s signing keys from the provider", len(keys))


_CACHE: dict[tuple[Any, ...], ProviderKeys] = {}
_CACHE_LOCK = threading.Lock()


def provider_keys(settings: OidcSettings) -> ProviderKeys:
    """The process-wide key cache for this provider configuration."""
    with _CACHE_LOCK:
        keys = _CACHE.get(settings.cache_key)
        if keys is None:
            keys = _CACHE[settings.cache_key] = ProviderKeys(settings)
        return keys


def clear_cache() -> None:
    """Forget every cached provider (tests, and after a configuration change)."""
    with _CACHE_LOCK:
        _CACHE.clear()
