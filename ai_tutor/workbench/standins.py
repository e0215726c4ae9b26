"""Display stand-ins for the edx-platform blocks a course unit holds (html, problem, video).

xblock-sdk has none of them. Each stand-in keeps the field an LMS block keeps (`data` for
HTML and problems; transcripts for videos) so the tutor reads it the way it reads the real
block, and shows as much as the workbench can: HTML as it is, a problem as its learner-
facing text, a video as its title and transcript.
"""

from __future__ import annotations

import html
import json
from typing import Any

from lxml import etree
from web_fragments.fragment import Fragment
from webob import Response
from xblock.core import XBlock
from xblock.fields import Dict, Scope, String

_FRAME = (
    '<div class="ai-tutor-standin" data-usage-id="{usage_id}" id="{anchor}">'
    '<h3 class="ai-tutor-standin-title">{title}</h3>{body}</div>'
)


def _frame(block: XBlock, body: str) -> Fragment:
    usage_id = str(block.scope_ids.usage_id)
    return Fragment(
        _FRAME.format(
            usage_id=html.escape(usage_id),
            anchor=html.escape("component-" + usage_id),
            title=html.escape(block.display_name or ""),
            body=body,
        )
    )


def _inner_xml(node: Any) -> str:
    parts = [node.text or ""]
    parts += [etree.tostring(child, encoding="unicode") for child in node]
    return "".join(parts)


class HtmlStandIn(XBlock):
    """Stands in for edx-platform's HTML block: `data` holds the component's HTML."""

    display_name = String(default="Text", scope=Scope.settings)
    data = String(default="", scope=Scope.content)
    category = "html"

    @classmethod
    def parse_xml(cls, node: Any, runtime: Any, keys: Any, *args: Any) -> XBlock:
        block = runtime.construct_xblock_from_class(cls, keys)
        block.display_name = node.get("display_name", "Text")
        block.data = _inner_xml(node)
        return block

    def student_view(self, context: Any = None) -> Fragment:
        # Course HTML is trusted author content in Open edX, shown as the LMS shows it.
        return _frame(self, f'<div class="ai-tutor-standin-html">{self.data}</div>')


class ProblemStandIn(XBlock):
    """Stands in for edx-platform's problem block: `data` holds the problem's OLX."""

    display_name = String(default="Problem", scope=Scope.settings)
    data = String(default="", scope=Scope.content)
    category = "problem"

    @classmethod
    def parse_xml(cls, node: Any, runtime: Any, keys: Any, *args: Any) -> XBlock:
        block = runtime.construct_xblock_from_class(cls, keys)
        block.display_name = node.get("display_name", "Problem")
        block.data = etree.tostring(node, encoding="unicode")
        return block

    def student_view(self, context: Any = None) -> Fragment:
        from ai_tutor.context.problems import problem_to_safe_text

        text = problem_to_safe_text(self.data)
        if text is None:
            body = "<p><em>This problem type is shown only in the LMS.</em></p>"
        else:
            body = f'<pre class="ai-tutor-standin-problem">{html.escape(text)}</pre>'
        return _frame(self, body)


class VideoStandIn(XBlock):
    """Stands in for edx-platform's video block: its transcripts, read from the course."""

    display_name = String(default="Video", scope=Scope.settings)
    transcripts = Dict(default={}, scope=Scope.settings)  # language -> transcript file name
    transcript_texts = Dict(default={}, scope=Scope.content)  # language -> transcript file body
    category = "video"

    @classmethod
    def parse_xml(cls, node: Any, runtime: Any, keys: Any, *args: Any) -> XBlock:
        block = runtime.construct_xblock_from_class(cls, keys)
        block.display_name = node.get("display_name", "Video")
        texts = {}
        for transcript in node.findall("transcript_text"):
            texts[transcript.get("language", "en")] = transcript.text or ""
        block.transcript_texts = texts
        block.transcripts = json.loads(node.get("transcripts") or "{}")
        return block

    def _transcript_language(self, wanted: str | None) -> str | None:
        if wanted in self.transcript_texts:
            return wanted
        if "en" in self.transcript_texts:
            return "en"
        return sorted(self.transcript_texts)[0] if self.transcript_texts else None

    @XBlock.handler
    def transcript(self, request: Any, dispatch: str = "") -> Response:
        """The LMS video block's transcript API, `download` dispatch: the SRT file itself."""
        language = self._transcript_language(request.GET.get("lang"))
        if not dispatch.startswith("download") or language is None:
            return Response(status=404)
        return Response(
            body=self.transcript_texts[language].encode("utf-8"),
            content_type="application/x-subrip",
            charset="utf-8",
        )

    def student_view(self, context: Any = None) -> Fragment:
        from ai_tutor.context.transcripts import transcript_to_text

        text = ""
        language = self._transcript_language(None)
        if language is not None:
            text = transcript_to_text(self.transcript_texts[language])
        body = "<p><em>Video (played only in the LMS).</em></p>"
        if text:
            body += (
                "<details><summary>Transcript</summary>"
                f'<p class="ai-tutor-standin-transcript">{html.escape(text)}</p></details>'
            )
        return _frame(self, body)


STAND_INS = {"html": HtmlStandIn, "problem": ProblemStandIn, "video": VideoStandIn}


class UnitStandIn(XBlock):
    """Stands in for edx-platform's unit (vertical): a titled list of components."""

    display_name = String(default="Unit", scope=Scope.settings)
    has_children = True
    category = "vertical"

    def student_view(self, context: Any = None) -> Fragment:
        return self._unit(self.runtime.render_children(self, context=context))

    def author_view(self, context: Any = None) -> Fragment:
        """Studio's preview of a unit: each component's author view where it has one."""
        children = []
        for child_id in self.children:
            child = self.runtime.get_block(child_id)
            view = "author_view" if getattr(child, "has_author_view", False) else "student_view"
            children.append(self.runtime.render_child(child, view, context))
        return self._unit(children)

    def _unit(self, children: list[Fragment]) -> Fragment:
        fragment = Fragment()
        fragment.add_resources(children)
        body = "".join(child.body_html() for child in children)
        fragment.add_content(
            f'<div class="ai-tutor-standin-unit"><h2>{html.escape(self.display_name)}</h2>'
            f"{body}</div>"
        )
        return fragment


STAND_INS["vertical"] = UnitStandIn
