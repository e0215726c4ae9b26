"""A loopback OpenID provider for the tests: discovery + JWKS over real HTTP, tokens minted here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

TENANT_ID = "6f1c3a52-3f0e-4d43-9a6b-0c1f7b2d9e11"
CLIENT_ID = "0b1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey, kid: str, alg: str | None) -> dict[str, Any]:
    """The public JWK of `key`; `alg=None` publishes it without `alg`, as Microsoft does."""
    algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig"})
    if alg:
        jwk["alg"] = alg
    return jwk


def public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(issuer: str, **overrides: Any) -> dict[str, Any]:
    """A B2C-like claim set for a learner, valid now."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": CLIENT_ID,
        "sub": "9a8b7c6d-0000-4000-8000-00000000a11c",
        "oid": "9a8b7c6d-0000-4000-8000-00000000a11c",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": "Alice Example",
        "given_name": "Alice",
        "family_name": "Example",
        "emails": ["alice@example.org"],
        "tfp": "B2C_1_signupsignin",
        "ver": "1.0",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def mint(
    key: PrivateKey,
    claims: Mapping[str, Any],
    *,
    kid: str | None,
    alg: str = "RS256",
    headers: Mapping[str, Any] | None = None,
) -> str:
    extra = dict(headers or {})
    if kid is not None:
        extra["kid"] = kid
    return jwt.encode(dict(claims), key, algorithm=alg, headers=extra)


def unsigned_token(claims: Mapping[str, Any]) -> str:
    """`alg: none`, built by hand so no library gets a say."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(dict(claims)).encode())}."


def hs256_with_secret(claims: Mapping[str, Any], secret: bytes, kid: str) -> str:
    """HS256 signed with `secret`: the classic algorithm-confusion forgery, built by hand."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(dict(claims)).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def tamper(token: str) -> str:
    """The same token with one claim changed and the signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


class LoopbackProvider:
    """Serves JSON documents at paths on 127.0.0.1 and counts every request per path."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, Any, dict[str, str]]] = {}
        self.hits: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, path: str, document: Any, status: int = 200, **headers: str) -> str:
        self.routes[path] = (status, document, headers)
        return self.origin + path

    def add_b2c_policy(
        self,
        policy: str,
        jwks: list[dict[str, Any]],
        *,
        tenant: str = "contoso",
        issuer: str | None = None,
        host_style: str = "b2clogin",
    ) -> tuple[str, str]:
        """A B2C user flow or custom policy: (discovery URL, issuer)."""
        base = f"/{tenant}.onmicrosoft.com/{policy}"
        issuer = issuer or f"https://{tenant}.b2clogin.com/{TENANT_ID}/v2.0/"
        jwks_url = self.serve(f"{base}/discovery/v2.0/keys", {"keys": jwks})
        discovery = self.serve(
            f"{base}/v2.0/.well-known/openid-configuration",
            {
                "issuer": issuer,
                "jwks_uri": jwks_url,
                "id_token_signing_alg_values_supported": ["RS256"],
            },
        )
        return discovery, issuer

    def jwks_path(self, discovery_url: str) -> str:
        path = discovery_url.removeprefix(self.origin)
        return self.routes[path][1]["jwks_uri"].removeprefix(self.origin)

    def set_jwks(self, discovery_url: str, jwks: list[dict[str, Any]], status: int = 200) -> None:
        self.routes[self.jwks_path(discovery_url)] = (status, {"keys": jwks}, {})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                provider.hits[self.path] += 1
                status, document, headers = provider.routes.get(self.path, (404, {}, {}))
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[LoopbackProvider]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
