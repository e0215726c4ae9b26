"""Learner identity: validate the learner's OIDC ID token before a question reaches the LLM.

The block calls `check_learner` in its handler and passes the result to `describe_learner`
for the prompt. The validator modules (`settings`, `keys`, `validator`) import no Django;
`social_auth` imports social-auth lazily, inside the LMS only.
"""

from __future__ import annotations

from .gate import TOKEN_SERVICE, check_learner
from .model import Identity, IdentityError, Reason
from .prompt import describe_learner
from .runtime import is_course_staff
from .settings import OidcSettings, load_oidc_settings
from .validator import validate_id_token

__all__ = [
    "TOKEN_SERVICE",
    "Identity",
    "IdentityError",
    "OidcSettings",
    "Reason",
    "check_learner",
    "describe_learner",
    "is_course_staff",
    "load_oidc_settings",
    "validate_id_token",
]
