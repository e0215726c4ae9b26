"""Daily question limits and token budgets: the counters alone, then through `ask`."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache.backends.locmem import LocMemCache

from ai_tutor import limits
from tests.blocks import call, make_block, provider_settings
from tests.loopback import openai_error

NOON = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def cache():
    store = LocMemCache("limits-tests", {})
    yield store
    store.clear()


def usage(cache, learner="ann", block="b1", course="c1", now=NOON) -> limits.DailyUsage:
    return limits.DailyUsage(cache, learner=learner, block=block, course=course, now=now)


# ------------------------------------------------------------------ the counters


def test_questions_per_block_are_counted_and_refused_until_tomorrow(cache):
    quotas = limits.Quotas(questions_per_block_per_day=2)

    assert usage(cache).check(quotas) == 2
    assert usage(cache).record(quotas, tokens=10) == 1
    assert usage(cache).record(quotas, tokens=10) == 0
    with pytest.raises(limits.LimitReached) as refused:
        usage(cache).check(quotas)

    assert refused.value.reason == "block_questions"
    assert refused.value.retry_after == 12 * 3600 + 1
    assert usage(cache, block="b2").check(quotas) == 2  # another block has its own count
    assert usage(cache, now=NOON + datetime.timedelta(days=1)).check(quotas) == 2


def test_learner_limit_spans_every_block(cache):
    quotas = limits.Quotas(questions_per_block_per_day=10, questions_per_learner_per_day=3)
    for block in ("b1", "b2", "b3"):
        usage(cache, block=block).record(quotas, tokens=1)

    with pytest.raises(limits.LimitReached) as refused:
        usage(cache, block="b4").check(quotas)

    assert refused.value.reason == "learner_questions"
    assert usage(cache, learner="bob", block="b4").check(quotas) == 3


def test_token_budgets_per_course_and_site(cache):
    quotas = limits.Quotas(course_tokens_per_day=100, site_tokens_per_day=150)
    usage(cache, course="c1").record(quotas, tokens=99)
    usage(cache, course="c1").check(quotas)  # 99 < 100

    usage(cache, learner="bob", course="c1").record(quotas, tokens=1)
    with pytest.raises(limits.LimitReached, match="course_budget"):
        usage(cache, learner="cat", course="c1").check(quotas)

    usage(cache, course="c2").check(quotas)
    usage(cache, course="c2").record(quotas, tokens=50)
    with pytest.raises(limits.LimitReached, match="site_budget"):
        usage(cache, course="c3").check(quotas)


def test_no_limits_means_none_remaining_and_never_refused(cache):
    quotas = limits.Quotas()
    for _ in range(5):
        assert usage(cache).record(quotas, tokens=10**6) is None
    assert usage(cache).check(quotas) is None


def test_counter_evicted_between_add_and_incr_restarts(cache):
    class EvictingCache:
        def get(self, key):
            return None

        def add(self, key, value, timeout):
            return True

        def incr(self, key, amount):
            raise ValueError("gone")

        def set(self, key, value, timeout):
            self.last = (key, value, timeout)

    evicting = EvictingCache()
    assert usage(evicting).record(limits.Quotas(questions_per_block_per_day=5), tokens=0) == 4
    assert evicting.last[1] == 1


def test_usage_totals_are_a_new_dict_per_day_and_month():
    first = limits.with_usage({}, tokens=70, now=NOON)
    second = limits.with_usage(first, tokens=30, now=NOON)
    next_month = limits.with_usage(second, tokens=5, now=NOON + datetime.timedelta(days=30))

    assert first["days"] == {"2026-12-03": {"questions": 1, "tokens": 70}}
    assert second["days"]["2026-12-03"] == {"questions": 2, "tokens": 100}
    assert second["months"]["2026-12"] == {"questions": 2, "tokens": 100}
    assert next_month["months"] == {
        "2026-12": {"questions": 2, "tokens": 100},
        "2027-01": {"questions": 1, "tokens": 5},
    }
    assert first["days"]["2026-12-03"]["questions"] == 1  # not changed in place


def test_usage_totals_keep_a_bounded_window_and_survive_junk():
    totals = {"days": {f"2026-01-{n:02d}": {"questions": 1, "tokens": 1} for n in range(1, 32)}}
    totals["days"]["junk"] = "not a dict"
    for day in range(40):
        totals = limits.with_usage(totals, tokens=1, now=NOON + datetime.timedelta(days=day))
    assert len(totals["days"]) == limits.KEEP_DAYS


# ------------------------------------------------------------------ through the handler


def test_over_the_block_limit_is_a_429_before_the_provider_and_stores_nothing(server):
    block = make_block(provider_settings(server, "openai", questions_per_block_per_day=2))

    first = call(block, "ask", {"question": "One"})
    second = call(block, "ask", {"question": "Two"})
    before = list(block.conversation)
    status, body, response = call(block, "ask", {"question": "Three"})

    assert first[1]["questions_remaining"] == 1 and second[1]["questions_remaining"] == 0
    assert status == 429 and body["error"]["code"] == "limit_block_questions"
    assert "tomorrow" in body["error"]["message"] and body["error"]["retry"] is False
    assert 0 < int(response.headers["Retry-After"]) <= 86401
    assert len(server.requests) == 2
    assert block.conversation == before


def test_learner_limit_counts_questions_in_every_tutor_block(server):
    settings = provider_settings(server, "openai", questions_per_learner_per_day=2)
    block_a = make_block(settings)
    block_b = make_block(settings)
    block_b.scope_ids = block_b.scope_ids._replace(usage_id="usage-2")

    call(block_a, "ask", {"question": "One"})
    call(block_b, "ask", {"question": "Two"})
    status, body, _ = call(block_a, "ask", {"question": "Three"})

    assert (status, body["error"]["code"]) == (429, "limit_learner_questions")


def test_course_budget_is_spent_from_reported_tokens(server):
    # The loopback reports 60 + 11 tokens per reply.
    block = make_block(provider_settings(server, "openai", course_tokens_per_day=100))

    assert call(block, "ask", {"question": "One"})[0] == 200
    assert call(block, "ask", {"question": "Two"})[0] == 200  # 71 < 100 when asked
    status, body, _ = call(block, "ask", {"question": "Three"})

    assert (status, body["error"]["code"]) == (429, "limit_course_budget")
    assert block.usage_totals["days"][limits.utc_now().strftime("%Y-%m-%d")] == {
        "questions": 2,
        "tokens": 142,
    }


def test_failed_question_is_not_counted(server):
    block = make_block(provider_settings(server, "openai", questions_per_block_per_day=1))
    server.script.append(openai_error(503))

    assert call(block, "ask", {"question": "One"})[0] == 503
    status, body, _ = call(block, "ask", {"question": "One"})

    assert status == 200 and body["questions_remaining"] == 0
    assert block.usage_totals["months"][limits.utc_now().strftime("%Y-%m")]["questions"] == 1


def test_limit_settings_are_validated():
    from ai_tutor.config import ConfigError, load_config

    assert load_config({}).questions_per_block_per_day == 50
    with pytest.raises(ConfigError, match="questions_per_block_per_day"):
        load_config({"questions_per_block_per_day": -1})
    with pytest.raises(ConfigError, match="site_tokens_per_day"):
        load_config({"site_tokens_per_day": "lots"})
