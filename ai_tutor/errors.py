"""The errors a learner can meet, each with an HTTP status and a message safe to show."""

from __future__ import annotations

from typing import Any


class TutorError(Exception):
    """An expected failure of a handler, answered as `{"error": {"code", "message"}}`.

    `message` is shown to the learner as it is, so it never carries settings, secrets or
    a provider's own error text.
    """

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.retry_after = retry_after
        self.extra = extra or {}


class BadQuestion(TutorError):
    status = 400


class Unavailable(TutorError):
    status = 503


class Refused(TutorError):
    """A question refused before the provider was asked: a limit, or one already in flight."""

    status = 429
