"""The LMS path: the ID token social-auth stored for the current user, refreshed on expiry."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from ai_tutor.identity import IdentityError, Reason, check_learner

from .conftest import lms_user, make_block, make_request

ALICE = "9a8b7c6d-0000-4000-8000-00000000a11c"
BOB = "9a8b7c6d-0000-4000-8000-000000000b0b"
BACKEND = "azuread-b2c-oauth2"


class FakeSocialAuth:
    """A `UserSocialAuth`-like record; `refresh_token` behaves as social-core's does."""

    def __init__(
        self,
        user_id: int,
        uid: str,
        extra_data: dict[str, Any],
        refresh: Callable[[], dict[str, Any]] | None = None,
        provider: str = BACKEND,
    ) -> None:
        self.id = user_id * 10
        self.user_id = user_id
        self.uid = uid
        self.provider = provider
        self.extra_data = extra_data
        self._refresh = refresh
        self.strategies: list[Any] = []
        self.saves = 0

    def refresh_token(self, strategy: Any) -> None:
        self.strategies.append(strategy)
        assert self._refresh is not None, "refresh not expected"
        self.extra_data.update(self._refresh())
        self.saves += 1


class FakeRecords:
    def __init__(self) -> None:
        self.records: list[FakeSocialAuth] = []
        self.lookups = 0

    def filter(self, *, user_id: int, provider: str) -> Any:
        self.lookups += 1
        found = [r for r in self.records if r.user_id == user_id and r.provider == provider]

        class Query:
            def order_by(self, field: str) -> Any:
                assert field == "-id"
                return self

            def first(self) -> FakeSocialAuth | None:
                return max(found, key=lambda record: record.id) if found else None

        return Query()


STRATEGY = object()


@pytest.fixture
def social(monkeypatch: pytest.MonkeyPatch) -> FakeRecords:
    """Installs stand-ins for `social_django.models` and `social_django.utils`."""
    records = FakeRecords()
    package = ModuleType("social_django")
    models = ModuleType("social_django.models")
    models.UserSocialAuth = SimpleNamespace(objects=records)  # type: ignore[attr-defined]
    utils = ModuleType("social_django.utils")
    utils.load_strategy = lambda request=None: STRATEGY  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "social_django", package)
    monkeypatch.setitem(sys.modules, "social_django.models", models)
    monkeypatch.setitem(sys.modules, "social_django.utils", utils)
    return records


def expired_token(b2c: Any, **claims: Any) -> str:
    now = int(time.time())
    return b2c.token(iat=now - 7200, nbf=now - 7200, exp=now - 3600, **claims)


def ask(settings: dict[str, Any], user_id: int = 7, signed_in: int | None = 7) -> Any:
    return check_learner(
        make_block(user=lms_user(user_id)), make_request(signed_in_user_id=signed_in), settings
    )


def refusal(settings: dict[str, Any], **kwargs: Any) -> IdentityError:
    with pytest.raises(IdentityError) as caught:
        ask(settings, **kwargs)
    return caught.value


def test_stored_token_with_the_matching_subject_is_accepted(social, b2c) -> None:
    social.records.append(FakeSocialAuth(7, ALICE, {"id_token": b2c.token(sub=ALICE)}))

    identity = ask(b2c.settings)

    assert (identity.issuer, identity.subject, identity.email) == (
        b2c.issuer,
        ALICE,
        "alice@example.org",
    )


def test_another_users_token_on_the_record_is_refused(social, b2c) -> None:
    social.records.append(FakeSocialAuth(7, ALICE, {"id_token": b2c.token(sub=BOB, oid=BOB)}))

    error = refusal(b2c.settings)

    assert (error.reason, error.status) == (Reason.WRONG_SUBJECT, 401)


def test_only_the_configured_backend_and_the_current_user_are_read(social, b2c) -> None:
    social.records.append(FakeSocialAuth(8, BOB, {"id_token": b2c.token(sub=BOB)}))
    social.records.append(
        FakeSocialAuth(7, ALICE, {"id_token": b2c.token(sub=ALICE)}, provider="oidc")
    )

    assert refusal(b2c.settings).reason is Reason.MISSING_TOKEN
    assert ask(b2c.settings | {"social_auth_backend": "oidc"}).subject == ALICE


def test_uid_may_be_matched_against_the_object_id(social, b2c) -> None:
    social.records.append(FakeSocialAuth(7, "object-7", {"id_token": b2c.token(oid="object-7")}))

    assert refusal(b2c.settings).reason is Reason.WRONG_SUBJECT
    assert ask(b2c.settings | {"social_auth_uid_claim": "oid"}).object_id == "object-7"


def test_expired_token_with_a_refresh_token_is_refreshed_stored_and_accepted(social, b2c) -> None:
    fresh = b2c.token(sub=ALICE, given_name="Alicia")
    record = FakeSocialAuth(
        7,
        ALICE,
        {"id_token": expired_token(b2c, sub=ALICE), "refresh_token": "r1"},
        refresh=lambda: {"id_token": fresh, "refresh_token": "r2"},
    )
    social.records.append(record)

    identity = ask(b2c.settings)

    assert identity.given_name == "Alicia"
    assert record.strategies == [STRATEGY]
    assert record.saves == 1 and record.extra_data["id_token"] == fresh


def test_expired_token_without_a_refresh_token_asks_to_sign_in_again(social, b2c) -> None:
    social.records.append(FakeSocialAuth(7, ALICE, {"id_token": expired_token(b2c, sub=ALICE)}))

    error = refusal(b2c.settings)

    assert (error.reason, error.status) == (Reason.EXPIRED, 401)
    assert error.login_url == (
        "/auth/login/azuread-b2c-oauth2/?auth_entry=login&next="
        "%2Fcourses%2Fcourse-v1%3AOrg%2BTutor%2B2025%2Fjump_to%2F"
        "block-v1%3AOrg%2BTutor%2B2025%2Btype%40ai_tutor%2Bblock%40tutor1"
    )


def test_refresh_refused_by_the_provider_asks_to_sign_in_again(social, b2c) -> None:
    def disabled_account() -> dict[str, Any]:
        raise RuntimeError("400 invalid_grant: the user account is disabled")

    social.records.append(
        FakeSocialAuth(
            7,
            ALICE,
            {"id_token": expired_token(b2c, sub=ALICE), "refresh_token": "r1"},
            refresh=disabled_account,
        )
    )

    error = refusal(b2c.settings)

    assert error.reason is Reason.EXPIRED
    assert error.login_url and error.login_url.startswith("/auth/login/")


def test_refresh_without_a_new_id_token_asks_to_sign_in_again(social, b2c) -> None:
    social.records.append(
        FakeSocialAuth(
            7,
            ALICE,
            {"id_token": expired_token(b2c, sub=ALICE), "refresh_token": "r1"},
            refresh=lambda: {"access_token": "new-access-token"},
        )
    )

    assert refusal(b2c.settings).reason is Reason.EXPIRED


def test_a_refreshed_token_for_someone_else_is_refused(social, b2c) -> None:
    social.records.append(
        FakeSocialAuth(
            7,
            ALICE,
            {"id_token": expired_token(b2c, sub=ALICE), "refresh_token": "r1"},
            refresh=lambda: {"id_token": b2c.token(sub=BOB)},
        )
    )

    assert refusal(b2c.settings).reason is Reason.WRONG_SUBJECT


def test_refresh_can_be_turned_off(social, b2c) -> None:
    record = FakeSocialAuth(
        7, ALICE, {"id_token": expired_token(b2c, sub=ALICE), "refresh_token": "r1"}
    )
    social.records.append(record)

    error = refusal(b2c.settings | {"refresh_expired_tokens": False})

    assert error.reason is Reason.EXPIRED and error.login_url
    assert record.strategies == []


def test_masquerading_never_reads_the_learners_record(social, b2c) -> None:
    social.records.append(FakeSocialAuth(7, ALICE, {"id_token": b2c.token(sub=ALICE)}))

    error = refusal(b2c.settings, signed_in=3)

    assert error.reason is Reason.MASQUERADING
    assert social.lookups == 0


def test_without_social_auth_installed_the_lms_learner_has_no_token(
    monkeypatch: pytest.MonkeyPatch, b2c
) -> None:
    monkeypatch.setitem(sys.modules, "social_django", None)
    monkeypatch.setitem(sys.modules, "social_django.models", None)

    assert refusal(b2c.settings).reason is Reason.MISSING_TOKEN
    assert ask(b2c.settings | {"mode": "optional"}) is None


def test_a_bearer_token_in_the_lms_must_be_the_users_own(social, b2c) -> None:
    accepting = b2c.settings | {"accept_bearer_header": True}
    block = make_block(user=lms_user(7))

    def with_header(token: str) -> Any:
        return make_request(signed_in_user_id=7, authorization=f"Bearer {token}")

    # No sign-in record links LMS user 7 to the provider: another person's token is refused.
    with pytest.raises(IdentityError) as caught:
        check_learner(block, with_header(b2c.token(sub=BOB)), accepting)
    assert caught.value.reason is Reason.WRONG_SUBJECT

    social.records.append(FakeSocialAuth(7, ALICE, {}))
    with pytest.raises(IdentityError) as caught:
        check_learner(block, with_header(b2c.token(sub=BOB)), accepting)
    assert caught.value.reason is Reason.WRONG_SUBJECT
    assert check_learner(block, with_header(b2c.token(sub=ALICE)), accepting).subject == ALICE
