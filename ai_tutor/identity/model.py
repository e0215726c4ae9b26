"""The validated learner identity and the refusals the identity gate can answer with."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Reason(StrEnum):
    """Why a learner's identity was refused; the codes are stable and appear in logs."""

    MISSING_TOKEN = "missing_token"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_POLICY = "wrong_policy"
    WRONG_SUBJECT = "wrong_subject"
    DISALLOWED_ALGORITHM = "disallowed_algorithm"
    MALFORMED = "malformed"
    PROVIDER_UNREACHABLE = "provider_unreachable"
    MISCONFIGURED = "misconfigured"
    MASQUERADING = "masquerading"


_SIGN_IN_AGAIN = "We could not verify your sign-in. Sign in again to use the tutor."

_MESSAGES: dict[Reason, str] = {
    Reason.MISSING_TOKEN: "Sign in with your organisation's account to use the tutor.",
    Reason.EXPIRED: "Your sign-in has expired. Sign in again to keep using the tutor.",
    Reason.NOT_YET_VALID: _SIGN_IN_AGAIN,
    Reason.PROVIDER_UNREACHABLE: (
        "The tutor cannot check your sign-in right now. Please try again in a few minutes."
    ),
    Reason.MISCONFIGURED: "The tutor's sign-in check is not set up correctly. Please tell the "
    "course team.",
    Reason.MASQUERADING: "The tutor is unavailable while you view the course as another learner.",
}

_STATUSES: dict[Reason, int] = {
    Reason.PROVIDER_UNREACHABLE: 503,
    Reason.MISCONFIGURED: 503,
    Reason.MASQUERADING: 403,
}


@dataclass(frozen=True)
class Identity:
    """A learner proven by a validated ID token; never holds the token itself."""

    issuer: str
    subject: str
    object_id: str | None = None
    tenant_id: str | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = field(default=None, repr=False)
    roles: tuple[str, ...] = ()


class IdentityError(Exception):
    """A refusal: `message` may be shown to the learner, `detail` is for the operator's log.

    Neither ever contains a token. `login_url`, when set, signs the learner in again and
    brings them back to the unit.
    """

    def __init__(
        self,
        reason: Reason,
        detail: str = "",
        *,
        login_url: str | None = None,
        issuer: str | None = None,
    ) -> None:
        self.reason: Reason = reason
        self.detail: str = detail
        self.status: int = _STATUSES.get(reason, 401)
        self.message: str = _MESSAGES.get(reason, _SIGN_IN_AGAIN)
        self.login_url: str | None = login_url
        self.issuer: str | None = issuer
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)

    def with_login_url(self, login_url: str | None) -> IdentityError:
        """Return the same refusal carrying a sign-in link."""
        error = IdentityError(self.reason, self.detail, login_url=login_url, issuer=self.issuer)
        error.__cause__ = self.__cause__
        return error
