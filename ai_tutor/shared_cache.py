"""The shared Django cache (Redis under Tutor), with its outages made explicit.

Limits, budgets, locks, idempotency records and the site-wide call slots all live in the
shared cache. When it is down, each backend raises its own error type (redis-py's
`ConnectionError`, a socket timeout, pymemcache's errors...). `GuardedCache` turns every one of
them into `CacheUnavailable`, so that each mechanism can choose, in one place, whether it fails
open or closed:

- limits and budgets fail closed: no question is sent to a provider (spending money) that
  cannot be counted; the learner gets a 503 "not available";
- counting an answered question fails open: the reply is already paid for and is kept;
- idempotency records, per-learner locks and site-wide call slots fail open: the per-process
  cap still bounds calls, and a lost record costs at most one repeated call.

Nothing here knows XBlock.
"""

from __future__ import annotations

from typing import Any


class CacheUnavailable(Exception):
    """The shared cache did not answer; the message names the backend's error type only."""


class GuardedCache:
    """The part of Django's cache interface the tutor uses; backend errors raise
    `CacheUnavailable`. `incr`'s `ValueError` for a missing key is not an outage and passes."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._cache, method)(*args, **kwargs)
        except ValueError:
            if method == "incr":
                raise
            raise CacheUnavailable("ValueError") from None
        except Exception as error:  # noqa: BLE001 - each backend raises its own types
            raise CacheUnavailable(type(error).__name__) from error

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", key, default)

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        return bool(self._call("add", key, value, timeout=timeout))

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self._call("set", key, value, timeout=timeout)

    def delete(self, key: str) -> Any:
        return self._call("delete", key)

    def incr(self, key: str, delta: int = 1) -> int:
        return int(self._call("incr", key, delta))
