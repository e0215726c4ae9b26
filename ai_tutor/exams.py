"""Whether a block sits in a timed, proctored or other exam subsection.

edx-platform keeps the exam settings on the subsection (the `sequential` block):
`is_time_limited`, `is_proctored_enabled` (alias `is_proctored_exam`), `is_practice_exam`
and `is_onboarding_exam`. The tutor walks up its parents and reads those fields where they
exist; a runtime that has no such fields (the workbench) or cannot load a parent tells
nothing, and the tutor then takes the unit for an ordinary one.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

EXAM_FIELDS = (
    "is_time_limited",
    "is_proctored_enabled",
    "is_proctored_exam",
    "is_practice_exam",
    "is_onboarding_exam",
)
# Unit, subsection, section, course: an exam setting is never further up.
MAX_DEPTH = 6

EXAM_MESSAGE = "The tutor is not available during exams."


def exam_setting(block: Any) -> str:
    """The first exam field set on a parent of `block` (e.g. "is_time_limited"), else ""."""
    node = block
    for _ in range(MAX_DEPTH):
        try:
            node = node.get_parent()
        except Exception:  # noqa: BLE001 - a parent the runtime cannot load tells nothing
            log.debug("a parent of the tutor block could not be read", exc_info=True)
            return ""
        if node is None:
            return ""
        for field in EXAM_FIELDS:
            # `is True`: only a real Boolean field set to true counts, not a stand-in value.
            if getattr(node, field, None) is True:
                return field
    return ""


def in_exam(block: Any) -> bool:
    return bool(exam_setting(block))
