"""What course staff see of a tutor block: its durable totals beside the daily counters.

`usage_totals` (a `user_state_summary` field: one dict per block, shared by all learners)
holds, besides the per-day and per-month question and token counts that `limits.with_usage`
keeps, the number of learners who got an answer, the thumbs up and down, and, only when the
operator sets `share_question_text`, the few most recent questions without learner names.
Every function returns a new dict (a field mutated in place is not saved).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Mapping
from typing import Any

from ai_tutor import limits

RATINGS = ("up", "down")
RECENT_QUESTIONS = 5
RECENT_QUESTION_CHARS = 300


def _count(totals: Mapping[str, Any], key: str) -> int:
    value = totals.get(key) if isinstance(totals, Mapping) else None
    return value if isinstance(value, int) and value > 0 else 0


def with_answer(
    totals: Mapping[str, Any],
    *,
    tokens: int,
    new_learner: bool,
    question: str | None,
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """`totals` plus one answered question; `question` is kept (shortened, newest first,
    at most `RECENT_QUESTIONS`) only when given, that is when the operator allows it."""
    totals = dict(totals) if isinstance(totals, Mapping) else {}
    result = {**totals, **limits.with_usage(totals, tokens=tokens, now=now)}
    if new_learner:
        result["learners"] = _count(totals, "learners") + 1
    if question is not None:
        earlier = [q for q in totals.get("recent") or [] if isinstance(q, str)]
        result["recent"] = [question[:RECENT_QUESTION_CHARS], *earlier][:RECENT_QUESTIONS]
    return result


def with_feedback(totals: Mapping[str, Any], rating: str, previous: str = "") -> dict[str, Any]:
    """`totals` with one more `rating`; a learner changing their mind takes `previous` back."""
    totals = dict(totals) if isinstance(totals, Mapping) else {}
    stored = totals.get("feedback")
    counts = {r: _count(stored, r) if isinstance(stored, Mapping) else 0 for r in RATINGS}
    if previous in counts:
        counts[previous] = max(0, counts[previous] - 1)
    counts[rating] += 1
    return {**totals, "feedback": counts}


def without_recent(totals: Mapping[str, Any]) -> dict[str, Any]:
    """`totals` without the stored questions (when the operator turns question text off)."""
    return {k: v for k, v in (totals or {}).items() if k != "recent"}


def summary(
    totals: Mapping[str, Any],
    *,
    course_tokens_per_day: int,
    show_questions: bool,
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The staff panel's figures from the stored totals."""
    now = now or limits.utc_now()
    totals = totals if isinstance(totals, Mapping) else {}

    def period(name: str, key: str) -> Mapping[str, Any]:
        entries = totals.get(name)
        entry = entries.get(key) if isinstance(entries, Mapping) else None
        return entry if isinstance(entry, Mapping) else {}

    today = period("days", now.strftime("%Y-%m-%d"))
    month = period("months", now.strftime("%Y-%m"))
    all_months = totals.get("months") if isinstance(totals.get("months"), Mapping) else {}
    feedback = totals.get("feedback") if isinstance(totals.get("feedback"), Mapping) else {}
    recent = [q for q in totals.get("recent") or [] if isinstance(q, str)]
    return {
        "questions_total": sum(
            _count(entry, "questions")
            for entry in all_months.values()
            if isinstance(entry, Mapping)
        ),
        "questions_today": _count(today, "questions"),
        "learners": _count(totals, "learners"),
        "tokens_today": _count(today, "tokens"),
        "tokens_month": _count(month, "tokens"),
        "course_tokens_per_day": course_tokens_per_day,
        "thumbs_up": _count(feedback, "up"),
        "thumbs_down": _count(feedback, "down"),
        "recent_questions": recent if show_questions else [],
        "questions_shown": show_questions,
    }


def daily_csv(totals: Mapping[str, Any]) -> str:
    """The per-day totals as CSV: `day,questions,tokens`, oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "questions", "tokens"])
    days = totals.get("days") if isinstance(totals, Mapping) else None
    for day, entry in sorted(days.items() if isinstance(days, Mapping) else ()):
        if isinstance(entry, Mapping):
            writer.writerow([day, _count(entry, "questions"), _count(entry, "tokens")])
    return out.getvalue()
