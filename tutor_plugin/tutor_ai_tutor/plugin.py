"""Tutor hooks of the `ai-tutor` plugin: config, patches, mounts, init task and checks."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping
from glob import glob
from typing import Any

import jinja2
import tutor.__about__
from tutor import exceptions, fmt, hooks
from tutor.plugins.openedx import iter_mounted_directories

from .__about__ import __version__
from .identity import ConfigurationError, IdentityProvider, identity_provider
from .xblock_settings import pip_extras, python_literal, xblock_settings

HERE = os.path.abspath(os.path.dirname(__file__))

# Folder names of an xblock-ai-tutor checkout that `tutor mounts add` installs into the
# openedx image. Tutor's own pattern already catches names that contain "xblock".
CHECKOUT_NAMES = ("xblock-ai-tutor", "ai-tutor")

config: dict[str, dict[str, Any]] = {
    "defaults": {
        "VERSION": __version__,
        # The XBlock release of this plugin's version, with the provider SDKs it needs.
        "PIP_REQUIREMENT": "xblock-ai-tutor{{ ai_tutor_pip_extras() }}=={{ AI_TUTOR_VERSION }}",
        # XBLOCK_SETTINGS["ai_tutor"]
        "PROVIDER": "offline",
        "MODEL": "",
        "API_KEY": "",
        "BASE_URL": "",
        "TIMEOUT_SECONDS": 20,
        "MAX_RETRIES": 1,
        "MAX_OUTPUT_TOKENS": 800,
        "MAX_QUESTION_CHARS": 2000,
        "HISTORY_TURNS": 12,
        "MAX_STORED_TURNS": 200,
        "ENABLED": True,
        "DEADLINE_SECONDS": 25,
        "MAX_CONCURRENT_CALLS_SITE": 1,
        "MAX_CONCURRENT_CALLS_PROCESS": 1,
        "QUESTIONS_PER_BLOCK_PER_DAY": 50,
        "QUESTIONS_PER_LEARNER_PER_DAY": 200,
        "COURSE_DAILY_TOKEN_BUDGET": 200000,
        "SITE_DAILY_TOKEN_BUDGET": 2000000,
        "FALLBACK_PROVIDER": "",
        "SHARE_QUESTION_TEXT": False,
        "ALLOWED_MODELS": [],
        "DISCLOSURE_URL": "",
        # Sign-in: none, b2c, external-id or oidc
        "SSO": "none",
        "OIDC_TENANT_NAME": "",
        "OIDC_TENANT_ID": "",
        "OIDC_POLICY": "",
        "OIDC_ENDPOINT": "",
        "OIDC_CLIENT_ID": "",
        "OIDC_CLIENT_SECRET": "",
        "SSO_NAME": "",
        "SSO_SCOPE": ["offline_access"],
        "SSO_VISIBLE": True,
        "SSO_SKIP_EMAIL_VERIFICATION": True,
        "SSO_SYNC_LEARNER_PROFILE_DATA": True,
        "SSO_SKIP_REGISTRATION_FORM": False,
        # Token validation by the XBlock; tenant, policy and client id come from above.
        "OIDC_MODE": "",
        "OIDC_ALGORITHMS": ["RS256"],
        "OIDC_LEEWAY_SECONDS": 60,
        "OIDC_CLAIMS": {},
        "OIDC_JWKS_TTL_SECONDS": 3600,
        "OIDC_HTTP_TIMEOUT_SECONDS": 5,
        "OIDC_ACCEPT_BEARER_HEADER": False,
    },
    "unique": {},
    "overrides": {},
}

hooks.Filters.CONFIG_DEFAULTS.add_items(
    [(f"AI_TUTOR_{key}", value) for key, value in config["defaults"].items()]
)
hooks.Filters.CONFIG_UNIQUE.add_items(
    [(f"AI_TUTOR_{key}", value) for key, value in config["unique"].items()]
)
hooks.Filters.CONFIG_OVERRIDES.add_items(list(config["overrides"].items()))


########################################
# Template variables and filters
########################################


@jinja2.pass_context
def _xblock_settings(context: jinja2.runtime.Context) -> str:
    return python_literal(xblock_settings(context.get_all()))


@jinja2.pass_context
def _identity_provider(context: jinja2.runtime.Context) -> IdentityProvider | None:
    return identity_provider(context.get_all())


@jinja2.pass_context
def _pip_extras(context: jinja2.runtime.Context) -> str:
    return pip_extras(context.get_all())


def mounted_checkouts(mounts: Iterable[str]) -> list[str]:
    """Names of the mounted folders that hold an xblock-ai-tutor checkout."""
    return [
        name for name in iter_mounted_directories(list(mounts), "openedx") if name in CHECKOUT_NAMES
    ]


hooks.Filters.ENV_TEMPLATE_VARIABLES.add_items(
    [
        ("ai_tutor_xblock_settings", _xblock_settings),
        ("ai_tutor_identity_provider", _identity_provider),
        ("ai_tutor_pip_extras", _pip_extras),
        ("ai_tutor_mounted_checkouts", mounted_checkouts),
    ]
)
hooks.Filters.ENV_TEMPLATE_FILTERS.add_items(
    [
        ("ai_tutor_python", python_literal),
        ("ai_tutor_shell_quote", shlex.quote),
    ]
)

########################################
# Mounts
########################################

hooks.Filters.MOUNTED_DIRECTORIES.add_item(("openedx", r"^ai-tutor$"))

########################################
# Templates and patches
########################################

# Only looked up by the init task (nothing is rendered into env/ but the patches).
hooks.Filters.ENV_TEMPLATE_ROOTS.add_item(os.path.join(HERE, "templates"))

for path in sorted(glob(os.path.join(HERE, "patches", "*"))):
    with open(path, encoding="utf-8") as patch_file:
        hooks.Filters.ENV_PATCHES.add_item((os.path.basename(path), patch_file.read()))

########################################
# Initialisation: the identity provider's configuration record
########################################

with open(
    os.path.join(HERE, "templates", "ai-tutor", "tasks", "lms", "init.sh"), encoding="utf-8"
) as f:
    hooks.Filters.CLI_DO_INIT_TASKS.add_item(("lms", f.read()))

########################################
# Checks when the configuration is loaded (tutor config save, tutor local launch, ...)
########################################


def config_warnings(config: Mapping[str, Any], tutor_version: str) -> list[str]:
    """What an operator should know about a configuration that works."""
    warnings = []
    providers = {
        str(config.get(key) or "").lower()
        for key in ("AI_TUTOR_PROVIDER", "AI_TUTOR_FALLBACK_PROVIDER")
    }
    major = int(tutor_version.split(".")[0])
    if "openai" in providers and major < 22:
        warnings.append(
            f"ai-tutor: Tutor {tutor_version} builds an openedx image that holds openai 0.28.1; "
            "with the openai provider, building the image upgrades it to the openai 1.x+ SDK "
            "that the tutor needs. Check that no other plugin or XBlock of this site needs "
            "openai 0.28."
        )

    workers = config.get("OPENEDX_LMS_UWSGI_WORKERS")
    site_calls = config.get("AI_TUTOR_MAX_CONCURRENT_CALLS_SITE", 1)
    if isinstance(workers, int) and isinstance(site_calls, int) and site_calls >= workers:
        warnings.append(
            f"ai-tutor: AI_TUTOR_MAX_CONCURRENT_CALLS_SITE={site_calls} is not below "
            f"OPENEDX_LMS_UWSGI_WORKERS={workers}: slow provider calls could hold every LMS "
            "worker and stall the site."
        )

    if str(config.get("AI_TUTOR_SSO") or "none") != "none" and not config.get(
        "AI_TUTOR_OIDC_CLIENT_SECRET"
    ):
        warnings.append(
            "ai-tutor: AI_TUTOR_OIDC_CLIENT_SECRET is empty: sign-in will only work if the "
            "secret is entered in the provider configuration in Django admin."
        )
    return warnings


@hooks.Actions.CONFIG_LOADED.add()
def _check_config(loaded: dict[str, Any]) -> None:
    try:
        xblock_settings(loaded)
        identity_provider(loaded)
    except ConfigurationError as error:
        raise exceptions.TutorError(f"ai-tutor: {error}") from error
    # Read at call time, not import time, so that it is the running Tutor's version.
    for warning in config_warnings(loaded, tutor.__about__.__version__):
        fmt.echo_alert(warning)
