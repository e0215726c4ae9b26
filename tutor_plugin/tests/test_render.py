"""The environment that `tutor config save` renders with the plugin, for each sign-in mode."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import API_KEY, CLIENT_SECRET, TENANT_ID, TutorProject

Rendered = Callable[[str], TutorProject]

B2C_BACKEND = "social_core.backends.azuread_b2c.AzureADB2COAuth2"
OIDC_BACKEND = "social_core.backends.open_id_connect.OpenIdConnectAuth"
PLATFORM_BACKENDS = [
    "social_core.backends.google.GoogleOAuth2",
    "django.contrib.auth.backends.ModelBackend",
]


def _dockerfile_install_lines(tutor: TutorProject) -> list[str]:
    dockerfile = tutor.read("build", "openedx", "Dockerfile")
    return [line.strip() for line in dockerfile.splitlines() if "xblock-ai-tutor" in line]


def test_dockerfile_installs_the_release_with_the_provider_extra(rendered: Rendered) -> None:
    assert _dockerfile_install_lines(rendered("b2c")) == [
        "$PIP_COMMAND install 'xblock-ai-tutor[anthropic]==0.1.0'"
    ]
    assert _dockerfile_install_lines(rendered("external-id")) == [
        "$PIP_COMMAND install 'xblock-ai-tutor[openai]==0.1.0'"
    ]
    assert _dockerfile_install_lines(rendered("none")) == [
        "$PIP_COMMAND install xblock-ai-tutor==0.1.0"
    ]


def test_dockerfile_installs_in_the_python_requirements_stage(rendered: Rendered) -> None:
    dockerfile = rendered("b2c").read("build", "openedx", "Dockerfile")
    install = dockerfile.index("xblock-ai-tutor[anthropic]")
    stage_start = dockerfile.index("AS python-requirements")
    next_stage = dockerfile.index("FROM ", stage_start)
    assert stage_start < install < next_stage


def test_a_fallback_provider_adds_its_extra(project: TutorProject) -> None:
    project.save({"AI_TUTOR_PROVIDER": "anthropic", "AI_TUTOR_FALLBACK_PROVIDER": "openai"})
    assert _dockerfile_install_lines(project) == [
        "$PIP_COMMAND install 'xblock-ai-tutor[anthropic,openai]==0.1.0'"
    ]


def test_a_vcs_requirement_is_one_quoted_argument(project: TutorProject) -> None:
    requirement = "xblock-ai-tutor[anthropic] @ git+https://github.com/example/xblock-ai-tutor@main"
    project.save({"AI_TUTOR_PIP_REQUIREMENT": requirement})
    assert _dockerfile_install_lines(project) == [f"$PIP_COMMAND install '{requirement}'"]


def test_an_empty_requirement_installs_nothing(project: TutorProject) -> None:
    project.save({"AI_TUTOR_PIP_REQUIREMENT": ""})
    assert _dockerfile_install_lines(project) == []


@pytest.mark.parametrize("service", ["lms", "cms"])
@pytest.mark.parametrize("name", ["production", "development"])
def test_settings_files_parse(rendered: Rendered, service: str, name: str) -> None:
    for mode in ("b2c", "external-id", "none"):
        source = rendered(mode).read("apps", "openedx", "settings", service, f"{name}.py")
        ast.parse(source)


def test_b2c_settings(rendered: Rendered) -> None:
    lms = rendered("b2c").settings("lms")
    tutor = lms["XBLOCK_SETTINGS"]["ai_tutor"]

    assert lms["XBLOCK_SETTINGS"]["VideoBlock"] == {"licensing_enabled": False}
    assert tutor["operator_extra"] == "kept"
    assert tutor["provider"] == "anthropic"
    assert tutor["api_key"] == API_KEY
    assert {key: tutor[key] for key in ("timeout_seconds", "max_retries", "deadline_seconds")} == {
        "timeout_seconds": 20,
        "max_retries": 1,
        "deadline_seconds": 25,
    }
    assert tutor["oidc"] == {
        "mode": "required",
        "discovery_url": (
            "https://contosolearn.b2clogin.com/contosolearn.onmicrosoft.com/"
            "B2C_1_signupsignin/v2.0/.well-known/openid-configuration"
        ),
        "issuers": [f"https://contosolearn.b2clogin.com/{TENANT_ID}/v2.0/"],
        "audience": "0a1b2c3d-client-b2c",
        "algorithms": ["RS256"],
        "leeway_seconds": 60,
        "tenant_id": TENANT_ID,
        "policy": "B2C_1_signupsignin",
        "claims": {},
        "jwks_ttl_seconds": 3600,
        "http_timeout_seconds": 5,
        "social_auth_backend": "azuread-b2c-oauth2",
        "accept_bearer_header": False,
    }

    assert lms["AUTHENTICATION_BACKENDS"] == [B2C_BACKEND, *PLATFORM_BACKENDS]
    assert lms["SOCIAL_AUTH_OAUTH_SECRETS"] == {
        "google-oauth2": "google-secret",
        "azuread-b2c-oauth2": CLIENT_SECRET,
    }
    assert lms["SOCIAL_AUTH_REDIRECT_IS_HTTPS"] is None


def test_external_id_settings(rendered: Rendered) -> None:
    lms = rendered("external-id").settings("lms")
    oidc = lms["XBLOCK_SETTINGS"]["ai_tutor"]["oidc"]

    assert lms["XBLOCK_SETTINGS"]["ai_tutor"]["provider"] == "openai"
    assert oidc["mode"] == "required"
    assert oidc["discovery_url"] == (
        f"https://contosolearners.ciamlogin.com/{TENANT_ID}/v2.0/.well-known/openid-configuration"
    )
    assert oidc["issuers"] == [f"https://{TENANT_ID}.ciamlogin.com/{TENANT_ID}/v2.0"]
    assert oidc["audience"] == "0a1b2c3d-client-ciam"
    assert oidc["tenant_id"] == TENANT_ID
    assert oidc["policy"] == ""
    assert oidc["social_auth_backend"] == "oidc"

    assert lms["AUTHENTICATION_BACKENDS"] == [OIDC_BACKEND, *PLATFORM_BACKENDS]
    assert lms["SOCIAL_AUTH_OAUTH_SECRETS"] == {
        "google-oauth2": "google-secret",
        "oidc": CLIENT_SECRET,
    }


def test_no_sso_settings(rendered: Rendered) -> None:
    lms = rendered("none").settings("lms")
    tutor = lms["XBLOCK_SETTINGS"]["ai_tutor"]

    assert tutor["provider"] == "offline"
    assert tutor["oidc"]["mode"] == "off"
    assert tutor["oidc"]["discovery_url"] == ""
    assert lms["AUTHENTICATION_BACKENDS"] == PLATFORM_BACKENDS
    assert lms["SOCIAL_AUTH_OAUTH_SECRETS"] == {"google-oauth2": "google-secret"}


@pytest.mark.parametrize("mode", ["b2c", "external-id"])
def test_cms_gets_the_xblock_settings_but_not_the_sign_in(rendered: Rendered, mode: str) -> None:
    tutor = rendered(mode)
    cms = tutor.settings("cms")
    lms = tutor.settings("lms")

    # Learners sign in at the LMS; Studio signs in through the LMS, so the backend and its
    # secret are not needed there.
    assert cms["XBLOCK_SETTINGS"] == lms["XBLOCK_SETTINGS"]
    assert cms["AUTHENTICATION_BACKENDS"] == PLATFORM_BACKENDS
    assert cms["SOCIAL_AUTH_OAUTH_SECRETS"] == {"google-oauth2": "google-secret"}


def test_operator_settings_reach_the_xblock(project: TutorProject) -> None:
    project.save(
        {
            "AI_TUTOR_PROVIDER": "openai",
            "AI_TUTOR_MODEL": "gpt-4o-mini",
            "AI_TUTOR_BASE_URL": "https://example.openai.azure.com/openai/v1",
            "AI_TUTOR_TIMEOUT_SECONDS": 30,
            "AI_TUTOR_ENABLED": False,
            "AI_TUTOR_SITE_DAILY_TOKEN_BUDGET": 5000,
            "AI_TUTOR_FALLBACK_PROVIDER": "offline",
            "AI_TUTOR_OIDC_ACCEPT_BEARER_HEADER": True,
        }
    )
    tutor = project.settings("lms")["XBLOCK_SETTINGS"]["ai_tutor"]

    assert tutor["model"] == "gpt-4o-mini"
    assert tutor["base_url"] == "https://example.openai.azure.com/openai/v1"
    assert tutor["timeout_seconds"] == 30
    assert tutor["enabled"] is False
    assert tutor["site_tokens_per_day"] == 5000
    assert tutor["fallback_provider"] == "offline"
    assert tutor["oidc"]["accept_bearer_header"] is True


def test_oidc_mode_can_be_overridden(project: TutorProject) -> None:
    project.save({**_b2c_without_secrets(), "AI_TUTOR_OIDC_MODE": "optional"})
    assert project.settings("lms")["XBLOCK_SETTINGS"]["ai_tutor"]["oidc"]["mode"] == "optional"


def test_https_makes_redirect_uris_https(project: TutorProject) -> None:
    project.save({**_b2c_without_secrets(), "ENABLE_HTTPS": True})
    assert project.settings("lms")["SOCIAL_AUTH_REDIRECT_IS_HTTPS"] is True


def test_the_cache_is_the_shared_redis(rendered: Rendered) -> None:
    caches = rendered("b2c").settings("lms")["CACHES"]
    assert caches["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert caches["default"]["LOCATION"].startswith("redis://")
    assert "@redis:6379/" in caches["default"]["LOCATION"]


@pytest.mark.parametrize("mode", ["b2c", "external-id", "none"])
def test_secrets_only_in_settings_and_config(rendered: Rendered, mode: str) -> None:
    tutor = rendered(mode)
    secrets = [API_KEY] + ([CLIENT_SECRET] if mode != "none" else [])
    settings_dir = tutor.env_dir / "apps" / "openedx" / "settings"

    holders: dict[str, set[Path]] = {secret: set() for secret in secrets}
    for path in tutor.env_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for secret in secrets:
                if secret in text:
                    holders[secret].add(path)

    for paths in holders.values():
        assert paths, "the secret should reach the settings"
        assert all(settings_dir in path.parents for path in paths), sorted(map(str, paths))
    assert all(secret in (tutor.root / "config.yml").read_text() for secret in secrets)
    assert not any(secret in tutor.init_task() for secret in secrets)


def test_client_secret_stays_out_of_the_cms(rendered: Rendered) -> None:
    settings_dir = rendered("b2c").env_dir / "apps" / "openedx" / "settings"
    assert CLIENT_SECRET in (settings_dir / "lms" / "production.py").read_text()
    assert not any(CLIENT_SECRET in path.read_text() for path in settings_dir.glob("cms/*.py"))


def test_mounted_checkouts_are_built_into_the_openedx_image(
    project: TutorProject, tmp_path: Path
) -> None:
    folders = {name: tmp_path / "src" / name for name in ("xblock-ai-tutor", "ai-tutor", "tutorx")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    project.save({"AI_TUTOR_PROVIDER": "anthropic"})
    project.run("mounts", "add", *map(str, folders.values()))

    listed = {
        entry["name"]: entry for entry in yaml.safe_load(project.run("mounts", "list").stdout)
    }

    for name in ("xblock-ai-tutor", "ai-tutor"):
        entry = listed[str(folders[name])]
        assert {"image": "openedx", "context": f"mnt-{name}"} in entry["build_mounts"]
        assert {"service": "openedx", "container_path": f"/mnt/{name}"} in entry["compose_mounts"]
    assert listed[str(folders["tutorx"])]["build_mounts"] == []

    dockerfile = project.read("build", "openedx", "Dockerfile")
    compose = project.read("local", "docker-compose.yml")
    for name in ("xblock-ai-tutor", "ai-tutor"):
        assert f'$PIP_COMMAND install -e "/mnt/{name}"' in dockerfile
        assert f'$PIP_COMMAND install -e "/mnt/{name}[anthropic]"' in dockerfile
        assert f"{folders[name]}:/mnt/{name}" in compose
    # The checkout replaces the release: the release is not installed as well.
    assert "xblock-ai-tutor[anthropic]==" not in dockerfile


def _k8s_documents(tutor: TutorProject, name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(tutor.read("k8s", name)) if doc]


@pytest.mark.parametrize("mode", ["b2c", "external-id"])
def test_kubernetes_runs_the_same_image_and_settings(rendered: Rendered, mode: str) -> None:
    tutor = rendered(mode)
    compose = yaml.safe_load(tutor.read("local", "docker-compose.yml"))
    deployments = {doc["metadata"]["name"]: doc for doc in _k8s_documents(tutor, "deployments.yml")}
    kustomization = yaml.safe_load(tutor.read("kustomization.yml"))
    generated = {
        item["name"]: item.get("files", []) for item in kustomization["configMapGenerator"]
    }

    for service in ("lms", "cms"):
        pod = deployments[service]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["image"] == compose["services"][service]["image"]

        # The pods mount the settings folder from a config map generated from the very files
        # that `tutor local` mounts, the ones that hold XBLOCK_SETTINGS["ai_tutor"].
        mount = next(m for m in container["volumeMounts"] if m["name"] == f"settings-{service}")
        assert mount["mountPath"] == f"/openedx/edx-platform/{service}/envs/tutor/"
        volume = next(v for v in pod["volumes"] if v["name"] == f"settings-{service}")
        files = generated[volume["configMap"]["name"]]
        assert f"apps/openedx/settings/{service}/production.py" in files
        assert any(
            f"../apps/openedx/settings/{service}:/openedx/edx-platform/{service}/envs/tutor" in v
            for v in compose["services"][service]["volumes"]
        )

    for path in generated["openedx-settings-lms"]:
        if path.endswith("production.py"):
            assert "XBLOCK_SETTINGS" in tutor.read(*path.split("/"))

    # The counters and budgets live in the default cache, Redis, which k8s also runs.
    services = {doc["metadata"]["name"] for doc in _k8s_documents(tutor, "services.yml")}
    assert "redis" in services


def test_kubernetes_uses_a_custom_image_like_local(project: TutorProject) -> None:
    image = "registry.example.com/openedx-ai-tutor:22.0.3-1"
    project.save({"DOCKER_IMAGE_OPENEDX": image})
    compose = yaml.safe_load(project.read("local", "docker-compose.yml"))
    deployments = {
        doc["metadata"]["name"]: doc for doc in _k8s_documents(project, "deployments.yml")
    }
    jobs = {doc["metadata"]["name"]: doc for doc in _k8s_documents(project, "jobs.yml")}

    assert compose["services"]["lms"]["image"] == image
    for name in ("lms", "cms", "lms-worker", "cms-worker"):
        assert deployments[name]["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert jobs["lms-job"]["spec"]["template"]["spec"]["containers"][0]["image"] == image


def _b2c_without_secrets() -> dict[str, str]:
    return {
        "AI_TUTOR_SSO": "b2c",
        "AI_TUTOR_OIDC_TENANT_NAME": "contosolearn",
        "AI_TUTOR_OIDC_TENANT_ID": TENANT_ID,
        "AI_TUTOR_OIDC_POLICY": "B2C_1_signupsignin",
        "AI_TUTOR_OIDC_CLIENT_ID": "0a1b2c3d-client-b2c",
    }
