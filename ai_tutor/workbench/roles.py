"""Course roles in the workbench: students whose id starts with `staff` act as course staff.

The LMS's user service fills `edx-platform.user_role` from the learner's course role; the
workbench's fills no LMS key at all. This gives the workbench's user service that one key, so
the staff panel and Studio's "Try it" can be seen there. For the workbench only.
"""

from __future__ import annotations

from typing import Any

STAFF_PREFIX = "staff"
USER_ROLE = "edx-platform.user_role"


def give_workbench_students_course_roles() -> None:
    """Wrap the workbench's user service (needs Django set up: it imports models)."""
    from workbench import runtime

    original = runtime.WorkBenchUserService
    if getattr(original, "_ai_tutor_roles", False):
        return

    class RoleAwareUserService(original):  # type: ignore[misc, valid-type]
        _ai_tutor_roles = True

        def __init__(self, uid: Any) -> None:
            super().__init__(uid)
            role = "staff" if str(uid or "").startswith(STAFF_PREFIX) else "student"
            self.get_current_user().opt_attrs[USER_ROLE] = role

    runtime.WorkBenchUserService = RoleAwareUserService
