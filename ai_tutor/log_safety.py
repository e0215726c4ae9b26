"""Keep the provider SDKs' own debug logs free of keys and of what learners wrote.

The SDKs and their HTTP stacks log, at DEBUG, each request's options, the request body
(the system prompt, the learner's question and earlier turns) included. An operator who turns
DEBUG on to chase a fault must not find a question, a learner's name or a key in the LMS log.
`protect(key)` puts one filter on those loggers that:

- replaces the request body (`json_data`) in the SDKs' "Request options" records;
- replaces every key it was given, and any `Bearer` credential, wherever it appears.

Filters on a logger apply only to records logged through that very logger, not its children,
so the filter goes on every logger of those libraries that exists when it is installed (the
SDK is imported by then: `protect` is called when a client is built).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

LIBRARIES = ("anthropic", "openai", "httpx", "httpx2", "httpcore", "httpcore2")
REDACTED = "[redacted]"
BODY_NOT_LOGGED = "[request body not logged]"

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",]+")
_lock = threading.Lock()


class Redactor(logging.Filter):
    """Scrubs records in place; never drops one."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_body(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = _without_body(record.args)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's to report
            return True
        scrubbed = _BEARER.sub(r"\1" + REDACTED, message)
        # Longest first, so a key that contains another key is replaced whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            scrubbed = scrubbed.replace(secret, REDACTED)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


def _without_body(value: Any) -> Any:
    if isinstance(value, Mapping) and "json_data" in value:
        return {**value, "json_data": BODY_NOT_LOGGED}
    return value


_redactor = Redactor()


def protect(secret: str = "") -> None:
    """Install the filter on the SDK loggers (again, for loggers created since) and add
    `secret` to what it replaces. Keys shorter than 8 characters (placeholders such as
    "unused") are not worth replacing everywhere."""
    with _lock:
        if len(secret) >= 8:
            _redactor.secrets.add(secret)
        names = [
            name
            for name in list(logging.root.manager.loggerDict)
            if name.split(".", 1)[0] in LIBRARIES
        ]
        for name in {*LIBRARIES, *names}:
            logger = logging.getLogger(name)
            if _redactor not in logger.filters:
                logger.addFilter(_redactor)
