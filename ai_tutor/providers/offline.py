"""The offline provider: answers from the course material alone, with no network and no key."""

from __future__ import annotations

from ai_tutor.providers.base import Citation, Completion, TutorRequest
from ai_tutor.retrieval import index_for, words

QUOTED_PASSAGES = 3


class OfflineProvider:
    """Quotes the passages of the unit that best match the question, with their sources.

    It is the default when no provider is configured, and a fallback when the configured
    one cannot answer. Its replies say plainly that they come from offline mode.
    """

    name = "offline"

    def complete(self, request: TutorRequest) -> Completion:
        ranked = index_for(request.passages).rank(request.question, limit=QUOTED_PASSAGES)
        input_tokens = len(words(request.question))

        if not ranked:
            text = (
                "*Offline mode: replies quote the course material; no AI model is connected.*\n\n"
                "I could not find anything about that in this unit's material. Try other words, "
                "or ask your course team."
            )
            return Completion(text, input_tokens, 0, "end_turn", offline=True)

        citations: list[Citation] = []
        lines = [
            "*Offline mode: replies quote the course material; no AI model is connected.*",
            "",
            "Here is what this unit says that matches your question:",
            "",
        ]
        for passage, _score in ranked:
            citation = Citation(passage.source_id, passage.source_name)
            if citation not in citations:
                citations.append(citation)
            number = citations.index(citation) + 1
            lines.append(f"> {passage.text} [{number}]")
            lines.append("")
        text = "\n".join(lines).strip()
        return Completion(
            text,
            input_tokens,
            len(text.split()),
            "end_turn",
            citations=tuple(citations),
            offline=True,
        )
