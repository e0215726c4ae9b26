"""The workbench's development identity provider, its token service and its env settings."""

from __future__ import annotations

from types import SimpleNamespace

import jwt
from django.test import Client, override_settings

from ai_tutor.identity import load_oidc_settings
from ai_tutor.workbench import dev_idp
from ai_tutor.workbench.oidc_env import (
    DEV_CLIENT_ID,
    DEV_POLICY,
    DEV_TENANT_ID,
    dev_discovery_url,
    dev_issuer,
    oidc_settings_from_env,
)

ORIGIN = "http://127.0.0.1:8123"


def block_for(student: str) -> SimpleNamespace:
    return SimpleNamespace(scope_ids=SimpleNamespace(user_id=student))


def dev_settings(**oidc: object) -> override_settings:
    configured = oidc or oidc_settings_from_env({}, ORIGIN)
    return override_settings(
        AI_TUTOR_WORKBENCH_ORIGIN=ORIGIN, XBLOCK_SETTINGS={"ai_tutor": {"oidc": configured}}
    )


def test_default_workbench_settings_require_a_token_from_the_dev_provider() -> None:
    settings = oidc_settings_from_env({}, ORIGIN)

    assert settings == {
        "mode": "required",
        "discovery_url": (
            f"{ORIGIN}/dev-idp/aitutordev.onmicrosoft.com/{DEV_POLICY}/v2.0/"
            ".well-known/openid-configuration"
        ),
        "audience": DEV_CLIENT_ID,
        "policy": DEV_POLICY,
        "accept_bearer_header": True,
    }
    assert load_oidc_settings(settings).mode == "required"


def test_environment_overrides_replace_the_dev_provider() -> None:
    environ = {
        "AI_TUTOR_OIDC_MODE": "optional",
        "AI_TUTOR_OIDC_DISCOVERY_URL": "http://127.0.0.1:9999/t/v2.0/.well-known/openid-configuration",
        "AI_TUTOR_OIDC_ISSUERS": "https://a.example/ , https://b.example/",
        "AI_TUTOR_OIDC_AUDIENCE": "client-1",
        "AI_TUTOR_OIDC_ACCEPT_BEARER": "0",
    }

    settings = oidc_settings_from_env(environ, ORIGIN)

    assert settings == {
        "mode": "optional",
        "discovery_url": "http://127.0.0.1:9999/t/v2.0/.well-known/openid-configuration",
        "issuers": ["https://a.example/", "https://b.example/"],
        "audience": ["client-1"],
        "accept_bearer_header": False,
    }
    assert oidc_settings_from_env({"AI_TUTOR_OIDC_ACCEPT_BEARER": "true"}, ORIGIN)[
        "accept_bearer_header"
    ]


def test_discovery_and_keys_are_served_under_a_b2c_shaped_path() -> None:
    client = Client()
    with dev_settings():
        path = dev_discovery_url(ORIGIN).removeprefix(ORIGIN)
        discovery = client.get(path).json()
        keys = client.get(discovery["jwks_uri"].removeprefix(ORIGIN)).json()["keys"]

    assert discovery["issuer"] == dev_issuer(ORIGIN) == f"{ORIGIN}/dev-idp/{DEV_TENANT_ID}/v2.0/"
    assert [key["kid"] for key in keys] == [dev_idp.SIGNING_KEY.kid()]
    assert "alg" not in keys[0] and "d" not in keys[0]


def test_token_service_mints_a_b2c_like_token_for_the_workbench_student() -> None:
    with dev_settings():
        token = dev_idp.DevIdentityTokenService().get_id_token(block_for("student_1"))

    claims = jwt.decode(
        token,
        dev_idp.SIGNING_KEY.get().public_key(),
        algorithms=["RS256"],
        audience=DEV_CLIENT_ID,
        issuer=dev_issuer(ORIGIN),
    )
    assert claims["given_name"] == "Ada" and claims["emails"] == ["ada@example.org"]
    assert "email" not in claims
    assert claims["roles"] == ["learner"] and claims["tfp"] == DEV_POLICY
    assert claims["sub"] == dev_idp.subject_for("student_1") != dev_idp.subject_for("student_2")
    assert claims["exp"] - claims["iat"] == 3600


def test_every_student_but_a_signed_out_one_has_an_account() -> None:
    with dev_settings():
        service = dev_idp.DevIdentityTokenService()
        other = jwt.decode(
            service.get_id_token(block_for("learner_a")), options={"verify_signature": False}
        )
        signed_out = service.get_id_token(block_for("signed_out_1"))

    assert other["name"] == "learner a" and other["emails"] == ["learner_a@example.org"]
    assert signed_out is None


def test_token_service_steps_aside_when_another_provider_is_configured() -> None:
    elsewhere = {"mode": "required", "discovery_url": "https://login.example.org/.well-known/x"}
    with dev_settings(**elsewhere):
        assert dev_idp.DevIdentityTokenService().get_id_token(block_for("student_1")) is None
