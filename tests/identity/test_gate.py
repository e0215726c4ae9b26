"""`check_learner`: modes, token sources, masquerading and the prompt lines."""

from __future__ import annotations

import time

import pytest

from ai_tutor.identity import Identity, IdentityError, Reason, check_learner, describe_learner
from ai_tutor.identity.runtime import is_course_staff

from .conftest import FakeTokenService, FakeUserService, lms_user, make_block, make_request
from .provider import tamper


def refusal(block, request, settings) -> IdentityError:
    with pytest.raises(IdentityError) as caught:
        check_learner(block, request, settings)
    return caught.value


def test_mode_off_skips_everything(b2c) -> None:
    tokens = FakeTokenService(tamper(b2c.token()))
    block = make_block(ai_tutor_identity_token=tokens)

    assert check_learner(block, make_request(), {}) is None
    assert check_learner(block, make_request(), b2c.settings | {"mode": "off"}) is None
    assert tokens.calls == 0


def test_required_without_a_token_is_refused_with_401(b2c) -> None:
    block = make_block(ai_tutor_identity_token=FakeTokenService(None))

    error = refusal(block, make_request(), b2c.settings)

    assert error.reason is Reason.MISSING_TOKEN
    assert error.status == 401
    assert error.login_url is None  # outside the LMS there is nowhere to sign in again
    assert "token" not in error.message.lower()


def test_optional_without_a_token_answers_unpersonalised(b2c) -> None:
    block = make_block(ai_tutor_identity_token=FakeTokenService(None))

    assert check_learner(block, make_request(), b2c.settings | {"mode": "optional"}) is None


def test_optional_still_refuses_a_present_invalid_token(b2c) -> None:
    block = make_block(ai_tutor_identity_token=FakeTokenService(tamper(b2c.token())))

    error = refusal(block, make_request(), b2c.settings | {"mode": "optional"})

    assert error.reason is Reason.BAD_SIGNATURE


def test_token_service_gives_the_identity(b2c) -> None:
    block = make_block(ai_tutor_identity_token=FakeTokenService(b2c.token()))

    identity = check_learner(block, make_request(), b2c.settings)

    assert isinstance(identity, Identity)
    assert (identity.issuer, identity.given_name) == (b2c.issuer, "Alice")


def test_bearer_header_only_when_accepted(b2c) -> None:
    block = make_block()
    request = make_request(authorization=f"Bearer {b2c.token()}")

    assert refusal(block, request, b2c.settings).reason is Reason.MISSING_TOKEN
    accepting = b2c.settings | {"accept_bearer_header": True}
    assert check_learner(block, request, accepting).issuer == b2c.issuer

    forged = make_request(authorization=f"Bearer {tamper(b2c.token())}")
    assert refusal(block, forged, accepting).reason is Reason.BAD_SIGNATURE
    basic = make_request(authorization="Basic dXNlcjpwYXNz")
    assert refusal(block, basic, accepting).reason is Reason.MISSING_TOKEN


def test_the_token_service_comes_before_the_bearer_header(b2c) -> None:
    block = make_block(ai_tutor_identity_token=FakeTokenService(b2c.token(given_name="Service")))
    request = make_request(authorization=f"Bearer {b2c.token(given_name='Header')}")

    identity = check_learner(block, request, b2c.settings | {"accept_bearer_header": True})

    assert identity.given_name == "Service"


def test_expired_token_outside_the_lms_is_refused_as_expired(b2c) -> None:
    now = int(time.time())
    expired = b2c.token(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
    block = make_block(ai_tutor_identity_token=FakeTokenService(expired))

    error = refusal(block, make_request(), b2c.settings)

    assert (error.reason, error.status) == (Reason.EXPIRED, 401)


def test_masquerading_staff_are_refused_and_the_learners_token_is_never_read(b2c) -> None:
    tokens = FakeTokenService(b2c.token())
    block = make_block(user=lms_user(7), ai_tutor_identity_token=tokens)

    error = refusal(block, make_request(signed_in_user_id=3), b2c.settings)

    assert (error.reason, error.status) == (Reason.MASQUERADING, 403)
    assert "another learner" in error.message
    assert tokens.calls == 0


def test_masquerading_is_noticed_from_the_real_user_on_the_runtime_user(b2c) -> None:
    learner = type("User", (), {"id": 7, "real_user": type("Staff", (), {"id": 3})()})()
    user_service = FakeUserService({"edx-platform.user_id": 7}, django_user=learner)
    block = make_block(user=user_service, ai_tutor_identity_token=FakeTokenService(b2c.token()))

    assert refusal(block, make_request(), b2c.settings).reason is Reason.MASQUERADING


def test_masquerading_is_refused_in_every_mode(b2c) -> None:
    block = make_block(user=lms_user(7))
    request = make_request(signed_in_user_id=3)

    for mode in ("required", "optional", "off"):
        error = refusal(block, request, b2c.settings | {"mode": mode})
        assert (error.reason, error.status) == (Reason.MASQUERADING, 403)


def test_the_learner_themself_is_not_masquerading(b2c) -> None:
    block = make_block(user=lms_user(7), ai_tutor_identity_token=FakeTokenService(b2c.token()))

    assert check_learner(block, make_request(signed_in_user_id=7), b2c.settings) is not None


def test_lms_learner_without_a_token_gets_a_login_url_back_to_the_unit(b2c) -> None:
    block = make_block(user=lms_user(7))

    error = refusal(block, make_request(signed_in_user_id=7), b2c.settings)

    assert error.reason is Reason.MISSING_TOKEN
    assert error.login_url.startswith("/auth/login/azuread-b2c-oauth2/?auth_entry=login&next=")
    assert "jump_to" in error.login_url and "block%40tutor1" in error.login_url


def test_course_staff_comes_from_lms_roles_only() -> None:
    assert is_course_staff(make_block(user=lms_user(7, **{"edx-platform.user_role": "instructor"})))
    assert is_course_staff(make_block(user=lms_user(7, **{"edx-platform.user_is_staff": True})))
    assert not is_course_staff(
        make_block(user=lms_user(7, **{"edx-platform.user_role": "student"}))
    )
    assert not is_course_staff(make_block())


def test_describe_learner_names_roles_email_and_staff() -> None:
    identity = Identity(
        issuer="https://issuer.example/",
        subject="s",
        name="Alice Example",
        given_name="Alice",
        email="alice@example.org",
        roles=("learner", "mentor"),
    )

    lines = describe_learner(identity, {}, is_course_staff=False)
    text = "\n".join(lines)
    assert "Alice" in text and "learner, mentor" in text
    assert "alice@example.org" not in text
    assert "colleague" not in text

    with_email = describe_learner(identity, {"send_email_to_provider": True}, is_course_staff=True)
    assert any("alice@example.org" in line for line in with_email)
    assert "colleague" in with_email[-1]

    unnamed = Identity(issuer="i", subject="s", name="Display Name")
    assert "Display Name" in describe_learner(unnamed, {}, is_course_staff=False)[0]
    assert describe_learner(None, {}, is_course_staff=False) == []
