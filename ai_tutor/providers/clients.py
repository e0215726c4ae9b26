"""SDK clients kept per process, so connections are pooled across questions."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from ai_tutor import log_safety
from ai_tutor.config import TutorConfig

_clients: dict[tuple[str, ...], Any] = {}
_lock = threading.Lock()


def cached_client(kind: str, config: TutorConfig, build: Callable[[], Any]) -> Any:
    """The SDK client for this configuration, built on first use.

    The key holds a digest of the API key, never the key itself.
    """
    key_digest = hashlib.sha256(config.resolved_api_key().encode()).hexdigest()[:16]
    key = (
        kind,
        config.base_url,
        key_digest,
        str(config.attempt_timeout_seconds),
        str(config.max_retries),
    )
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = build()
            # The SDK is imported now: keep its debug logs free of this key and of requests.
            log_safety.protect(config.resolved_api_key())
        return client


def retry_after_seconds(error: Any) -> float | None:
    """The `retry-after` header of an SDK status error, in seconds, if it has one."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
