"""Course context: the text of the tutor's unit, made safe for a prompt.

`gather_unit_components(block)` reads the sibling components of the tutor block; the modules
below turn each kind into text: `problems` (questions without answers, fail-closed),
`html_text` (visible HTML text only) and `transcripts` (SRT / SJSON captions as prose).
"""

from ai_tutor.context.html_text import html_to_text
from ai_tutor.context.problems import problem_to_safe_text
from ai_tutor.context.transcripts import sjson_to_text, srt_to_text, transcript_to_text
from ai_tutor.context.unit import Component, gather_unit_components

__all__ = [
    "Component",
    "gather_unit_components",
    "html_to_text",
    "problem_to_safe_text",
    "sjson_to_text",
    "srt_to_text",
    "transcript_to_text",
]
