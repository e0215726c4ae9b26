"""What the identity gate learns from the XBlock runtime: the learner, masquerading, sign-in.

In the LMS the user service carries `edx-platform.*` attributes; in the workbench it does not,
and every LMS-only check here quietly steps aside.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from .settings import OidcSettings

log = logging.getLogger(__name__)

USER_ID = "edx-platform.user_id"
USER_IS_STAFF = "edx-platform.user_is_staff"
USER_ROLE = "edx-platform.user_role"

COURSE_STAFF_ROLES = ("staff", "instructor")


def service(block: Any, name: str) -> Any:
    """The runtime's `name` service, or None when the runtime offers none."""
    # Imported here so the validator modules and their tests need no XBlock installed.
    from xblock.exceptions import NoSuchServiceError  # noqa: PLC0415

    try:
        return block.runtime.service(block, name)
    except NoSuchServiceError:
        return None


def _opt_attrs(block: Any) -> dict[str, Any]:
    user_service = service(block, "user")
    if user_service is None:
        return {}
    try:
        user = user_service.get_current_user()
    except Exception:  # noqa: BLE001 - a runtime without users simply has no LMS learner
        return {}
    return dict(getattr(user, "opt_attrs", None) or {})


def lms_user_id(block: Any) -> int | None:
    """The LMS user the runtime acts for; None outside the LMS."""
    user_id = _opt_attrs(block).get(USER_ID)
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


def is_course_staff(block: Any) -> bool:
    """Course staff or instructor by the LMS's own course roles (never by provider claims)."""
    attrs = _opt_attrs(block)
    return bool(attrs.get(USER_IS_STAFF)) or attrs.get(USER_ROLE) in COURSE_STAFF_ROLES


def is_masquerading(block: Any, request: Any) -> bool:
    """Whether a signed-in member of staff is viewing the course as a specific learner.

    The LMS then builds the runtime for the learner, so the runtime's user differs from the
    user who signed in: the Django request behind the handler's webob request still holds
    the real user, and the masqueraded user object carries a `real_user`.
    """
    runtime_user_id = lms_user_id(block)
    if runtime_user_id is None:
        return False

    user_service = service(block, "user")
    real_user = getattr(getattr(user_service, "_django_user", None), "real_user", None)
    if real_user is not None and getattr(real_user, "id", runtime_user_id) != runtime_user_id:
        return True

    django_request = getattr(request, "_request", None)
    signed_in = getattr(getattr(django_request, "user", None), "id", None)
    return signed_in is not None and signed_in != runtime_user_id


def sign_in_url(block: Any, settings: OidcSettings) -> str:
    """A URL that signs the learner in through the provider and returns to this unit."""
    next_path = "/dashboard"
    usage_id = getattr(getattr(block, "scope_ids", None), "usage_id", None)
    course_key = getattr(usage_id, "course_key", None)
    if course_key is not None:
        next_path = f"/courses/{course_key}/jump_to/{usage_id}"
    return settings.login_url.format(
        backend=quote(settings.social_auth_backend, safe=""), next=quote(next_path, safe="")
    )


def bearer_token(request: Any) -> str | None:
    """The token of an `Authorization: Bearer` header, if there is one."""
    headers = getattr(request, "headers", None)
    header = headers.get("Authorization", "") if headers is not None else ""
    scheme, _, token = str(header).strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
