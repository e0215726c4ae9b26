"""Provider calls bounded in time and in number, so a slow provider cannot hold the LMS.

The SDKs' timeouts apply per read: a provider that trickles a byte every few seconds never
trips them. So each call runs in a worker thread and the request waits at most the deadline.

Two caps keep calls from piling up:
- per process, a semaphore held by the worker thread until the call really ends (a call
  abandoned at the deadline still holds its connection and thread);
- site-wide, numbered slots in the shared Django cache, held by the request and each expiring
  on its own shortly after the deadline, so a crashed worker cannot keep one for long. When
  the cache is down (`CacheUnavailable`) the site cap fails open: the process cap still holds.

Nothing here knows XBlock; `cache` is anything with Django's cache interface.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ai_tutor.shared_cache import CacheUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# Threads are created on demand; the process cap keeps the number in use below this.
_executor = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="ai-tutor")
_process_lock = threading.Lock()
_process_in_flight = 0

SITE_SLOT_KEY = "ai_tutor:call-slot:%d"
# How long a site slot outlives the deadline before it expires on its own.
SITE_SLOT_MARGIN_SECONDS = 5


class DeadlinePassed(Exception):
    """The call did not end within the deadline; it may still be running in its thread."""


class OverCapacity(Exception):
    """Too many provider calls in flight; `scope` is "process" or "site"."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


def process_calls_in_flight() -> int:
    """Provider calls now running in this process (abandoned ones included)."""
    return _process_in_flight


def call_within(deadline_seconds: float, max_in_process: int, call: Callable[[], T]) -> T:
    """`call()` in a worker thread, waiting at most `deadline_seconds` for its result.

    Raises `OverCapacity("process")` at once when `max_in_process` calls are running, and
    `DeadlinePassed` when the deadline passes first. Exceptions of `call` pass through.
    """
    global _process_in_flight
    with _process_lock:
        if _process_in_flight >= max_in_process:
            raise OverCapacity("process")
        _process_in_flight += 1

    def finished(_: concurrent.futures.Future[T]) -> None:
        global _process_in_flight
        with _process_lock:
            _process_in_flight -= 1

    try:
        future = _executor.submit(call)
    except RuntimeError:  # the interpreter is shutting down
        finished(concurrent.futures.Future())
        raise OverCapacity("process") from None
    future.add_done_callback(finished)
    try:
        return future.result(timeout=deadline_seconds)
    except concurrent.futures.TimeoutError:
        # The thread cannot be stopped; it ends when the SDK gives up and frees its slot then.
        raise DeadlinePassed() from None


@contextlib.contextmanager
def site_slot(cache: Any, max_in_site: int, deadline_seconds: float) -> Iterator[None]:
    """Hold one of `max_in_site` site-wide call slots for the duration of the block.

    Raises `OverCapacity("site")` when all are taken. `max_in_site` 0 means no site cap.
    """
    if max_in_site <= 0:
        yield
        return

    token = uuid.uuid4().hex
    expiry = int(deadline_seconds) + 1 + SITE_SLOT_MARGIN_SECONDS
    taken = None
    try:
        for number in range(max_in_site):
            if cache.add(SITE_SLOT_KEY % number, token, timeout=expiry):
                taken = SITE_SLOT_KEY % number
                break
    except CacheUnavailable as error:
        log.warning("ai_tutor site call cap skipped: the shared cache is unavailable (%s)", error)
        taken = ""
    if taken == "":
        yield
        return
    if taken is None:
        raise OverCapacity("site")
    try:
        yield
    finally:
        # Only free our own slot: after an expiry another request may hold the same number.
        try:
            if cache.get(taken) == token:
                cache.delete(taken)
        except CacheUnavailable:
            pass  # the slot expires on its own
