"""A learner's conversation as it is stored in the block's user state.

Each turn is a plain dict (JSON in the field store):
`{"role": "user" | "assistant", "content": str, "at": ISO time}`; assistant turns also hold
`citations` (list of `{"source_id", "source_name"}`), `provider`, `offline` and `truncated`,
and `"refused": True` when the block withheld the provider's reply and refused instead.
A question the tutor could not answer is kept as a user turn with `"status": "failed"` (and
the client's `client_msg_id`, when it sent one) so the learner can retry it; it never goes
into a prompt.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from ai_tutor.providers.base import Citation, Completion, Message

Turn = dict[str, Any]


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def question_turn(question: str, client_msg_id: str = "") -> Turn:
    turn: Turn = {"role": "user", "content": question, "at": now_iso()}
    if client_msg_id:
        turn["client_msg_id"] = client_msg_id
    return turn


def failed_question_turn(question: str, client_msg_id: str = "") -> Turn:
    return {**question_turn(question, client_msg_id), "status": "failed"}


def is_failed(turn: Turn) -> bool:
    return turn.get("role") == "user" and turn.get("status") == "failed"


def without_failed(history: Sequence[Turn], question: str, client_msg_id: str = "") -> list[Turn]:
    """`history` without the failed turns this question retries (same id, or same text)."""
    return [
        turn
        for turn in history
        if not (
            is_failed(turn)
            and (
                (client_msg_id and turn.get("client_msg_id") == client_msg_id)
                or turn.get("content") == question
            )
        )
    ]


def reply_turn(completion: Completion, provider: str) -> Turn:
    """The assistant turn for `completion`; a withheld reply is marked `"refused": True`."""
    turn: Turn = {
        "role": "assistant",
        "content": completion.text,
        "at": now_iso(),
        "citations": [
            {"source_id": c.source_id, "source_name": c.source_name} for c in completion.citations
        ],
        "provider": provider,
        "offline": completion.offline,
        "truncated": completion.truncated,
    }
    if completion.refused:
        turn["refused"] = True
    return turn


def valid_turns(stored: Any) -> list[Turn]:
    """The well-formed turns of a stored conversation, in order; anything else is dropped."""
    if not isinstance(stored, list):
        return []
    return [
        turn
        for turn in stored
        if isinstance(turn, dict)
        and turn.get("role") in ("user", "assistant")
        and isinstance(turn.get("content"), str)
    ]


def appended(history: Sequence[Turn], new_turns: Iterable[Turn], max_turns: int) -> list[Turn]:
    """A new list: `history` plus `new_turns`, keeping only the last `max_turns`, and never
    starting with an assistant turn."""
    turns = [*history, *new_turns][-max_turns:]
    while turns and turns[0]["role"] != "user":
        turns.pop(0)
    return turns


def prompt_messages(history: Sequence[Turn], max_turns: int) -> list[Message]:
    """The answered exchanges of `history` that go into a prompt, most recent last.

    Only complete question-and-reply pairs are used, so roles always alternate and start
    with the learner, whatever the stored list holds.
    """
    pairs: list[tuple[Turn, Turn]] = []
    turns = valid_turns(history)
    index = 0
    while index + 1 < len(turns):
        first, second = turns[index], turns[index + 1]
        if (
            first["role"] == "user"
            and not is_failed(first)
            and second["role"] == "assistant"
            and second["content"].strip()
        ):
            pairs.append((first, second))
            index += 2
        else:
            index += 1

    keep = max(0, max_turns // 2)
    chosen = pairs[-keep:] if keep else []
    messages: list[Message] = []
    for question, reply in chosen:
        messages.append(Message("user", question["content"]))
        messages.append(Message("assistant", reply["content"]))
    return messages


def citations_of(turn: Turn) -> list[Citation]:
    return [
        Citation(str(c.get("source_id", "")), str(c.get("source_name", "")))
        for c in turn.get("citations") or []
        if isinstance(c, dict)
    ]
