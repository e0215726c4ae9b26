"""Daily question limits and token budgets, and the block's durable usage totals.

Rolling counters live in the shared Django cache (Redis under Tutor), keyed by UTC day, and
expire after two days:
- questions per learner per block, and per learner across all tutor blocks;
- tokens per course and site-wide, from the provider's reported counts.

A question is checked before the provider is called and counted only once it is answered, so
a failed question costs the learner nothing. `usage_totals` keeps the block's own totals per
day and month for staff, in a plain dict the block stores durably.

Nothing here knows XBlock; `cache` is anything with Django's cache interface.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from ai_tutor.shared_cache import CacheUnavailable

log = logging.getLogger(__name__)

COUNTER_SECONDS = 2 * 24 * 3600
KEEP_DAYS = 62
KEEP_MONTHS = 24


@dataclasses.dataclass(frozen=True)
class Quotas:
    """Daily limits; 0 means no limit."""

    questions_per_block_per_day: int = 0
    questions_per_learner_per_day: int = 0
    course_tokens_per_day: int = 0
    site_tokens_per_day: int = 0


class LimitReached(Exception):
    """A daily limit is used up. `reason` is block_questions, learner_questions, course_budget
    or site_budget; `retry_after` is the seconds until the next UTC day."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def seconds_until_tomorrow(now: datetime.datetime) -> int:
    tomorrow = (now + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()) + 1)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class DailyUsage:
    """The counters that apply to one learner asking in one block of one course today."""

    def __init__(
        self,
        cache: Any,
        *,
        learner: str,
        block: str,
        course: str,
        now: datetime.datetime | None = None,
    ) -> None:
        self._cache = cache
        self._now = now or utc_now()
        day = self._now.strftime("%Y-%m-%d")
        self._block_questions = f"ai_tutor:{day}:questions:{_digest(learner + chr(31) + block)}"
        self._learner_questions = f"ai_tutor:{day}:questions:{_digest(learner)}"
        self._course_tokens = f"ai_tutor:{day}:tokens:{_digest(course)}"
        self._site_tokens = f"ai_tutor:{day}:tokens:site"

    def _read(self, key: str) -> int:
        value = self._cache.get(key)
        return value if isinstance(value, int) else 0

    def _add(self, key: str, amount: int) -> int:
        self._cache.add(key, 0, timeout=COUNTER_SECONDS)
        try:
            return int(self._cache.incr(key, amount))
        except ValueError:  # evicted between add and incr
            self._cache.set(key, amount, timeout=COUNTER_SECONDS)
            return amount

    def _remaining(self, quotas: Quotas, block_count: int, learner_count: int) -> int | None:
        left = [
            limit - count
            for limit, count in (
                (quotas.questions_per_block_per_day, block_count),
                (quotas.questions_per_learner_per_day, learner_count),
            )
            if limit > 0
        ]
        return max(0, min(left)) if left else None

    def check(self, quotas: Quotas) -> int | None:
        """Raise `LimitReached` if this question may not be asked; else the questions left
        today before it (None when no question limit applies).

        Fails closed: `CacheUnavailable` from a cache that cannot be read passes through,
        since a question that cannot be counted must not be sent to a paid provider.
        """
        retry_after = seconds_until_tomorrow(self._now)
        block_count = self._read(self._block_questions)
        learner_count = self._read(self._learner_questions)
        if 0 < quotas.questions_per_block_per_day <= block_count:
            raise LimitReached("block_questions", retry_after)
        if 0 < quotas.questions_per_learner_per_day <= learner_count:
            raise LimitReached("learner_questions", retry_after)
        if 0 < quotas.course_tokens_per_day <= self._read(self._course_tokens):
            raise LimitReached("course_budget", retry_after)
        if 0 < quotas.site_tokens_per_day <= self._read(self._site_tokens):
            raise LimitReached("site_budget", retry_after)
        return self._remaining(quotas, block_count, learner_count)

    def record(self, quotas: Quotas, tokens: int) -> int | None:
        """Count one answered question and its tokens; the questions left today after it.

        The reply is already paid for, so a cache outage here fails open: the question goes
        uncounted (logged as an error) and None is returned.
        """
        try:
            block_count = self._add(self._block_questions, 1)
            learner_count = self._add(self._learner_questions, 1)
            if tokens > 0:
                self._add(self._course_tokens, tokens)
                self._add(self._site_tokens, tokens)
        except CacheUnavailable as error:
            log.error("ai_tutor usage not counted: the shared cache is unavailable (%s)", error)
            return None
        return self._remaining(quotas, block_count, learner_count)

    def counts(self) -> dict[str, int]:
        """Today's counters as they stand: questions in this block and in all blocks for
        this learner, tokens for the course and the site."""
        return {
            "block_questions": self._read(self._block_questions),
            "learner_questions": self._read(self._learner_questions),
            "course_tokens": self._read(self._course_tokens),
            "site_tokens": self._read(self._site_tokens),
        }

    def check_budgets(self, quotas: Quotas) -> None:
        """Raise `LimitReached` if the course's or the site's token budget is used up (for
        questions that no learner limit applies to, such as an author's try-out)."""
        self.check(
            dataclasses.replace(
                quotas, questions_per_block_per_day=0, questions_per_learner_per_day=0
            )
        )

    def record_tokens(self, tokens: int) -> None:
        """Count tokens against the course and site budgets only (fails open, as `record`)."""
        try:
            if tokens > 0:
                self._add(self._course_tokens, tokens)
                self._add(self._site_tokens, tokens)
        except CacheUnavailable as error:
            log.error("ai_tutor usage not counted: the shared cache is unavailable (%s)", error)

    def course_tokens_today(self) -> int:
        return self._read(self._course_tokens)


def with_usage(
    totals: Mapping[str, Any], *, tokens: int, now: datetime.datetime | None = None
) -> dict[str, Any]:
    """A new totals dict: `totals` plus one answered question using `tokens`, counted under
    today and this month (UTC); only the last `KEEP_DAYS` days and `KEEP_MONTHS` months."""
    now = now or utc_now()
    result: dict[str, Any] = {}
    for period, key, keep in (
        ("days", now.strftime("%Y-%m-%d"), KEEP_DAYS),
        ("months", now.strftime("%Y-%m"), KEEP_MONTHS),
    ):
        stored = totals.get(period) if isinstance(totals, Mapping) else None
        entries = {
            name: dict(value)
            for name, value in (stored.items() if isinstance(stored, Mapping) else ())
            if isinstance(value, Mapping)
        }
        entry = entries.get(key, {})
        entries[key] = {
            "questions": int(entry.get("questions", 0) or 0) + 1,
            "tokens": int(entry.get("tokens", 0) or 0) + max(0, tokens),
        }
        result[period] = {name: entries[name] for name in sorted(entries)[-keep:]}
    return result
