"""Plain text from video transcripts: SubRip (.srt), edx's SJSON and plain text.

Captions come as many short cues; the tutor wants prose. Cues are joined with spaces into
paragraphs, and a new paragraph starts at a pause in the speech, once a paragraph is long and a
sentence has just ended, or once it is very long whatever the punctuation.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ai_tutor.context.html_text import html_to_text

log = logging.getLogger(__name__)

# A pause of this many seconds between two cues starts a new paragraph.
PARAGRAPH_PAUSE_SECONDS = 2.0
# Past this many characters a paragraph ends at the next sentence end.
PARAGRAPH_CHARS = 600
# Unpunctuated captions (automatic ones) still get a break at this length.
PARAGRAPH_MAX_CHARS = 1500

_TIMING = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[,.]\d{1,3})\s*-->\s*"
    r"(?P<end>(?:\d+:)?\d{1,2}:\d{2}[,.]\d{1,3})"
)
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*$")


@dataclass(frozen=True)
class Cue:
    """One caption: times in seconds (None when the format has none) and its text."""

    start: float | None
    end: float | None
    text: str


def srt_to_text(srt: str) -> str:
    """Return the spoken text of a SubRip (or WebVTT) transcript as paragraphs.

    Cue numbers, timings and caption markup (`<i>`, `<font>`, ...) are dropped and character
    references decoded. Paragraphs are separated by one blank line. Lines that are not in a
    timed cue (a WEBVTT header, NOTE blocks) are ignored. Returns "" when there is no text.
    """
    return cues_to_paragraphs(parse_srt(srt))


def sjson_to_text(sjson: str | bytes | dict[str, object]) -> str:
    """Return the text of an edx SJSON transcript (`{"start": [ms...], "end": [...],
    "text": [...]}`) as paragraphs, like `srt_to_text`.

    Raises ValueError when the content is not SJSON (bad JSON, no "text" list).
    """
    return cues_to_paragraphs(parse_sjson(sjson))


def transcript_to_text(content: str | bytes) -> str:
    """Return paragraphs from a transcript whose format is judged from its content.

    SJSON when it is a JSON object, SubRip/WebVTT when it holds a "-->" timing line, plain
    text (one caption per line, as edx's "txt" download gives) otherwise. Returns "" when
    there is no text; raises ValueError for content that looks like JSON but is not SJSON.
    """
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig", "replace")
    content = content.lstrip("\ufeff")

    if content.lstrip().startswith("{"):
        return sjson_to_text(content)
    if any(_TIMING.match(line) for line in content.splitlines()):
        return srt_to_text(content)
    return cues_to_paragraphs(Cue(None, None, line) for line in content.splitlines())


def parse_srt(srt: str) -> list[Cue]:
    """Split SubRip/WebVTT text into cues, in file order."""
    cues: list[Cue] = []
    start: float | None = None
    end: float | None = None
    lines: list[str] = []
    in_cue = False

    def finish() -> None:
        if in_cue and lines:
            cues.append(Cue(start, end, " ".join(lines)))

    for raw_line in srt.lstrip("\ufeff").splitlines():
        timing = _TIMING.match(raw_line)
        if timing:
            finish()
            start, end = _seconds(timing["start"]), _seconds(timing["end"])
            lines = []
            in_cue = True
        elif not raw_line.strip():
            finish()
            lines = []
            in_cue = False
        elif in_cue:
            lines.append(raw_line)
    finish()
    return cues


def parse_sjson(sjson: str | bytes | dict[str, object]) -> list[Cue]:
    """Read edx SJSON into cues. Raises ValueError when it is not SJSON."""
    data = json.loads(sjson) if isinstance(sjson, (str, bytes)) else sjson
    texts = data.get("text") if isinstance(data, dict) else None
    if not isinstance(texts, list):
        raise ValueError("not an SJSON transcript: no 'text' list")

    starts = _times(data.get("start"), len(texts))
    ends = _times(data.get("end"), len(texts))
    return [
        Cue(starts[index], ends[index], text)
        for index, text in enumerate(texts)
        if isinstance(text, str)
    ]


def cues_to_paragraphs(cues: Iterable[Cue]) -> str:
    """Join cues into paragraphs separated by a blank line (see the module docstring)."""
    paragraphs: list[str] = []
    current: list[str] = []
    length = 0
    previous_end: float | None = None

    for cue in cues:
        text = _cue_text(cue.text)
        if not text:
            continue

        paused = (
            previous_end is not None
            and cue.start is not None
            and cue.start - previous_end >= PARAGRAPH_PAUSE_SECONDS
        )
        long_enough = current and (
            length >= PARAGRAPH_MAX_CHARS
            or (length >= PARAGRAPH_CHARS and _SENTENCE_END.search(current[-1]))
        )
        if current and (paused or long_enough):
            paragraphs.append(" ".join(current))
            current, length = [], 0

        current.append(text)
        length += len(text) + 1
        if cue.end is not None:
            previous_end = cue.end if previous_end is None else max(previous_end, cue.end)

    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _cue_text(text: str) -> str:
    # Caption markup and character references (&#39; is common in edx's files) go through the
    # HTML reducer, which also collapses the odd Unicode spaces captioning tools leave behind.
    if "<" in text or "&" in text:
        text = html_to_text(text).replace("\n", " ")
    return " ".join(text.split())


def _seconds(timestamp: str) -> float:
    parts = timestamp.replace(",", ".").split(":")
    seconds = float(parts[-1])
    for index, part in enumerate(reversed(parts[:-1]), start=1):
        seconds += int(part) * 60**index
    return seconds


def _times(values: object, count: int) -> Sequence[float | None]:
    # SJSON times are milliseconds; anything missing or malformed is treated as unknown.
    if not isinstance(values, list) or len(values) != count:
        return [None] * count
    return [
        value / 1000.0 if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        for value in values
    ]
