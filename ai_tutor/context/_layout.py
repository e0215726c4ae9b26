"""Shared pieces for turning parsed markup into plain text lines.

Both the HTML reducer and the problem rebuilder walk an lxml tree and emit text; this module
holds the two things they agree on: how an element is judged hidden from the learner, and how
inline text is gathered into lines.
"""

from __future__ import annotations

import re

from lxml import etree

# Elements whose whole content never reaches the learner's eyes as text.
INVISIBLE_TAGS = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "head",
        "title",
        "meta",
        "link",
        "object",
        "embed",
        "iframe",
        "frame",
        "frameset",
        "applet",
        "param",
        "base",
        "svg",
        "canvas",
    }
)

# Elements that start and end a line of their own.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
        "option",
        "textarea",
        "label",
    }
)
# Table cells: joined on their row's line by " | ".
CELL_TAGS = frozenset({"td", "th"})

_ZERO = r"[+-]?(?:0+(?:\.0*)?|\.0+)[a-z%]*"
_HIDDEN_STYLE_PATTERNS = (
    re.compile(r"(?:^|;)\s*display\s*:\s*none\b"),
    re.compile(r"(?:^|;)\s*visibility\s*:\s*(?:hidden|collapse)\b"),
    re.compile(r"(?:^|;)\s*font-size\s*:\s*" + _ZERO + r"\s*(?:!important\s*)?(?:;|$)"),
    re.compile(r"(?:^|;)\s*opacity\s*:\s*" + _ZERO + r"\s*(?:!important\s*)?(?:;|$)"),
    re.compile(r"(?:^|;)\s*color\s*:\s*transparent\b"),
)


def tag_name(element: etree._Element) -> str:
    """Return the lower-case local name of an element, or "" for comments and the like."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    # Not etree.QName: it rejects names the HTML parser accepts ("a&b").
    return tag.rpartition("}")[2].lower()


def is_hidden(element: etree._Element) -> bool:
    """Tell whether an element is hidden from a sighted learner by its own markup.

    Checks the `hidden` attribute, `aria-hidden="true"`, `<input type="hidden">` and inline
    styles that hide text (display:none, visibility:hidden/collapse, font-size 0, opacity 0,
    transparent colour).
    """
    attrib = element.attrib
    if "hidden" in attrib:
        return True
    if attrib.get("aria-hidden", "").strip().lower() == "true":
        return True
    if tag_name(element) == "input" and attrib.get("type", "").strip().lower() == "hidden":
        return True

    # TODO: elements hidden by a class and a stylesheet (or off-screen positioning) are not
    # detected; only what the element itself says is judged.
    style = re.sub(r"/\*.*?\*/", "", attrib.get("style", ""), flags=re.S).lower()
    return any(pattern.search(style) for pattern in _HIDDEN_STYLE_PATTERNS)


def has_cell_before(cell: etree._Element) -> bool:
    """Tell whether a table cell has another cell before it on its row."""
    previous = cell.getprevious()
    while previous is not None:
        if tag_name(previous) in CELL_TAGS:
            return True
        previous = previous.getprevious()
    return False


class LineWriter:
    """Collects inline text into lines; a block boundary ends the current line.

    Runs of whitespace (non-breaking and other Unicode spaces included) inside a line collapse
    to one space; empty lines are never emitted.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._parts: list[str] = []

    def write(self, text: str | None) -> None:
        """Add inline text to the current line."""
        if text:
            self._parts.append(text)

    def break_line(self) -> None:
        """End the current line, if it holds any text."""
        line = " ".join("".join(self._parts).split())
        self._parts = []
        if line:
            self._lines.append(line)

    def add_line(self, line: str) -> None:
        """End the current line and add a whole line of its own."""
        self.break_line()
        self.write(line)
        self.break_line()

    def text(self) -> str:
        """Return every line so far, joined by newlines."""
        self.break_line()
        return "\n".join(self._lines)
