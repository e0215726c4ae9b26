"""What `tutor config save` refuses or warns about, and the values derived from the config."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import B2C, TENANT_ID, TutorProject

from tutor_ai_tutor import __version__
from tutor_ai_tutor.identity import ConfigurationError, identity_provider, oidc_settings
from tutor_ai_tutor.plugin import config_warnings
from tutor_ai_tutor.xblock_settings import pip_extras, python_literal, xblock_settings

OPENAI_WARNING = "openai 0.28.1"


def _save_with_tutor_version(project: TutorProject, version: str, *settings: str) -> str:
    """`tutor config save` as run by a Tutor that reports `version`; returns its output."""
    script = (
        "import sys, tutor.__about__\n"
        f"tutor.__about__.__version__ = {version!r}\n"
        "from tutor.commands.cli import main\n"
        "sys.argv = ['tutor', 'config', 'save', *sys.argv[1:]]\n"
        "main()\n"
    )
    args: list[str] = []
    for setting in settings:
        args += ["--set", setting]
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=project.environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_openai_on_tutor_21_warns_that_openai_is_upgraded(project: TutorProject) -> None:
    output = _save_with_tutor_version(project, "21.0.2", "AI_TUTOR_PROVIDER=openai")
    assert OPENAI_WARNING in output


def test_no_openai_warning_for_other_providers_or_tutor_22(project: TutorProject) -> None:
    assert OPENAI_WARNING not in _save_with_tutor_version(
        project, "21.0.2", "AI_TUTOR_PROVIDER=anthropic"
    )
    assert OPENAI_WARNING not in project.save({"AI_TUTOR_PROVIDER": "openai"}).stderr


def test_openai_as_fallback_also_warns_on_old_tutor() -> None:
    config = {"AI_TUTOR_PROVIDER": "anthropic", "AI_TUTOR_FALLBACK_PROVIDER": "openai"}
    assert any(OPENAI_WARNING in warning for warning in config_warnings(config, "21.0.0"))
    assert not any(OPENAI_WARNING in warning for warning in config_warnings(config, "22.0.3"))


def test_concurrency_not_below_the_workers_warns() -> None:
    config = {"OPENEDX_LMS_UWSGI_WORKERS": 2, "AI_TUTOR_MAX_CONCURRENT_CALLS_SITE": 2}
    assert any(
        "OPENEDX_LMS_UWSGI_WORKERS" in warning for warning in config_warnings(config, "22.0.3")
    )
    config["AI_TUTOR_MAX_CONCURRENT_CALLS_SITE"] = 1
    assert config_warnings(config, "22.0.3") == []


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"AI_TUTOR_SSO": "saml"}, "AI_TUTOR_SSO"),
        ({"AI_TUTOR_SSO": "b2c", "AI_TUTOR_OIDC_CLIENT_ID": "x"}, "AI_TUTOR_OIDC_TENANT_NAME"),
        ({**B2C, "AI_TUTOR_OIDC_TENANT_ID": "contoso.onmicrosoft.com"}, "AI_TUTOR_OIDC_TENANT_ID"),
        ({**B2C, "AI_TUTOR_OIDC_POLICY": "signupsignin"}, "AI_TUTOR_OIDC_POLICY"),
        ({**B2C, "AI_TUTOR_OIDC_CLIENT_ID": ""}, "AI_TUTOR_OIDC_CLIENT_ID"),
        ({"AI_TUTOR_OIDC_MODE": "required"}, "AI_TUTOR_SSO"),
        ({"AI_TUTOR_PROVIDER": "gemini"}, "AI_TUTOR_PROVIDER"),
        ({"AI_TUTOR_TIMEOUT_SECONDS": "soon"}, "AI_TUTOR_TIMEOUT_SECONDS"),
    ],
)
def test_unusable_config_is_refused(project: TutorProject, settings: dict, named: str) -> None:
    lms_settings = project.env_dir / "apps" / "openedx" / "settings" / "lms" / "production.py"
    before = lms_settings.read_text()

    result = project.save(settings, check=False)

    assert result.returncode != 0
    assert named in result.stderr + result.stdout
    # The environment is not rendered from a refused configuration.
    assert lms_settings.read_text() == before


def test_b2c_urls_come_from_tenant_and_policy() -> None:
    provider = identity_provider({**B2C, "ENABLE_HTTPS": True, "LMS_HOST": "learn.contoso.org"})
    assert provider is not None
    assert provider.discovery_url == (
        "https://contosolearn.b2clogin.com/contosolearn.onmicrosoft.com/B2C_1_signupsignin"
        "/v2.0/.well-known/openid-configuration"
    )
    assert provider.issuers == [f"https://contosolearn.b2clogin.com/{TENANT_ID}/v2.0/"]
    assert provider.redirect_uri == "https://learn.contoso.org/auth/complete/azuread-b2c-oauth2/"
    assert provider.record["other_settings"]["TENANT_NAME"] == "contosolearn"
    assert provider.record["other_settings"]["POLICY"] == "B2C_1_signupsignin"


def test_generic_oidc_provider() -> None:
    config = {
        "AI_TUTOR_SSO": "oidc",
        "AI_TUTOR_OIDC_ENDPOINT": "https://id.example.org/realms/learn/",
        "AI_TUTOR_OIDC_CLIENT_ID": "openedx",
    }
    provider = identity_provider(config)
    assert provider is not None
    assert provider.backend_name == "oidc"
    assert provider.other_settings["OIDC_ENDPOINT"] == "https://id.example.org/realms/learn"
    oidc = oidc_settings(config)
    assert oidc["discovery_url"] == (
        "https://id.example.org/realms/learn/.well-known/openid-configuration"
    )
    assert oidc["issuers"] == []
    assert oidc["mode"] == "required"


def test_generic_oidc_needs_https() -> None:
    with pytest.raises(ConfigurationError, match="AI_TUTOR_OIDC_ENDPOINT"):
        identity_provider(
            {
                "AI_TUTOR_SSO": "oidc",
                "AI_TUTOR_OIDC_ENDPOINT": "http://id.example.org",
                "AI_TUTOR_OIDC_CLIENT_ID": "openedx",
            }
        )


def test_defaults_are_the_xblocks_defaults() -> None:
    settings = xblock_settings({})
    assert settings["provider"] == "offline"
    assert settings["max_concurrent_calls_site"] == 1
    assert settings["course_tokens_per_day"] == 200000
    assert settings["fallback_provider"] == ""
    assert settings["share_question_text"] is False
    assert settings["allowed_models"] == []
    assert settings["disclosure_url"] == ""
    assert settings["oidc"]["mode"] == "off"
    assert settings["oidc"]["algorithms"] == ["RS256"]


def test_pip_extras() -> None:
    assert pip_extras({"AI_TUTOR_PROVIDER": "offline"}) == ""
    assert pip_extras({"AI_TUTOR_PROVIDER": "openai", "AI_TUTOR_FALLBACK_PROVIDER": "offline"}) == (
        "[openai]"
    )


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'double " quote',
        "single ' quote",
        "back\\slash and \n newline",
        "x" * 300,
        {"nested": [1, 2.5, True, None, {"deep": "' \" \\"}], "empty": {}, "list": []},
    ],
)
def test_python_literal_round_trips(value: object) -> None:
    source = python_literal(value)
    assert ast.literal_eval(source) == value
    if isinstance(value, str) and "\n" not in value:
        assert source.count("\n") == 0


def test_python_literal_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        python_literal({"when": object()})


def test_plugin_version_is_the_xblock_version() -> None:
    xblock_init = Path(__file__).parents[2] / "ai_tutor" / "__init__.py"
    if not xblock_init.exists():
        pytest.skip("not run from a checkout of xblock-ai-tutor")
    match = re.search(r'^__version__ = "([^"]+)"', xblock_init.read_text(), re.M)
    assert match is not None
    assert match.group(1) == __version__


def test_course_team_settings_reach_the_xblock() -> None:
    settings = xblock_settings(
        {
            "AI_TUTOR_SHARE_QUESTION_TEXT": True,
            "AI_TUTOR_ALLOWED_MODELS": ["gpt-4o-mini", " claude-haiku-4-5 "],
            "AI_TUTOR_DISCLOSURE_URL": "https://example.org/ai-policy",
        }
    )
    assert settings["share_question_text"] is True
    assert settings["allowed_models"] == ["gpt-4o-mini", "claude-haiku-4-5"]
    assert settings["disclosure_url"] == "https://example.org/ai-policy"
    with pytest.raises(ConfigurationError, match="AI_TUTOR_ALLOWED_MODELS"):
        xblock_settings({"AI_TUTOR_ALLOWED_MODELS": "gpt-4o-mini"})
