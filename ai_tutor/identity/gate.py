"""The identity gate the block calls before a question may reach the LLM."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from . import runtime
from .model import Identity, IdentityError, Reason
from .settings import OidcSettings, load_oidc_settings
from .social_auth import check_belongs_to_user, stored_identity
from .validator import validate_id_token

log = logging.getLogger(__name__)

TOKEN_SERVICE = "ai_tutor_identity_token"


def check_learner(block: Any, request: Any, oidc_settings: Mapping[str, Any]) -> Identity | None:
    """Prove who is asking, or refuse.

    Returns the validated identity; None when the mode is `off`, or `optional` and no token
    is present. Raises `IdentityError` for every refusal: no token in `required` mode, a
    token present but invalid in any mode but `off`, and staff masquerading as a learner.

    The token is taken from the first source that has one: the `ai_tutor_identity_token`
    runtime service (workbench, tests), the LMS social-auth record of the current user, then
    an `Authorization: Bearer` header when `accept_bearer_header` is set.
    """
    settings = load_oidc_settings(oidc_settings)

    # Whatever the mode: staff viewing the course as a learner must not speak or spend for them.
    if runtime.is_masquerading(block, request):
        log.info("Identity refused: reason=masquerading")
        raise IdentityError(Reason.MASQUERADING, "staff viewing the course as a learner")

    if settings.mode == "off":
        return None

    user_id = runtime.lms_user_id(block)
    login_url = runtime.sign_in_url(block, settings) if user_id is not None else None

    identity = _identity_from_sources(block, request, settings, user_id, login_url)
    if identity is not None:
        return identity

    if settings.mode == "optional":
        return None
    log.info("Identity refused: reason=missing_token")
    raise IdentityError(Reason.MISSING_TOKEN, "no ID token from any source", login_url=login_url)


def _identity_from_sources(
    block: Any,
    request: Any,
    settings: OidcSettings,
    user_id: int | None,
    login_url: str | None,
) -> Identity | None:
    token_service = runtime.service(block, TOKEN_SERVICE)
    token = token_service.get_id_token(block) if token_service is not None else None
    if token:
        return _validated(token, settings, login_url)

    if user_id is not None:
        identity = stored_identity(user_id, settings, login_url)
        if identity is not None:
            return identity

    token = runtime.bearer_token(request) if settings.accept_bearer_header else None
    if token:
        identity = _validated(token, settings, login_url)
        if user_id is not None:
            # In the LMS a header token must be this user's own, like a stored one.
            check_belongs_to_user(identity, user_id, settings)
        return identity
    return None


def _validated(token: str, settings: OidcSettings, login_url: str | None) -> Identity:
    try:
        return validate_id_token(token, settings)
    except IdentityError as error:
        raise error.with_login_url(login_url) from None
