"""Transcripts: the demo course's .srt files and edx's SJSON, as paragraphs of plain text."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from ai_tutor.context.transcripts import (
    PARAGRAPH_MAX_CHARS,
    sjson_to_text,
    srt_to_text,
    transcript_to_text,
)

STATIC = Path("/work/shared/demo-course/course/static")
SRT_FILES = sorted(STATIC.glob("*.srt"))
TIMING = re.compile(r"\d\d:\d\d:\d\d[,.]\d{3}\s*-->")


def expected_words(srt: str) -> list[str]:
    """The spoken words of an SRT file, read by the test on its own."""
    words: list[str] = []
    for block in re.split(r"\n\s*\n", srt.replace("\r\n", "\n").lstrip("\ufeff")):
        lines = block.strip("\n").split("\n")
        if lines and lines[0].strip().isdigit():
            lines = lines[1:]
        if lines and "-->" in lines[0]:
            lines = lines[1:]
        for line in lines:
            words.extend(html.unescape(line).split())
    return words


def srt_to_sjson(srt: str) -> dict[str, list[object]]:
    """Build edx's SJSON from an SRT file, as edx's converter would (milliseconds)."""

    def ms(stamp: str) -> int:
        hours, minutes, rest = stamp.replace(",", ".").split(":")
        return round((int(hours) * 3600 + int(minutes) * 60 + float(rest)) * 1000)

    start: list[object] = []
    end: list[object] = []
    text: list[object] = []
    for block in re.split(r"\n\s*\n", srt.strip()):
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        begin, finish = (part.strip() for part in lines[timing].split("-->"))
        start.append(ms(begin))
        end.append(ms(finish))
        text.append(" ".join(lines[timing + 1 :]))
    return {"start": start, "end": end, "text": text}


def test_the_demo_course_has_transcripts() -> None:
    assert len(SRT_FILES) >= 6


@pytest.mark.parametrize("path", SRT_FILES, ids=[p.name for p in SRT_FILES])
def test_demo_srt_gives_every_spoken_word_and_nothing_else(path: Path) -> None:
    srt = path.read_text(encoding="utf-8")

    text = srt_to_text(srt)

    assert text.split() == expected_words(srt)
    assert not TIMING.search(text) and "-->" not in text
    assert "&#39;" not in text
    assert all(paragraph.strip() for paragraph in text.split("\n\n"))
    assert max(len(p) for p in text.split("\n\n")) < PARAGRAPH_MAX_CHARS + 200


def test_long_transcripts_are_split_into_paragraphs() -> None:
    srt = (STATIC / "48c991fb-083c-45e1-adad-930d2b11b11e-en.srt").read_text(encoding="utf-8")
    assert len(srt_to_text(srt).split("\n\n")) > 10


@pytest.mark.parametrize("path", SRT_FILES, ids=[p.name for p in SRT_FILES])
def test_sjson_of_a_demo_transcript_gives_the_same_words(path: Path) -> None:
    srt = path.read_text(encoding="utf-8")
    sjson = json.dumps(srt_to_sjson(srt))

    assert sjson_to_text(sjson).split() == srt_to_text(srt).split()
    assert transcript_to_text(sjson.encode()) == sjson_to_text(sjson)
    assert transcript_to_text(srt.encode("utf-8")) == srt_to_text(srt)


def test_a_pause_starts_a_new_paragraph() -> None:
    sjson = {
        "start": [0, 1500, 9000],
        "end": [1400, 3000, 10000],
        "text": ["First part,", "still the same thought.", "After a pause."],
    }
    assert sjson_to_text(sjson) == "First part, still the same thought.\n\nAfter a pause."


def test_caption_markup_and_references_are_decoded() -> None:
    srt = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>It&#39;s</i> <b>bold</b>\r\n\r\n"
        "2\r\n00:00:02,100 --> 00:00:03,000 align:start\r\nsecond\u00a0 line\r\n"
    )
    assert srt_to_text(srt) == "It's bold second line"


def test_webvtt_header_and_notes_are_ignored() -> None:
    vtt = (
        "WEBVTT\n\nNOTE written by hand\n\n00:01.000 --> 00:02.000\nHello\n\n"
        "00:02.500 --> 00:03.000\nworld\n"
    )
    assert transcript_to_text(vtt) == "Hello world"


def test_plain_text_download_is_joined() -> None:
    assert transcript_to_text("line one\nline two\n\n") == "line one line two"


@pytest.mark.parametrize("bad", ['{"start": [1]}', "{not json", '{"text": "not a list"}', "[1, 2]"])
def test_what_is_not_sjson_raises_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        sjson_to_text(bad)


def test_sjson_with_missing_times_still_gives_text() -> None:
    assert sjson_to_text({"text": ["a", "b", 3, "c"]}) == "a b c"
