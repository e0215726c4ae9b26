"""Tracking events the block publishes through the runtime (the LMS's event tracker).

Names follow the third-party convention `xblock.ai_tutor.<noun>.<verb>`; the `edx.` prefix
belongs to the platform. Every event carries the course and block ids; none carries a
learner's words unless the operator turns `share_question_text` on. README.md lists each
event with its fields.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "xblock.ai_tutor."
QUESTION_ASKED = PREFIX + "question.asked"
QUESTION_ANSWERED = PREFIX + "question.answered"
QUESTION_FAILED = PREFIX + "question.failed"
FEEDBACK_SUBMITTED = PREFIX + "feedback.submitted"
CONVERSATION_CLEARED = PREFIX + "conversation.cleared"
LIMIT_REACHED = PREFIX + "limit.reached"

ALL = (
    QUESTION_ASKED,
    QUESTION_ANSWERED,
    QUESTION_FAILED,
    FEEDBACK_SUBMITTED,
    CONVERSATION_CLEARED,
    LIMIT_REACHED,
)


def publish(block: Any, name: str, data: dict[str, Any]) -> None:
    """Publish one event; a runtime that cannot publish (tests, some previews) is no failure.

    Tracking must never cost the learner an answer, so any error of the runtime's tracker is
    logged at DEBUG with the event's name only.
    """
    try:
        block.runtime.publish(block, name, data)
    except Exception as error:  # noqa: BLE001 - the tracker's errors are not ours to raise
        log.debug("ai_tutor event %s not published: %s", name, type(error).__name__)
