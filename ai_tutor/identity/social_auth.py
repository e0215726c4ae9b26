"""The learner's ID token as stored by social-auth in the LMS, refreshed when it expires.

Everything from edx-platform and social-auth is imported lazily, so this module imports
anywhere; outside the LMS it finds no record and steps aside.
"""

from __future__ import annotations

import logging
from typing import Any

from .model import Identity, IdentityError, Reason
from .settings import OidcSettings
from .validator import validate_id_token

log = logging.getLogger(__name__)


def stored_identity(user_id: int, settings: OidcSettings, login_url: str | None) -> Identity | None:
    """The identity proven by the learner's stored ID token, or None when there is none.

    The token must belong to the social-auth record of this LMS user, so a token can never
    speak for another user. An expired token is refreshed through social-auth when a
    refresh token is stored; otherwise the refusal carries `login_url`.
    """
    record = _find_record(user_id, settings.social_auth_backend)
    if record is None:
        return None
    token = (record.extra_data or {}).get("id_token")
    if not token:
        return None

    try:
        identity = validate_id_token(token, settings)
    except IdentityError as error:
        if error.reason is not Reason.EXPIRED:
            raise error.with_login_url(login_url) from None
        identity = _refreshed_identity(record, token, settings, login_url)

    _check_belongs_to(identity, record, settings)
    return identity


def check_belongs_to_user(identity: Identity, user_id: int, settings: OidcSettings) -> None:
    """Refuse `identity` unless this LMS user's social-auth record names its subject."""
    record = _find_record(user_id, settings.social_auth_backend)
    if record is None:
        log.warning("ID token for an LMS user with no sign-in record: reason=wrong_subject")
        raise IdentityError(Reason.WRONG_SUBJECT, "no social-auth record for this LMS user")
    _check_belongs_to(identity, record, settings)


def _find_record(user_id: int, backend: str) -> Any:
    try:
        from social_django.models import UserSocialAuth  # noqa: PLC0415 - LMS only
    except ImportError:
        return None
    return UserSocialAuth.objects.filter(user_id=user_id, provider=backend).order_by("-id").first()


def _refreshed_identity(
    record: Any, expired_token: str, settings: OidcSettings, login_url: str | None
) -> Identity:
    expired = IdentityError(Reason.EXPIRED, "stored ID token expired", login_url=login_url)
    if not settings.refresh_expired_tokens or not (record.extra_data or {}).get("refresh_token"):
        raise expired

    # Prove whose token this is before spending a refresh on it.
    previous = validate_id_token(expired_token, settings, allow_expired=True)
    _check_belongs_to(previous, record, settings)

    try:
        from social_django.utils import load_strategy  # noqa: PLC0415 - LMS only

        # social-auth stores the new tokens in `extra_data` and saves the record.
        record.refresh_token(load_strategy())
    except Exception:  # noqa: BLE001 - disabled account, revoked grant, provider down
        log.warning("Token refresh failed: reason=expired issuer=%r", previous.issuer)
        raise expired from None

    token = (record.extra_data or {}).get("id_token")
    if not token or token == expired_token:
        log.warning("Token refresh gave no new ID token: reason=expired issuer=%r", previous.issuer)
        raise expired

    try:
        identity = validate_id_token(token, settings)
    except IdentityError as error:
        raise error.with_login_url(login_url) from None
    if (identity.issuer, identity.subject) != (previous.issuer, previous.subject):
        raise IdentityError(
            Reason.WRONG_SUBJECT, "refreshed token names another learner", login_url=login_url
        )
    log.info("Refreshed the learner's ID token: issuer=%r", identity.issuer)
    return identity


def _check_belongs_to(identity: Identity, record: Any, settings: OidcSettings) -> None:
    claimed = identity.object_id if settings.social_auth_uid_claim == "oid" else identity.subject
    if not claimed or str(record.uid) != claimed:
        log.warning(
            "ID token does not belong to the LMS user: reason=wrong_subject issuer=%r",
            identity.issuer,
        )
        raise IdentityError(Reason.WRONG_SUBJECT, "token subject is not the social-auth uid")
