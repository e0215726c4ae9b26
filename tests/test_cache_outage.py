"""The shared cache (Redis under Tutor) down: never a 500, each mechanism open or closed.

The tests swap Django's default cache for backends whose methods raise what redis-py raises
when Redis is unreachable. Daily limits fail closed (503 before any provider call, since
nothing uncounted may be spent); counting an answered question, idempotency records, the
per-learner lock and the site-wide call slots fail open.
"""

from __future__ import annotations

import logging

import pytest
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings

from ai_tutor import calls, idempotency, limits
from ai_tutor.shared_cache import CacheUnavailable, GuardedCache
from tests.blocks import call, make_block, provider_settings


class RedisDown(ConnectionError):
    """Shaped like redis-py's ConnectionError (a subclass of the built-in one)."""


class DownCache(BaseCache):
    """Every call fails, as django's RedisCache does with Redis unreachable."""

    def __init__(self, location, params):
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise RedisDown("Error 111 connecting to redis:6379. Connection refused.")

    get = add = set = delete = incr = get_many = set_many = touch = has_key = _down

    def clear(self):  # the test fixture's own clean-up
        pass


class PartlyDownCache(LocMemCache):
    """A working cache, except for keys containing one of `FAILING` (set by each test)."""

    FAILING: tuple[str, ...] = ()

    def _check(self, key):
        if any(part in key for part in self.FAILING):
            raise RedisDown("Timeout reading from socket")

    def get(self, key, default=None, version=None):
        self._check(key)
        return super().get(key, default, version)

    def add(self, key, value, timeout=300, version=None):
        self._check(key)
        return super().add(key, value, timeout, version)

    def set(self, key, value, timeout=300, version=None):
        self._check(key)
        return super().set(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        self._check(key)
        return super().incr(key, delta, version)


def _caches(backend: str) -> dict:
    return {"default": {"BACKEND": f"tests.test_cache_outage.{backend}", "LOCATION": "outage"}}


@pytest.fixture
def partly_down():
    from django.core.cache import cache

    with override_settings(CACHES=_caches("PartlyDownCache")):
        cache.clear()
        yield PartlyDownCache
        PartlyDownCache.FAILING = ()
        cache.clear()


# ------------------------------------------------------------------ the whole cache down


def test_limits_fail_closed_with_a_503_before_the_provider(server, caplog):
    block = make_block(provider_settings(server))
    assert call(block, "ask", {"question": "Before the outage"})[0] == 200
    before = list(block.conversation)

    with override_settings(CACHES=_caches("DownCache")):
        status, body, response = call(block, "ask", {"question": "During the outage"})

    assert status == 503
    assert body["error"]["code"] == "cache_unavailable"
    assert body["error"]["message"] == (
        "The tutor is not available right now. Your course team has been told."
    )
    assert response.headers["Retry-After"] == "30" and body["error"]["retry"] is True
    assert len(server.requests) == 1  # nothing uncounted was spent
    assert block.conversation == before
    assert "shared cache unavailable" in caplog.text
    assert "During the outage" not in caplog.text and "redis:6379" not in response.text


def test_clear_still_works_with_the_cache_down(server):
    block = make_block(provider_settings(server))
    call(block, "ask", {"question": "Where is the stroma?"})

    with override_settings(CACHES=_caches("DownCache")):
        status, body, _ = call(block, "clear", {})

    assert (status, body.get("cleared")) == (200, True)
    assert block.conversation == []


def test_student_view_renders_with_the_cache_down(server):
    block = make_block(provider_settings(server))
    call(block, "ask", {"question": "Where is the stroma?"})

    with override_settings(CACHES=_caches("DownCache")):
        html = block.student_view().content

    assert "Where is the stroma?" in html


# ------------------------------------------------------------------ one mechanism down


def test_answer_is_kept_when_its_count_cannot_be_written(server, partly_down, caplog):
    block = make_block(provider_settings(server, "openai", questions_per_block_per_day=5))
    call(block, "ask", {"question": "First"})
    partly_down.FAILING = ("questions",)  # reads fail too: the check must refuse
    assert call(block, "ask", {"question": "Refused"})[0] == 503

    # Counters readable, but the counting after the answer fails: the answer is kept.
    real_add = limits.DailyUsage._add

    def failing_add(self, key, amount):
        raise CacheUnavailable("RedisDown")

    partly_down.FAILING = ()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits.DailyUsage, "_add", failing_add)
        with caplog.at_level(logging.ERROR, logger="ai_tutor"):
            status, body, _ = call(block, "ask", {"question": "Second"})
    assert limits.DailyUsage._add is real_add

    assert status == 200 and body["questions_remaining"] is None
    # The refused question was never sent: the browser keeps it with its Retry button.
    assert [(t["role"], t.get("status")) for t in block.conversation] == [
        ("user", None),
        ("assistant", None),
        ("user", None),
        ("assistant", None),
    ]
    assert block.conversation[2]["content"] == "Second"
    assert "usage not counted" in caplog.text


def test_question_goes_ahead_without_its_lock_and_reply_record(server, partly_down, caplog):
    partly_down.FAILING = ("question-lock", "ai_tutor:reply:")
    block = make_block(provider_settings(server, "openai", questions_per_block_per_day=5))

    status, body, _ = call(block, "ask", {"question": "Where?", "client_msg_id": "m-1"})

    assert status == 200 and body["questions_remaining"] == 4
    assert len(server.requests) == 1
    assert "question lock skipped" in caplog.text and "reply not recorded" in caplog.text


def test_site_cap_fails_open_and_the_process_cap_still_holds():
    broken = GuardedCache(DownCache("x", {}))

    with calls.site_slot(broken, 1, deadline_seconds=5):
        with calls.site_slot(broken, 1, deadline_seconds=5):
            pass  # no site cap without the cache
    with pytest.raises(calls.OverCapacity):
        calls.call_within(1, 0, lambda: "never")


def test_guarded_cache_names_the_error_type_only():
    broken = GuardedCache(DownCache("x", {}))
    for method, args in (("get", ("k",)), ("add", ("k", 1)), ("set", ("k", 1)), ("incr", ("k",))):
        with pytest.raises(CacheUnavailable) as raised:
            getattr(broken, method)(*args)
        assert str(raised.value) == "RedisDown"

    working = GuardedCache(LocMemCache("guarded", {}))
    with pytest.raises(ValueError):  # a missing counter is not an outage
        working.incr("missing")
    assert working.add("k", 1, timeout=5) and working.get("k") == 1


def test_lock_and_records_fail_open_on_their_own():
    broken = GuardedCache(DownCache("x", {}))

    with idempotency.question_lock(broken, "ann", "b1", hold_seconds=5):
        pass
    assert idempotency.recorded_reply(broken, "ann", "b1", "m-1", "Where?") is None
    idempotency.record_reply(broken, "ann", "b1", "m-1", "Where?", {"reply_text": "Here."})
    with pytest.raises(CacheUnavailable):
        limits.DailyUsage(broken, learner="ann", block="b1", course="c").check(limits.Quotas())
