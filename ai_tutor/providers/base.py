"""What every provider takes and gives back, and how it fails."""

from __future__ import annotations

import dataclasses
from typing import Literal, Protocol

from ai_tutor.retrieval import Passage

Role = Literal["user", "assistant"]


@dataclasses.dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclasses.dataclass(frozen=True)
class Citation:
    """A unit component a reply drew on."""

    source_id: str
    source_name: str


@dataclasses.dataclass(frozen=True)
class TutorRequest:
    """One question, ready for a provider.

    `messages` alternate roles, start with the learner and end with the new question.
    `passages` are the course passages the prompt carries, best first.
    """

    system: str
    messages: tuple[Message, ...]
    model: str
    max_output_tokens: int
    passages: tuple[Passage, ...] = ()

    @property
    def question(self) -> str:
        return self.messages[-1].content


@dataclasses.dataclass(frozen=True)
class Completion:
    """A provider's reply. `truncated` is true when the output token limit cut it off;
    `refused` when the block withheld the provider's text and answers with a refusal."""

    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str
    truncated: bool = False
    citations: tuple[Citation, ...] = ()
    offline: bool = False
    refused: bool = False


class ProviderError(Exception):
    """A provider call that did not give a usable reply.

    `kind` is one of: timeout, connection, rate_limited, overloaded, auth, not_found,
    context_too_long, bad_request, bad_response, content_filter, refusal, empty, unavailable.
    The message is for logs (never shown to learners) and carries no secret.
    """

    def __init__(self, kind: str, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message or kind)
        self.kind = kind
        self.retry_after = retry_after


class Provider(Protocol):
    name: str

    def complete(self, request: TutorRequest) -> Completion: ...
