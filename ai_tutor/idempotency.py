"""One question at a time per learner and block, and each question answered once.

Both live in the shared Django cache because the LMS runs several processes:
- a lock per learner and block, taken with `cache.add` and expiring on its own, so a
  second question sent while the first is in flight is refused instead of interleaving;
- a record of each answered question per learner, block and `client_msg_id`, kept for a
  short while, so a repeat (double click, network retry) gets the first answer back.

Both fail open when the cache is down (`CacheUnavailable`): the question goes ahead without
the lock or the record. The daily limits fail closed on the same outage, so no question is
sent to the provider then anyway; failing open here keeps "clear conversation" working.

Nothing here knows XBlock; `cache` is anything with Django's cache interface.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from ai_tutor.shared_cache import CacheUnavailable

log = logging.getLogger(__name__)

RECORD_SECONDS = 600
MAX_CLIENT_MSG_ID_CHARS = 100


class QuestionInFlight(Exception):
    """This learner already has a question in flight in this block."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def lock_key(learner: str, block: str) -> str:
    return "ai_tutor:question-lock:" + _digest(learner, block)


def record_key(learner: str, block: str, client_msg_id: str) -> str:
    return "ai_tutor:reply:" + _digest(learner, block, client_msg_id)


@contextlib.contextmanager
def question_lock(cache: Any, learner: str, block: str, hold_seconds: float) -> Iterator[None]:
    """Hold the learner's lock on the block; raises `QuestionInFlight` when it is taken.

    The lock expires after `hold_seconds` even if its holder dies without releasing it.
    When the cache is unavailable the block runs without a lock (fails open).
    """
    key = lock_key(learner, block)
    token = uuid.uuid4().hex
    try:
        taken = cache.add(key, token, timeout=max(1, int(hold_seconds) + 1))
    except CacheUnavailable as error:
        log.warning("ai_tutor question lock skipped: the shared cache is unavailable (%s)", error)
        taken = None
    if taken is None:
        yield
        return
    if not taken:
        raise QuestionInFlight()
    try:
        yield
    finally:
        try:
            if cache.get(key) == token:
                cache.delete(key)
        except CacheUnavailable:
            pass  # the lock expires on its own


def recorded_reply(
    cache: Any, learner: str, block: str, client_msg_id: str, question: str
) -> dict[str, Any] | None:
    """The reply given earlier to this `client_msg_id`, if it was for the same question."""
    if not client_msg_id:
        return None
    try:
        record = cache.get(record_key(learner, block, client_msg_id))
    except CacheUnavailable as error:
        log.warning("ai_tutor reply lookup skipped: the shared cache is unavailable (%s)", error)
        return None
    if not isinstance(record, dict) or record.get("question") != _digest(question):
        return None
    reply = record.get("reply")
    return dict(reply) if isinstance(reply, dict) else None


def record_reply(
    cache: Any,
    learner: str,
    block: str,
    client_msg_id: str,
    question: str,
    reply: dict[str, Any],
) -> None:
    """Remember the reply to this `client_msg_id` for `RECORD_SECONDS`."""
    if not client_msg_id:
        return
    try:
        cache.set(
            record_key(learner, block, client_msg_id),
            {"question": _digest(question), "reply": reply},
            timeout=RECORD_SECONDS,
        )
    except CacheUnavailable as error:
        log.warning("ai_tutor reply not recorded: the shared cache is unavailable (%s)", error)
