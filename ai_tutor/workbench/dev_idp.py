"""A development identity provider served by the workbench, and the token service using it.

It stands in for an Azure AD B2C user flow: discovery and JWKS under the B2C path layout on
the workbench's own origin, an issuer carrying a tenant id and a trailing slash, an `emails`
array instead of `email`, keys published without `alg`. The tutor's validator reaches it
over HTTP exactly as it reaches a real provider. For the workbench only, never in the LMS.

Include it with `path("dev-idp/", include("ai_tutor.workbench.dev_idp"))`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from jwt.algorithms import RSAAlgorithm

from ai_tutor.workbench.oidc_env import (
    DEV_CLIENT_ID,
    DEV_POLICY,
    DEV_PREFIX,
    dev_discovery_url,
    dev_issuer,
    dev_policy_path,
)

log = logging.getLogger(__name__)

TOKEN_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class DevLearner:
    given_name: str | None
    family_name: str | None
    name: str
    email: str
    roles: tuple[str, ...]


# Named workbench students with a full profile; any other student gets a plain one.
DIRECTORY: dict[str, DevLearner] = {
    "student_1": DevLearner("Ada", "Lovelace", "Ada Lovelace", "ada@example.org", ("learner",)),
    "student_2": DevLearner(
        "Grace", "Hopper", "Grace Hopper", "grace@example.org", ("learner", "teaching_assistant")
    ),
    "student_3": DevLearner(None, None, "Alan T.", "alan@example.org", ()),
}

# Students whose id starts with this have no account: the way to see the tutor refuse.
SIGNED_OUT_PREFIX = "signed_out"


def learner_for(student_id: str) -> DevLearner | None:
    """The development provider's account for a workbench student, if they have one."""
    if not student_id or student_id.startswith(SIGNED_OUT_PREFIX):
        return None
    if student_id in DIRECTORY:
        return DIRECTORY[student_id]
    return DevLearner(None, None, student_id.replace("_", " "), f"{student_id}@example.org", ())


def workbench_origin() -> str:
    return str(getattr(settings, "AI_TUTOR_WORKBENCH_ORIGIN", "http://127.0.0.1:8000")).rstrip("/")


class _SigningKey:
    """One RSA key per process, made on first use; tokens and JWKS both come from it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None

    def get(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def kid(self) -> str:
        modulus = self.get().public_key().public_numbers().n.to_bytes(256, "big")
        return base64.urlsafe_b64encode(hashlib.sha256(modulus).digest()[:12]).decode()

    def public_jwk(self) -> dict[str, Any]:
        # Published without `alg`, as Microsoft's key sets often are.
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.get().public_key()))
        jwk.update({"kid": self.kid(), "use": "sig"})
        return jwk


SIGNING_KEY = _SigningKey()


def subject_for(student_id: str) -> str:
    """A stable B2C-style object id for a workbench student."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ai-tutor-dev-idp:{student_id}"))


def mint_id_token(student_id: str, *, lifetime: int = TOKEN_LIFETIME_SECONDS) -> str | None:
    """An ID token for a workbench student; None for a signed-out one."""
    learner = learner_for(student_id)
    if learner is None:
        return None

    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": dev_issuer(workbench_origin()),
        "aud": DEV_CLIENT_ID,
        "sub": subject_for(student_id),
        "oid": subject_for(student_id),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "name": learner.name,
        "emails": [learner.email],
        "roles": list(learner.roles),
        "tfp": DEV_POLICY,
        "ver": "1.0",
    }
    if learner.given_name:
        claims["given_name"] = learner.given_name
    if learner.family_name:
        claims["family_name"] = learner.family_name
    return jwt.encode(
        claims, SIGNING_KEY.get(), algorithm="RS256", headers={"kid": SIGNING_KEY.kid()}
    )


class DevIdentityTokenService:
    """The `ai_tutor_identity_token` service of the workbench: a token for the current student.

    It hands out tokens only while the tutor is configured against the development provider;
    pointed at another provider, the workbench gets its tokens from a bearer header instead.
    """

    def get_id_token(self, block: Any) -> str | None:
        configured = getattr(settings, "XBLOCK_SETTINGS", {}).get("ai_tutor", {}).get("oidc", {})
        if configured.get("discovery_url") != dev_discovery_url(workbench_origin()):
            return None
        return mint_id_token(str(block.scope_ids.user_id))


def discovery(request: HttpRequest) -> JsonResponse:
    origin = workbench_origin()
    base = f"{origin}/{DEV_PREFIX}/{dev_policy_path()}"
    return JsonResponse(
        {
            "issuer": dev_issuer(origin),
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint": f"{origin}/{DEV_PREFIX}/token/",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "name",
                "given_name",
                "family_name",
                "emails",
                "roles",
                "oid",
                "sub",
                "tfp",
            ],
        }
    )


def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"keys": [SIGNING_KEY.public_jwk()]})


def token(request: HttpRequest) -> JsonResponse:
    """`GET dev-idp/token/?student=student_2`: an ID token to send as a bearer header."""
    student_id = request.GET.get("student", "student_1")
    id_token = mint_id_token(student_id)
    if id_token is None:
        return JsonResponse({"error": "signed_out", "student": student_id}, status=404)
    return JsonResponse(
        {"id_token": id_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS}
    )


urlpatterns = [
    path(f"{dev_policy_path()}/v2.0/.well-known/openid-configuration", discovery),
    path(f"{dev_policy_path()}/discovery/v2.0/keys", jwks),
    path("token/", token),
]
