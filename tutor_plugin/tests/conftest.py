"""A Tutor project in a temporary TUTOR_ROOT, driven through the real `tutor` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

FAKES = Path(__file__).parent / "fakes"
TUTOR = str(Path(sys.executable).with_name("tutor"))

API_KEY = "sk-test-api-key-6b1e0c"
CLIENT_SECRET = 'cs-test-"client"-secret-93af'
TENANT_ID = "9f1c2d3e-4b5a-6789-abcd-ef0123456789"

B2C = {
    "AI_TUTOR_SSO": "b2c",
    "AI_TUTOR_OIDC_TENANT_NAME": "contosolearn",
    "AI_TUTOR_OIDC_TENANT_ID": TENANT_ID,
    "AI_TUTOR_OIDC_POLICY": "B2C_1_signupsignin",
    "AI_TUTOR_OIDC_CLIENT_ID": "0a1b2c3d-client-b2c",
    "AI_TUTOR_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    "AI_TUTOR_PROVIDER": "anthropic",
    "AI_TUTOR_API_KEY": API_KEY,
}
EXTERNAL_ID = {
    "AI_TUTOR_SSO": "external-id",
    "AI_TUTOR_OIDC_TENANT_NAME": "contosolearners",
    "AI_TUTOR_OIDC_TENANT_ID": TENANT_ID,
    "AI_TUTOR_OIDC_CLIENT_ID": "0a1b2c3d-client-ciam",
    "AI_TUTOR_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    "AI_TUTOR_PROVIDER": "openai",
    "AI_TUTOR_API_KEY": API_KEY,
}
NO_SSO = {"AI_TUTOR_PROVIDER": "offline", "AI_TUTOR_API_KEY": API_KEY}


class TutorProject:
    """One Tutor project root with the ai-tutor plugin enabled."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env_dir = root / "env"
        self.environ = {
            **os.environ,
            "TUTOR_ROOT": str(root),
            "TUTOR_PLUGINS_ROOT": str(root / "plugins"),
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [TUTOR, *args], env=self.environ, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tutor {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def save(
        self, settings: dict[str, Any], check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`tutor config save --set KEY=VALUE ...`: saves config.yml and renders env/."""
        args = ["config", "save"]
        for key, value in settings.items():
            args += ["--set", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
        return self.run(*args, check=check)

    def read(self, *path: str) -> str:
        return self.env_dir.joinpath(*path).read_text(encoding="utf-8")

    def config(self) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load((self.root / "config.yml").read_text())
        return loaded

    def settings(self, service: str, name: str = "production") -> dict[str, Any]:
        """Execute env/apps/openedx/settings/<service>/<name>.py against the stub platform."""
        path = self.env_dir / "apps" / "openedx" / "settings" / service / f"{name}.py"
        result = subprocess.run(
            [sys.executable, str(FAKES / "settings" / "run_settings.py"), str(path)],
            env={**os.environ, "PYTHONPATH": str(FAKES / "settings")},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        values: dict[str, Any] = json.loads(result.stdout)
        return values

    def init_task(self) -> str:
        """The plugin's init task for the lms service, rendered as `tutor local do init` does."""
        result = subprocess.run(
            [sys.executable, str(FAKES / "render_init_task.py"), str(self.root)],
            env=self.environ,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture
def project(tmp_path: Path) -> TutorProject:
    tutor = TutorProject(tmp_path / "tutor-root")
    tutor.run("plugins", "enable", "ai-tutor")
    return tutor


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], TutorProject]]:
    """One rendered project per configuration name, shared by the tests of a module."""
    configurations = {"b2c": B2C, "external-id": EXTERNAL_ID, "none": NO_SSO}
    projects: dict[str, TutorProject] = {}

    def get(name: str) -> TutorProject:
        if name not in projects:
            tutor = TutorProject(tmp_path_factory.mktemp(name) / "tutor-root")
            tutor.run("plugins", "enable", "ai-tutor")
            tutor.save(configurations[name])
            projects[name] = tutor
        return projects[name]

    yield get
