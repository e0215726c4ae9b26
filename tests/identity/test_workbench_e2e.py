"""The workbench, live, against its own development identity provider over real HTTP."""

from __future__ import annotations

import pytest
import requests

from ai_tutor.workbench.oidc_env import DEV_CLIENT_ID, DEV_TENANT_ID, dev_discovery_url
from tests.workbench_server import running_workbench

from .provider import tamper
from .workbench_client import open_tutor

QUESTION = "Which pigment makes chloroplasts green?"


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory):
    with running_workbench(tmp_path_factory.mktemp("identity-workbench")) as base:
        yield base


def dev_token(base: str, student: str) -> str:
    response = requests.get(f"{base}/dev-idp/token/?student={student}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["id_token"]


def test_the_dev_provider_publishes_a_b2c_shaped_discovery_and_keys(workbench) -> None:
    discovery = requests.get(dev_discovery_url(workbench), timeout=30).json()

    assert discovery["issuer"] == f"{workbench}/dev-idp/{DEV_TENANT_ID}/v2.0/"
    keys = requests.get(discovery["jwks_uri"], timeout=30).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and "alg" not in keys[0]
    assert "/aitutordev.onmicrosoft.com/B2C_1_workbench_signin/" in discovery["jwks_uri"]


def test_a_workbench_student_is_answered_with_the_token_the_runtime_gives(workbench) -> None:
    tutor = open_tutor(workbench, "student_1")

    answer = tutor.ask(QUESTION)

    assert answer.status_code == 200, answer.text
    assert answer.json()["reply_text"]


def test_a_signed_out_student_is_refused_and_nothing_is_stored(workbench) -> None:
    tutor = open_tutor(workbench, "signed_out_1")

    refused = tutor.ask(QUESTION)

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "identity_missing_token"
    assert QUESTION not in tutor.reload()


def test_a_valid_bearer_token_is_answered_a_tampered_copy_refused(workbench) -> None:
    tutor = open_tutor(workbench, "signed_out_2")
    token = dev_token(workbench, "student_2")

    tampered = tutor.ask(QUESTION, bearer=tamper(token))
    assert tampered.status_code == 401
    assert tampered.json()["error"]["code"] == "identity_bad_signature"
    assert token not in tampered.text

    answered = tutor.ask(QUESTION, bearer=token)
    assert answered.status_code == 200, answered.text


def test_the_dev_token_carries_a_b2c_claim_set(workbench) -> None:
    import jwt

    claims = jwt.decode(dev_token(workbench, "student_2"), options={"verify_signature": False})

    assert claims["aud"] == DEV_CLIENT_ID
    assert claims["emails"] == ["grace@example.org"] and "email" not in claims
    assert claims["given_name"] == "Grace"
    assert claims["roles"] == ["learner", "teaching_assistant"]
    assert claims["tfp"] == "B2C_1_workbench_signin"
