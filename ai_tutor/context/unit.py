"""The components of the unit a tutor block sits in, as text the tutor may read.

The tutor looks at what each sibling block offers instead of importing edx-platform, so the
same code serves the LMS and the workbench:

- HTML (`html`): the `data` field holds the HTML (workbench `html_demo`: `content`).
- Problem (`problem`): the `data` field holds the OLX; only the rebuilt, answer-free question
  is used (see `problems.problem_to_safe_text`), and a problem it cannot read is left out.
- Video (`video`): the block's own `transcript` handler, as the LMS player calls it:
  `transcript(request, "download")`, optional `?lang=<code>`, answering a webob Response
  whose body is the transcript (SRT, SJSON or plain text).

Any other block type (drag and drop, open response, library content, LTI, polls, ...) is left
out, not guessed at. The tutor block itself is never included.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from webob import Request

from ai_tutor.context.html_text import html_to_text
from ai_tutor.context.problems import problem_to_safe_text
from ai_tutor.context.transcripts import transcript_to_text

log = logging.getLogger(__name__)

# The name shown for a component that has no display name of its own.
_DEFAULT_NAMES = {"html": "Text", "html_demo": "Text", "problem": "Problem", "video": "Video"}


@dataclass(frozen=True)
class Component:
    """One unit component as the tutor sees it.

    `block_id` is `str(usage_id)` of the block, stable for as long as the block exists;
    `block_type` its XBlock type ("html", "problem", "video"); `display_name` never empty;
    `text` safe for a prompt (hidden HTML, answers and hints already removed), never empty.
    """

    block_id: str
    block_type: str
    display_name: str
    text: str


def gather_unit_components(block: Any, transcript_language: str | None = None) -> list[Component]:
    """Return the readable components of the unit holding `block`, in unit order.

    `block` is the tutor block: its parent (`get_parent()`) is the unit and the parent's
    `get_children()` the components. Components of unknown types, components without text
    and problems that cannot be made safe are left out; an exception while reading one
    component skips it (DEBUG log). Never raises: a block without a readable parent gives [].

    `transcript_language` asks videos for that language first, then for their default one.
    """
    try:
        parent = block.get_parent()
        children = list(parent.get_children()) if parent is not None else []
        own_id = str(block.scope_ids.usage_id)
    except Exception:  # noqa: BLE001 - the tutor must answer even without its unit
        log.debug("unit of the tutor block could not be read", exc_info=True)
        return []

    components = []
    for child in children:
        try:
            component = _read_component(child, own_id, transcript_language)
        except Exception:  # noqa: BLE001 - one broken component must not break the tutor
            log.debug("component left out: reading it failed", exc_info=True)
            continue
        if component is not None:
            components.append(component)
    return components


def _read_component(child: Any, own_id: str, transcript_language: str | None) -> Component | None:
    block_id = str(child.scope_ids.usage_id)
    if block_id == own_id:
        return None

    block_type = block_type_of(child)
    reader = _READERS.get(block_type)
    if reader is None:
        log.debug("component %s left out: block type %r is not read", block_id, block_type)
        return None

    text = reader(child, transcript_language)
    if not text or not text.strip():
        log.debug("component %s left out: no safe text", block_id)
        return None
    return Component(block_id, block_type, _display_name(child, block_type), text.strip())


def block_type_of(block: Any) -> str:
    """Return a block's XBlock type: `scope_ids.block_type`, else its `category`, else ""."""
    scope_ids = getattr(block, "scope_ids", None)
    block_type = getattr(scope_ids, "block_type", None) or getattr(block, "category", None)
    return block_type if isinstance(block_type, str) else ""


def _display_name(block: Any, block_type: str) -> str:
    for attribute in ("display_name", "display_name_with_default"):
        name = getattr(block, attribute, None)
        if isinstance(name, str) and name.strip():
            return " ".join(name.split())
    return _DEFAULT_NAMES.get(block_type, block_type)


def _read_html(block: Any, _language: str | None) -> str:
    return html_to_text(_string_field(block, "data"))


def _read_workbench_html(block: Any, _language: str | None) -> str:
    return html_to_text(_string_field(block, "content"))


def _read_problem(block: Any, _language: str | None) -> str | None:
    return problem_to_safe_text(_string_field(block, "data"))


def _read_video(block: Any, language: str | None) -> str | None:
    handler = getattr(block, "transcript", None)
    if not callable(handler) or not getattr(handler, "_is_xblock_handler", False):
        log.debug("video %s offers no transcript handler", block.scope_ids.usage_id)
        return None

    # Called directly, not through runtime.handle, so nothing on the video block is saved.
    queries = ([{"lang": language}] if language else []) + [{}]
    for query in queries:
        path = "/download" + (f"?{urlencode(query)}" if query else "")
        response = handler(Request.blank(path), "download")
        if getattr(response, "status_code", None) == 200:
            return transcript_to_text(response.body)
    return None


def _string_field(block: Any, name: str) -> str:
    value = getattr(block, name)
    if not isinstance(value, str):
        raise TypeError(f"field {name!r} is {type(value).__name__}, not str")
    return value


_READERS: dict[str, Callable[[Any, str | None], str | None]] = {
    "html": _read_html,
    "html_demo": _read_workbench_html,
    "problem": _read_problem,
    "video": _read_video,
}
