"""Shared fixtures: a loopback provider, keys minted once per session, a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_tutor.identity import keys as key_cache

from .provider import LoopbackProvider, ec_key, rsa_key


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
