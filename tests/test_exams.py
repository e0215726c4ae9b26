"""No tutor in timed, proctored or exam subsections: with parents shaped like edx-platform's.

edx-platform's `SequenceBlock` carries `is_time_limited`, `is_proctored_enabled` (and the
`is_proctored_exam` alias), `is_practice_exam` and `is_onboarding_exam`, all Booleans that
default to False.
"""

from __future__ import annotations

from typing import Any

import pytest

from ai_tutor.exams import EXAM_FIELDS, EXAM_MESSAGE, exam_setting, in_exam
from tests.blocks import call, make_block, provider_settings
from tests.loopback import ProviderServer


class Parent:
    def __init__(self, parent: Any = None, **fields: Any) -> None:
        self.parent = parent
        for name, value in fields.items():
            setattr(self, name, value)

    def get_parent(self) -> Any:
        return self.parent


def sequential(**fields: Any) -> Parent:
    """A subsection with every exam field at its default, then `fields`."""
    defaults = {
        "is_time_limited": False,
        "is_proctored_enabled": False,
        "is_practice_exam": False,
        "is_onboarding_exam": False,
    }
    course = Parent()
    chapter = Parent(course)
    return Parent(chapter, **{**defaults, **fields})


def unit_in(subsection: Parent) -> Parent:
    return Parent(subsection)


class Child:
    def __init__(self, unit: Parent) -> None:
        self.unit = unit

    def get_parent(self) -> Parent:
        return self.unit


@pytest.mark.parametrize(
    "field", ["is_time_limited", "is_proctored_enabled", "is_practice_exam", "is_onboarding_exam"]
)
def test_each_exam_setting_of_the_subsection_counts(field):
    block = Child(unit_in(sequential(**{field: True})))
    assert exam_setting(block) == field
    assert in_exam(block)


def test_an_ordinary_subsection_is_not_an_exam():
    assert not in_exam(Child(unit_in(sequential())))


def test_the_proctored_alias_is_read_too():
    assert exam_setting(Child(unit_in(Parent(Parent(), is_proctored_exam=True)))) == (
        "is_proctored_exam"
    )
    assert "is_proctored_exam" in EXAM_FIELDS


def test_a_runtime_without_the_fields_or_the_parents_tells_nothing():
    class Orphan:
        def get_parent(self) -> None:
            return None

    class Unreadable:
        def get_parent(self) -> Any:
            raise RuntimeError("item not found")

    assert not in_exam(Orphan())
    assert not in_exam(Child(Unreadable()))  # type: ignore[arg-type]
    assert not in_exam(Child(unit_in(Parent(Parent()))))  # the workbench: no such fields
    # Only a real True counts: a truthy stand-in (a mock, a string) is not a setting.
    assert not in_exam(Child(unit_in(sequential(is_time_limited="False"))))


def test_the_walk_is_bounded():
    class Loop:
        def get_parent(self) -> Loop:
            return self

    assert not in_exam(Loop())


def exam_block(server: ProviderServer, **fields: Any):
    block = make_block(provider_settings(server))
    subsection = sequential(**fields)
    block.get_parent = lambda: unit_in(subsection)  # what the LMS runtime would load
    return block


def test_ask_in_an_exam_is_refused_without_calling_the_provider():
    with ProviderServer().running() as server:
        block = exam_block(server, is_time_limited=True)
        status, body, _ = call(block, "ask", {"question": "What is the answer to Q1?"})

    assert status == 403
    assert body["error"]["code"] == "exam"
    assert body["error"]["message"] == EXAM_MESSAGE
    assert body["error"]["retry"] is False
    assert server.requests == []
    assert block.conversation == []  # nothing stored, nothing counted


def test_ask_outside_an_exam_reaches_the_provider():
    with ProviderServer().running() as server:
        block = exam_block(server)
        status, _, _ = call(block, "ask", {"question": "What is the stroma?"})
    assert status == 200
    assert len(server.requests) == 1


def test_the_student_view_says_so_in_an_exam():
    with ProviderServer().running() as server:
        in_exam_view = exam_block(server, is_proctored_enabled=True).student_view().content
        ordinary_view = exam_block(server).student_view().content

    assert EXAM_MESSAGE in in_exam_view
    assert "ai-tutor-question" not in in_exam_view  # no question box to type into
    assert EXAM_MESSAGE not in ordinary_view
    assert "ai-tutor-question" in ordinary_view
