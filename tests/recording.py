"""A block whose runtime records the events it publishes, with a user service shaped like the
LMS's (`opt_attrs` holding `edx-platform.*` keys) to make the viewer staff or a learner."""

from __future__ import annotations

from typing import Any

from xblock.field_data import DictFieldData, FieldData
from xblock.fields import ScopeIds
from xblock.test.tools import TestRuntime

from ai_tutor.block import AITutorBlock
from tests.blocks import FakeSettingsService, FakeUserService


class RecordingRuntime(TestRuntime):
    """TestRuntime whose `publish` keeps `(event name, data)` instead of raising."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, block: Any, event_type: str, event_data: dict[str, Any]) -> None:
        self.events.append((event_type, event_data))


STAFF = {"edx-platform.user_is_staff": False, "edx-platform.user_role": "staff"}
LEARNER = {"edx-platform.user_is_staff": False, "edx-platform.user_role": "student"}


def recording_block(
    settings: dict[str, Any] | None = None,
    *,
    user: dict[str, Any] | None = None,
    field_data: FieldData | None = None,
    student: str = "student_1",
    **fields: Any,
) -> AITutorBlock:
    """A block in a RecordingRuntime; blocks made with the same `field_data` share the
    block's `user_state_summary` (and, per `student`, their own user state)."""
    runtime = RecordingRuntime(
        services={
            "field-data": field_data or DictFieldData({}),
            "settings": FakeSettingsService({"ai_tutor": settings or {}}),
            "user": FakeUserService(user if user is not None else LEARNER),
        }
    )
    block = runtime.construct_xblock_from_class(
        AITutorBlock, ScopeIds(student, "ai_tutor", "def-1", "usage-1")
    )
    for name, value in fields.items():
        setattr(block, name, value)
    return block


def events_named(block: AITutorBlock, name: str) -> list[dict[str, Any]]:
    return [data for event, data in block.runtime.events if event == name]
