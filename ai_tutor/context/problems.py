"""Learner-visible text of a capa problem, rebuilt without anything that gives the answer away.

A problem's OLX holds its answers next to its question: `correct` flags on choices and
options, `answer` attributes, grading scripts, solutions, hints and a `markdown` copy of it
all. Rather than copying the XML and cutting those out, the text here is rebuilt from the
parts known to be safe (prompt text, labels, descriptions, the list of choices and options
without their flags, and a placeholder for each input). Attributes are never copied, except
an image's alt text and an input's label or title, which the learner sees.

Fail closed: an element, response type or input type not listed here, a DOCTYPE, or XML that
does not parse makes the whole problem come back as None, never as raw OLX.
"""

from __future__ import annotations

import ast
import html.entities
import logging
import re

from lxml import etree

from ai_tutor.context._layout import (
    BLOCK_TAGS,
    CELL_TAGS,
    LineWriter,
    has_cell_before,
    is_hidden,
    tag_name,
)

log = logging.getLogger(__name__)

RESPONSE_TAGS = frozenset(
    {
        "multiplechoiceresponse",
        "choiceresponse",
        "optionresponse",
        "stringresponse",
        "numericalresponse",
        "formularesponse",
        "customresponse",
        "imageresponse",
        "annotationresponse",
        "schematicresponse",
    }
)

# Everything under these is about the answer (or is code) and is never rendered.
ANSWER_TAGS = frozenset(
    {
        "solution",
        "solutionset",
        "answer",
        "script",
        "style",
        "hint",
        "hintgroup",
        "hintpart",
        "demandhint",
        "choicehint",
        "optionhint",
        "stringequalhint",
        "regexphint",
        "stringhint",
        "formulahint",
        "numericalhint",
        "customhint",
        "compoundhint",
        "booleanhint",
        "correcthint",
        "additional_answer",
        "responseparam",
        "targetedfeedback",
        "targetedfeedbackset",
        "explanation",
    }
)

# Presentational markup whose text the learner reads, besides BLOCK_TAGS and CELL_TAGS.
_INLINE_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "big",
        "cite",
        "code",
        "del",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "nobr",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "tt",
        "u",
        "var",
        "text",
    }
)
_TABLE_TAGS = frozenset({"col", "colgroup"})
# Capa's legacy paragraph markers; they carry no text.
_MARKER_TAGS = frozenset({"startouttext", "endouttext"})
_CAPA_BLOCK_TAGS = frozenset({"problem", "description"})

_INPUT_PLACEHOLDERS = {
    "numericalresponse": "[number input]",
    "formularesponse": "[math expression input]",
    "stringresponse": "[text input]",
    "customresponse": "[text input]",
}
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_NAMED_REFERENCE = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});")
_DECLARATIONS = re.compile(r"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


class NotUnderstood(Exception):
    """Raised inside the rebuild when the problem holds something not known to be safe."""


def problem_to_safe_text(olx: str) -> str | None:
    """Return the learner-visible question of a problem, without its answers, or None.

    The text lists, in document order: prompt paragraphs, labels and descriptions; for a
    choice group a header ("Options (choose one):" or "Options (choose all that apply):")
    and one "- <choice text>" line per choice in document order, written the same way
    whether the choice is correct or not; for a dropdown, in line, "[dropdown: <option>;
    <option>; ...]" likewise; and a bracketed placeholder for each other input ("[number input]",
    "[text input]", ...). Never included: `correct` flags, answer attributes, `<answer>`
    and `<script>` code, solutions, explanations, hints of any kind, tolerances, the
    `markdown` attribute, hidden elements, or any attribute other than an image's alt and
    an input's label or title.

    Returns None when the OLX does not parse, has a DOCTYPE, is not a `<problem>`, holds an
    element, response type or input type this module does not know, or has no text at all.
    Never raises for a str.
    """
    try:
        root = _parse(olx)
        if tag_name(root) != "problem":
            raise NotUnderstood(f"root element is <{tag_name(root) or '?'}>, not <problem>")
        writer = LineWriter()
        _ProblemWriter(writer).element(root)
    except (NotUnderstood, etree.XMLSyntaxError, ValueError) as exc:
        log.debug("problem left out of the context: %s", exc)
        return None

    text = writer.text()
    return text or None


def _parse(olx: str) -> etree._Element:
    if _DECLARATIONS.search(olx):
        raise NotUnderstood("DTD declarations are not accepted")

    # OLX often uses HTML's named references (&nbsp;, &eacute;), which XML does not define:
    # turn those into numeric references before parsing; unknown names still fail the parse.
    olx = _NAMED_REFERENCE.sub(_numeric_reference, olx)

    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
        encoding="utf-8",
    )
    # Bytes with a fixed encoding, so an XML declaration naming another one is harmless.
    return etree.fromstring(olx.encode("utf-8", "replace"), parser=parser)


def _numeric_reference(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES or name not in html.entities.name2codepoint:
        return match.group(0)
    return f"&#{html.entities.name2codepoint[name]};"


class _ProblemWriter:
    """Walks a parsed problem and writes only what is known to be safe."""

    def __init__(self, writer: LineWriter) -> None:
        self.writer = writer

    def element(self, element: etree._Element) -> None:
        """Write one element's safe text (not its tail), or raise NotUnderstood."""
        if not isinstance(element.tag, str):
            raise NotUnderstood(f"unexpected node {element!r}")
        name = tag_name(element)

        if name in ANSWER_TAGS or name in _MARKER_TAGS or name in _TABLE_TAGS:
            return
        if is_hidden(element):
            return

        if name == "choicegroup":
            self.choices(element, multiple=False)
        elif name == "checkboxgroup":
            self.choices(element, multiple=True)
        elif name == "optioninput":
            self.dropdown(element)
        elif name == "annotationinput":
            self.annotation(element)
        elif name in ("textline", "formulaequationinput"):
            self.text_input(element)
        elif name == "textbox":
            self.placeholder(element, "[code input box]")
        elif name == "jsinput":
            self.placeholder(element, "[interactive exercise]", attribute="title")
        elif name == "imageinput":
            self.placeholder(element, "[clickable image]", attribute="alt")
        elif name == "schematic":
            self.placeholder(element, "[circuit schematic editor]")
        elif name == "img":
            alt = element.get("alt", "").strip()
            if alt:
                self.writer.write(f" [image: {alt}] ")
        elif name == "br":
            self.writer.break_line()
        elif name == "optionresponse":
            # In line: dropdowns often sit inside a sentence or a table cell.
            self.contents(element)
        elif name in RESPONSE_TAGS or name in _CAPA_BLOCK_TAGS or name in BLOCK_TAGS:
            self.writer.break_line()
            self.contents(element)
            self.writer.break_line()
        elif name in CELL_TAGS:
            if has_cell_before(element):
                self.writer.write(" | ")
            self.contents(element)
            self.writer.write(" ")
        elif name == "clarification":
            self.writer.write(" (")
            self.contents(element)
            self.writer.write(") ")
        elif name in _INLINE_TAGS:
            self.contents(element)
        else:
            raise NotUnderstood(f"unknown element <{name}>")

    def contents(self, element: etree._Element) -> None:
        """Write an element's own text, then each child followed by its tail."""
        self.writer.write(element.text)
        for child in element:
            self.element(child)
            self.writer.write(child.tail)

    def choices(self, group: etree._Element, multiple: bool) -> None:
        """Write every choice of a group in one uniform format, flags never read."""
        header = "Options (choose all that apply):" if multiple else "Options (choose one):"
        self.writer.add_line(header)
        for child in group:
            name = tag_name(child)
            if name in ANSWER_TAGS:
                continue
            if name != "choice":
                raise NotUnderstood(f"<{name}> inside a choice group")
            self.writer.add_line("- " + self.inline_text(child))

    def dropdown(self, optioninput: etree._Element) -> None:
        """Write a dropdown's options in document order, flags never read."""
        self.label(optioninput)
        if optioninput.get("options") is not None:
            options = _parse_options_attribute(optioninput.get("options", ""))
        else:
            options = []
            for child in optioninput:
                name = tag_name(child)
                if name in ANSWER_TAGS:
                    continue
                if name != "option":
                    raise NotUnderstood(f"<{name}> inside an option input")
                options.append(self.inline_text(child))
        if not options:
            raise NotUnderstood("dropdown without options")

        listed = "; ".join(" ".join(option.split()) for option in options)
        self.writer.write(f" [dropdown: {listed}] ")

    def annotation(self, annotationinput: etree._Element) -> None:
        """Write an annotation exercise: passage, prompts and tag options without flags."""
        prefixes = {
            "title": "",
            "text": "Annotated text: ",
            "comment": "Comment: ",
            "comment_prompt": "",
            "tag_prompt": "",
        }
        for child in annotationinput:
            name = tag_name(child)
            if name in prefixes:
                self.writer.add_line(prefixes[name] + self.inline_text(child))
            elif name == "options":
                self.writer.add_line("Tag options:")
                for option in child:
                    if tag_name(option) != "option":
                        raise NotUnderstood(f"<{tag_name(option)}> inside annotation options")
                    self.writer.add_line("- " + self.inline_text(option))
            elif name not in ANSWER_TAGS:
                raise NotUnderstood(f"<{name}> inside an annotation input")

    def text_input(self, element: etree._Element) -> None:
        """Write the placeholder that fits the response the input belongs to."""
        response = next(
            (tag_name(a) for a in element.iterancestors() if tag_name(a) in RESPONSE_TAGS), ""
        )
        if response not in _INPUT_PLACEHOLDERS:
            raise NotUnderstood(f"<{tag_name(element)}> outside a known text response")
        text = _INPUT_PLACEHOLDERS[response]
        if response == "customresponse" and element.get("math") == "1":
            text = _INPUT_PLACEHOLDERS["formularesponse"]
        self.placeholder(element, text)

    def placeholder(self, element: etree._Element, text: str, attribute: str = "") -> None:
        """Write an input's placeholder line; its inner content is never read."""
        self.label(element)
        detail = " ".join(element.get(attribute, "").split()) if attribute else ""
        self.writer.add_line(f"{text[:-1]}: {detail}]" if detail else text)

    def label(self, element: etree._Element) -> None:
        """Write the learner-facing label an input carries as an attribute, if any."""
        label = " ".join(element.get("label", "").split())
        if label:
            self.writer.add_line(label)

    def inline_text(self, element: etree._Element) -> str:
        """Return an element's safe text on one line (hints inside it left out)."""
        inner = LineWriter()
        _ProblemWriter(inner).contents(element)
        return " ".join(inner.text().split()) or "[no text]"


def _parse_options_attribute(value: str) -> list[str]:
    # The old form is a Python-like tuple of quoted strings: options="('a','b')".
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise NotUnderstood(f"options attribute does not parse: {exc}") from exc
    options = [parsed] if isinstance(parsed, str) else parsed
    if not isinstance(options, (tuple, list)) or not all(isinstance(o, str) for o in options):
        raise NotUnderstood("options attribute is not a list of strings")
    return list(options)
