"""Reduce an HTML component to the text a learner reads.

Course HTML is written by authors, imported from elsewhere or pasted in; whatever a learner
cannot see (comments, scripts, styles, templates, hidden elements) is a channel for
instructions aimed at the model, so it is dropped, not just left unrendered.
"""

from __future__ import annotations

import logging

import lxml.html
from lxml import etree

from ai_tutor.context._layout import (
    BLOCK_TAGS,
    CELL_TAGS,
    INVISIBLE_TAGS,
    LineWriter,
    has_cell_before,
    is_hidden,
    tag_name,
)

log = logging.getLogger(__name__)

# Form controls show no text of their own here; a hidden input is dropped as hidden anyway.
_VOID_TAGS = frozenset({"input", "button", "select", "area", "map", "source", "track", "wbr"})


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML fragment or document.

    Blocks (paragraphs, headings, list items, table rows, ...) become lines; list items start
    with "- ", table cells on a row are joined by " | ", images give "[image: alt]" when they
    have alt text. Comments, processing instructions, `<script>`, `<style>`, `<template>`,
    `<noscript>`, embedded objects and every hidden element (see `_layout.is_hidden`) are left
    out with all their content. Character references are decoded. Never raises for a str;
    returns "" when there is no text.
    """
    if not html or not html.strip():
        return ""

    parser = lxml.html.HTMLParser(
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        encoding="utf-8",
    )
    try:
        # Bytes with a fixed encoding, so an XML declaration naming another one is harmless.
        root = lxml.html.fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        # lxml raises these only for documents with nothing in them.
        log.debug("HTML gave no document: %s", exc)
        return ""

    writer = LineWriter()
    write_element(root, writer)
    return writer.text()


def write_element(element: etree._Element, writer: LineWriter) -> None:
    """Write one element's visible text (not its tail) to `writer`."""
    name = tag_name(element)
    if not name or name in INVISIBLE_TAGS or is_hidden(element):
        return

    if name == "br":
        writer.break_line()
        return
    if name == "img":
        alt = element.get("alt", "").strip()
        if alt:
            writer.write(f" [image: {alt}] ")
        return
    if name in _VOID_TAGS:
        return
    if name == "pre":
        # Line breaks are the content here; hidden parts are still left out.
        writer.break_line()
        for line in "".join(_preformatted(element)).splitlines():
            writer.add_line(line)
        return

    block = name in BLOCK_TAGS
    if block:
        writer.break_line()
    if name == "li":
        writer.write("- ")
    if name in CELL_TAGS and has_cell_before(element):
        writer.write(" | ")

    writer.write(element.text)
    for child in element:
        write_element(child, writer)
        writer.write(child.tail)

    if block:
        writer.break_line()
    elif name in CELL_TAGS:
        writer.write(" ")


def _preformatted(element: etree._Element) -> list[str]:
    """Return the visible text pieces of a `<pre>`, with `<br>` as a newline."""
    pieces = [element.text or ""]
    for child in element:
        name = tag_name(child)
        if name == "br":
            pieces.append("\n")
        elif name and name not in INVISIBLE_TAGS and not is_hidden(child):
            pieces.extend(_preformatted(child))
        pieces.append(child.tail or "")
    return pieces
