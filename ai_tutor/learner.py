"""What the tutor may know about the learner beyond their identity: language and progress.

- Language: the tutor replies in the language of the question; when it cannot tell, in the
  learner's LMS language. That comes from the LMS user service (`opt_attrs` key
  `edx-platform.user_preferences`, whose `pref-lang` the LMS copies from the learner's
  account), else from the runtime's i18n service (`get_language()`, Django's current
  language in the LMS and the workbench).
- Progress: for each problem of the unit, how often this learner attempted it and whether the
  last attempt was correct. Inside a handler the LMS does not load sibling blocks' learner
  state, so it is read through the LMS `user_state` service
  (`get_state_as_dict(username, usage_key)`, the stored JSON of the problem's state). Only
  `attempts`, the `correctness` of each `correct_map` entry and `score` are read: the rest
  of a problem's state (`student_answers`, the messages and hints in `correct_map`) may
  carry answers and never leaves this module.

The functions taking a block only call `runtime.service`, `get_parent` and `get_children`;
the rest is plain data.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ai_tutor.context.unit import block_type_of
from ai_tutor.identity.runtime import service

log = logging.getLogger(__name__)

USERNAME = "edx-platform.username"
USER_PREFERENCES = "edx-platform.user_preferences"
LANGUAGE_PREFERENCE = "pref-lang"
USER_STATE_SERVICE = "user_state"

# Enough problems for any real unit; a generated unit with hundreds costs one read each.
MAX_PROBLEMS = 20
_MAX_NAME_CHARS = 80
# "es", "es-419", "zh_HANS", "pt-br": anything else is not put into a prompt.
_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")


# ------------------------------------------------------------------------------ language


def clean_language(value: Any) -> str:
    """`value` as a language code fit for a prompt, else ""."""
    if not isinstance(value, str) or not _LANGUAGE_CODE.match(value.strip()):
        return ""
    return value.strip().replace("_", "-").lower()


def preferred_language(block: Any) -> str:
    """The learner's LMS language as the runtime tells it; "" when it tells nothing."""
    attrs = _opt_attrs(block)
    preferences = attrs.get(USER_PREFERENCES)
    if isinstance(preferences, Mapping):
        language = clean_language(preferences.get(LANGUAGE_PREFERENCE))
        if language:
            return language

    i18n = service(block, "i18n")
    get_language = getattr(i18n, "get_language", None) if i18n is not None else None
    if callable(get_language):
        try:
            return clean_language(get_language())
        except Exception:  # noqa: BLE001 - a translator without a current language
            log.debug("the i18n service gave no current language", exc_info=True)
    return ""


def language_line(language: str) -> str:
    """The prompt's line about the learner's language; "" without one."""
    language = clean_language(language)
    if not language:
        return ""
    return (
        f"The learner's preferred language: {language}. Reply in the language of their "
        f"question; when you cannot tell it (a formula, a single word), reply in {language}."
    )


# ------------------------------------------------------------------------------ progress


@dataclasses.dataclass(frozen=True)
class ProblemProgress:
    """One problem as this learner left it.

    `outcome` is "correct", "incorrect", "partially correct" or "" (not graded yet, or the
    state does not say).
    """

    name: str
    attempts: int
    outcome: str = ""


def progress_from_state(name: str, state: Any) -> ProblemProgress:
    """Read a problem's stored learner state (the LMS's `StudentModule.state` as a dict)."""
    state = state if isinstance(state, Mapping) else {}
    attempts = state.get("attempts")
    attempts = attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else 0
    outcome = _outcome_of_correct_map(state.get("correct_map"))
    if not outcome and attempts > 0:
        outcome = _outcome_of_score(state.get("score"))
    return ProblemProgress(_clean_name(name), max(attempts, 0), outcome)


def _outcome_of_correct_map(correct_map: Any) -> str:
    if not isinstance(correct_map, Mapping):
        return ""
    verdicts = set()
    for entry in correct_map.values():
        correctness = entry.get("correctness") if isinstance(entry, Mapping) else None
        if correctness in ("correct", "incorrect", "partially-correct"):
            verdicts.add(correctness)
    if not verdicts:
        return ""
    if verdicts == {"correct"}:
        return "correct"
    if verdicts == {"incorrect"}:
        return "incorrect"
    return "partially correct"


def _outcome_of_score(score: Any) -> str:
    if not isinstance(score, Mapping):
        return ""
    earned, possible = score.get("raw_earned"), score.get("raw_possible")
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in (earned, possible)):
        return ""
    if possible <= 0:
        return ""
    if earned >= possible:
        return "correct"
    return "incorrect" if earned <= 0 else "partially correct"


def _clean_name(name: str) -> str:
    name = " ".join(str(name or "").split()).replace('"', "'") or "Problem"
    return name if len(name) <= _MAX_NAME_CHARS else name[: _MAX_NAME_CHARS - 1] + "…"


def progress_lines(progress: Sequence[ProblemProgress]) -> list[str]:
    """One line per problem for the prompt."""
    lines = []
    for problem in progress:
        if problem.attempts == 0 and not problem.outcome:
            lines.append(f'Problem "{problem.name}": not attempted yet')
            continue
        parts = []
        if problem.attempts:  # 0 with an outcome: staff reset the attempts, not the answer
            parts.append(
                "attempted 1 time"
                if problem.attempts == 1
                else f"attempted {problem.attempts} times"
            )
        if problem.outcome:
            parts.append(f"last attempt {problem.outcome}")
        lines.append(f'Problem "{problem.name}": ' + ", ".join(parts))
    return lines


def unit_progress(block: Any) -> list[ProblemProgress]:
    """This learner's progress on each problem of the unit holding `block`, in unit order.

    [] when the runtime has no `user_state` service (the workbench), no username (anonymous
    learners) or no readable unit. A problem whose state cannot be read is left out.
    """
    user_state = service(block, USER_STATE_SERVICE)
    username = _opt_attrs(block).get(USERNAME)
    if user_state is None or not isinstance(username, str) or not username:
        return []
    try:
        parent = block.get_parent()
        siblings = list(parent.get_children()) if parent is not None else []
    except Exception:  # noqa: BLE001 - the tutor answers without progress then
        log.debug("unit of the tutor block could not be read for progress", exc_info=True)
        return []

    progress = []
    for sibling in siblings:
        if block_type_of(sibling) != "problem":
            continue
        if len(progress) == MAX_PROBLEMS:
            break
        try:
            state = user_state.get_state_as_dict(username, sibling.scope_ids.usage_id)
        except Exception:  # noqa: BLE001 - one unreadable state must not stop the tutor
            log.debug("problem state left out: reading it failed", exc_info=True)
            continue
        name = getattr(sibling, "display_name", "") or ""
        progress.append(progress_from_state(name if isinstance(name, str) else "", state))
    return progress


def _opt_attrs(block: Any) -> Mapping[str, Any]:
    user_service = service(block, "user")
    if user_service is None:
        return {}
    try:
        attrs = getattr(user_service.get_current_user(), "opt_attrs", None)
    except Exception:  # noqa: BLE001 - a runtime without users has no LMS learner
        return {}
    return attrs if isinstance(attrs, Mapping) else {}
