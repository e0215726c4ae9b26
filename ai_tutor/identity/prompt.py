"""Short lines about the learner for the tutor's system prompt, from a validated identity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Identity
from .settings import OidcSettings, load_oidc_settings


def describe_learner(
    identity: Identity | None,
    oidc_settings: Mapping[str, Any] | OidcSettings,
    *,
    is_course_staff: bool,
) -> list[str]:
    """Lines for the system prompt; the email appears only if the operator allows it.

    `is_course_staff` must come from the LMS's own course roles, never from provider claims.
    """
    settings = (
        oidc_settings
        if isinstance(oidc_settings, OidcSettings)
        else load_oidc_settings(oidc_settings)
    )
    lines: list[str] = []

    if identity is not None:
        name = identity.given_name or identity.name
        if name:
            lines.append(f"The learner's name is {name}; address them by it when natural.")
        if identity.roles:
            lines.append(f"The learner's roles in their organisation: {', '.join(identity.roles)}.")
        if settings.send_email_to_provider and identity.email:
            lines.append(f"The learner's email address is {identity.email}.")

    if is_course_staff:
        lines.append(
            "The learner is on this course's teaching staff: you may discuss the material, "
            "its answers and how it is taught as you would with a colleague."
        )
    return lines
