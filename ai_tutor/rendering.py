"""Replies are markdown; learners get them as sanitised HTML rendered on the server.

LaTeX is taken out before markdown can touch it (markdown eats backslashes: `\\(` becomes
`(`): `$...$`, `$$...$$`, `\\(...\\)` and `\\[...\\]` come out as escaped TeX between
MathJax's own delimiters in a `span` or `div` of class `ai-tutor-math`, which the page's
MathJax typesets where there is one, and which reads as plain TeX where there is none.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Dollars only around something that is not a price: "$5 and $10" stays text.
dollarmath_plugin(_markdown, allow_space=False, allow_digits=False, double_inline=True)
texmath_plugin(_markdown, delimiters="brackets")


def _inline_math(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    tex = html.escape(tokens[idx].content)
    return f'<span class="ai-tutor-math">\\({tex}\\)</span>'


def _block_math(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    tex = html.escape(tokens[idx].content.strip())
    return f'<div class="ai-tutor-math">\\[{tex}\\]</div>\n'


for _name in ("math_inline",):
    _markdown.add_render_rule(_name, _inline_math)
for _name in ("math_inline_double", "math_block", "math_block_label", "math_block_eqno"):
    _markdown.add_render_rule(_name, _block_math)

_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "sup",
    "sub",
    "span",
    "div",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
# Only the math wrappers keep a class; any other class a reply could smuggle in is dropped.
_MATH_CLASS = "ai-tutor-math"


def _same_host_only(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        return value if tag in ("span", "div") and value == _MATH_CLASS else None
    # Images from other hosts would let a reply make the learner's browser call anywhere.
    if tag == "img" and attribute == "src":
        parts = urlsplit(value)
        if parts.scheme or parts.netloc or not value.startswith("/"):
            return None
    return value


def render_markdown(text: str) -> str:
    """HTML for a reply: no raw HTML passes, links only http(s) and mailto, images only from
    this site."""
    html = _markdown.render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes={**_ATTRIBUTES, "span": {"class"}, "div": {"class"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_same_host_only,
    )
