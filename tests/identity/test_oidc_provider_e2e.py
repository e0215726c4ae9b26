"""End to end against an independent, real OpenID provider (npm `oidc-provider`) on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_tutor.identity import IdentityError, Reason, load_oidc_settings, validate_id_token
from tests.workbench_server import free_port, running_workbench

from .oidc_provider import CLIENT_ID, TENANT_ID, LoopbackOpenIdProvider, missing_harness_reason
from .oidc_provider import running_provider as start_provider
from .provider import tamper
from .workbench_client import open_tutor

pytestmark = pytest.mark.skipif(
    missing_harness_reason() is not None, reason=str(missing_harness_reason())
)

QUESTION = "Which pigment makes chloroplasts green?"


@pytest.fixture(scope="module")
def openid_provider() -> Iterator[LoopbackOpenIdProvider]:
    with start_provider(free_port()) as provider:
        yield provider


def test_a_real_provider_token_validates_and_a_tampered_copy_does_not(openid_provider) -> None:
    settings = load_oidc_settings(
        {"mode": "required", "discovery_url": openid_provider.discovery_url, "audience": CLIENT_ID}
    )
    token = openid_provider.sign_in("ada")

    identity = validate_id_token(token, settings)

    assert identity.issuer.endswith(f"/{TENANT_ID}/v2.0/")
    assert (identity.subject, identity.given_name) == ("ada", "Ada")
    assert identity.email == "ada@example.org"
    with pytest.raises(IdentityError) as caught:
        validate_id_token(tamper(token), settings)
    assert caught.value.reason is Reason.BAD_SIGNATURE


@pytest.fixture(scope="module")
def workbench(openid_provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "AI_TUTOR_OIDC_DISCOVERY_URL": openid_provider.discovery_url,
        "AI_TUTOR_OIDC_AUDIENCE": CLIENT_ID,
    }
    with running_workbench(tmp_path_factory.mktemp("oidc-workbench"), env) as base:
        yield base


def test_the_workbench_pointed_at_the_provider_answers_its_token_only(
    openid_provider, workbench
) -> None:
    tutor = open_tutor(workbench, "student_1")
    token = openid_provider.sign_in("grace")

    without = tutor.ask(QUESTION)
    assert without.status_code == 401, "the development provider must step aside"
    assert without.json()["error"]["code"] == "identity_missing_token"

    tampered = tutor.ask(QUESTION, bearer=tamper(token))
    assert tampered.status_code == 401
    assert tampered.json()["error"]["code"] == "identity_bad_signature"
    assert QUESTION not in tutor.reload()

    answered = tutor.ask(QUESTION, bearer=token)
    assert answered.status_code == 200, answered.text
