"""Shared fixtures: a loopback provider, keys minted once per session, a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from ai_tutor.identity import keys as key_cache

from .provider import CLIENT_ID, LoopbackProvider, claims_for, ec_key, mint, public_jwk, rsa_key


@pytest.fixture(scope="session")
def rsa_keys() -> dict[str, object]:
    """Distinct RSA keys by role: user flow, rotation, custom policy, attacker."""
    return {name: rsa_key() for name in ("flow", "rotated", "custom", "attacker")}


@pytest.fixture(scope="session")
def ec_signing_key() -> object:
    return ec_key()


@pytest.fixture
def provider() -> Iterator[LoopbackProvider]:
    with LoopbackProvider().running() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_key_cache() -> Iterator[None]:
    key_cache.clear_cache()
    yield
    key_cache.clear_cache()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Replaces the key cache's monotonic clock, so TTLs and cooldowns pass instantly."""
    fake = Clock()
    monkeypatch.setattr(key_cache, "_now", fake)
    return fake


class FakeUserService:
    """The LMS user service as the runtime hands it to the block."""

    def __init__(self, opt_attrs: dict[str, Any], django_user: Any = None) -> None:
        self._opt_attrs = opt_attrs
        self._django_user = django_user

    def get_current_user(self) -> Any:
        return SimpleNamespace(opt_attrs=dict(self._opt_attrs))


class FakeTokenService:
    """The `ai_tutor_identity_token` service: hands out one token and counts the asks."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.calls = 0

    def get_id_token(self, block: Any) -> str | None:
        self.calls += 1
        return self.token


class UsageId:
    course_key = "course-v1:Org+Tutor+2025"

    def __str__(self) -> str:
        return "block-v1:Org+Tutor+2025+type@ai_tutor+block@tutor1"


def make_block(**services: Any) -> Any:
    """A block whose runtime offers exactly `services` (a `wants` service may be missing)."""

    class Runtime:
        def service(self, block: Any, name: str) -> Any:
            return services.get(name)

    return SimpleNamespace(runtime=Runtime(), scope_ids=SimpleNamespace(usage_id=UsageId()))


def make_request(authorization: str | None = None, signed_in_user_id: int | None = None) -> Any:
    """A handler request; in the LMS, `_request` is the Django request behind it."""
    headers = {"Authorization": authorization} if authorization else {}
    django_request = SimpleNamespace(user=SimpleNamespace(id=signed_in_user_id))
    return SimpleNamespace(headers=headers, _request=django_request)


def lms_user(user_id: int, **attrs: Any) -> FakeUserService:
    return FakeUserService(
        {"edx-platform.user_id": user_id, "edx-platform.username": "alice", **attrs}
    )


@pytest.fixture
def b2c(provider: LoopbackProvider, rsa_keys: dict[str, Any]) -> SimpleNamespace:
    """A B2C user flow on the loopback provider, its signing key and a matching configuration."""
    discovery, issuer = provider.add_b2c_policy(
        "B2C_1_signupsignin", [public_jwk(rsa_keys["flow"], "flow-1", None)]
    )

    def token(**claims: Any) -> str:
        return mint(rsa_keys["flow"], claims_for(issuer, **claims), kid="flow-1")

    return SimpleNamespace(
        discovery=discovery,
        issuer=issuer,
        token=token,
        settings={"mode": "required", "discovery_url": discovery, "audience": CLIENT_ID},
    )
