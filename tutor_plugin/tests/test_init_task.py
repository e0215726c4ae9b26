"""The init task (`tutor local do init`) against a fake of the provider configuration model.

The task is rendered from the project's config as Tutor renders it, then run by a POSIX
shell in a fake edx-platform folder whose `./manage.py lms shell -c CODE` runs CODE with a
fake `OAuth2ProviderConfig` that stores its records in a JSON file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import B2C, CLIENT_SECRET, EXTERNAL_ID, FAKES, TENANT_ID, TutorProject

SHELLS = [shell for shell in ("dash", "bash") if shutil.which(shell)] or ["sh"]


class FakePlatform:
    def __init__(self, folder: Path) -> None:
        shutil.copytree(FAKES / "edx-platform", folder)
        manage = folder / "manage.py"
        manage.write_text(f"#!{sys.executable}\n" + manage.read_text())
        manage.chmod(0o755)
        self.folder = folder
        self.db = folder / "provider-records.json"
        self.log = folder / "manage-calls.log"

    def run(self, task: str, shell: str = SHELLS[0]) -> str:
        result = subprocess.run(
            [shell, "-e", "-c", task],
            cwd=self.folder,
            env={**os.environ, "FAKE_PROVIDER_DB": str(self.db), "FAKE_MANAGE_LOG": str(self.log)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def records(self) -> list[dict[str, Any]]:
        if not self.db.exists():
            return []
        rows: list[dict[str, Any]] = json.loads(self.db.read_text())
        return rows

    def current(self, backend_name: str) -> dict[str, Any]:
        rows = [row for row in self.records() if row["backend_name"] == backend_name]
        return max(rows, key=lambda row: row["change_date"])


@pytest.fixture
def platform(tmp_path: Path) -> FakePlatform:
    return FakePlatform(tmp_path / "edx-platform")


@pytest.mark.parametrize("shell", SHELLS)
def test_b2c_record_is_created_once(
    project: TutorProject, platform: FakePlatform, shell: str
) -> None:
    project.save(B2C)
    task = project.init_task()

    first = platform.run(task, shell)
    second = platform.run(task, shell)

    assert len(platform.records()) == 1
    record = platform.current("azuread-b2c-oauth2")
    assert record["enabled"] is True
    assert record["slug"] == "azuread-b2c-oauth2"
    assert record["key"] == "0a1b2c3d-client-b2c"
    assert record["secret"] == ""
    assert json.loads(record["other_settings"]) == {
        "TENANT_NAME": "contosolearn",
        "POLICY": "B2C_1_signupsignin",
        "SCOPE": ["offline_access"],
        "EXTRA_DATA": ["id_token", "refresh_token"],
    }
    assert record["skip_email_verification"] is True
    assert record["sync_learner_profile_data"] is True
    assert record["skip_registration_form"] is False
    assert record["visible"] is True

    assert "saved" in first
    assert "up to date" in second
    assert "http://local.openedx.io/auth/complete/azuread-b2c-oauth2/" in first
    assert CLIENT_SECRET not in task


def test_a_change_adds_exactly_one_current_record(
    project: TutorProject, platform: FakePlatform
) -> None:
    project.save(B2C)
    platform.run(project.init_task())

    project.save({"AI_TUTOR_OIDC_POLICY": "B2C_1A_SIGNUP_SIGNIN", "ENABLE_HTTPS": True})
    task = project.init_task()
    output = platform.run(task)
    platform.run(task)

    records = platform.records()
    assert len(records) == 2
    assert json.loads(records[0]["other_settings"])["POLICY"] == "B2C_1_signupsignin"
    assert json.loads(platform.current("azuread-b2c-oauth2")["other_settings"])["POLICY"] == (
        "B2C_1A_SIGNUP_SIGNIN"
    )
    assert "https://local.openedx.io/auth/complete/azuread-b2c-oauth2/" in output


def test_registration_choices_are_config(project: TutorProject, platform: FakePlatform) -> None:
    project.save(
        {
            **B2C,
            "AI_TUTOR_SSO_SKIP_EMAIL_VERIFICATION": False,
            "AI_TUTOR_SSO_SYNC_LEARNER_PROFILE_DATA": False,
            "AI_TUTOR_SSO_SKIP_REGISTRATION_FORM": True,
            "AI_TUTOR_SSO_NAME": "Contoso learners",
        }
    )
    platform.run(project.init_task())

    record = platform.current("azuread-b2c-oauth2")
    assert record["skip_email_verification"] is False
    assert record["sync_learner_profile_data"] is False
    assert record["skip_registration_form"] is True
    assert record["name"] == "Contoso learners"


def test_external_id_record(project: TutorProject, platform: FakePlatform) -> None:
    project.save(EXTERNAL_ID)
    platform.run(project.init_task())
    platform.run(project.init_task())

    assert len(platform.records()) == 1
    record = platform.current("oidc")
    assert record["key"] == "0a1b2c3d-client-ciam"
    assert json.loads(record["other_settings"]) == {
        "OIDC_ENDPOINT": f"https://contosolearners.ciamlogin.com/{TENANT_ID}/v2.0",
        "SCOPE": ["offline_access"],
        "EXTRA_DATA": ["id_token", "refresh_token"],
    }


def test_fields_set_by_an_administrator_are_kept(
    project: TutorProject, platform: FakePlatform
) -> None:
    platform.db.write_text(
        json.dumps(
            [
                {
                    **_fake_defaults(),
                    "id": 1,
                    "change_date": 1,
                    "backend_name": "azuread-b2c-oauth2",
                    "site_id": 7,
                    "icon_class": "fa-university",
                    "secret": "typed-in-admin",
                    "key": "old-client",
                }
            ]
        )
    )
    b2c_without_secret = {key: value for key, value in B2C.items() if "SECRET" not in key}
    project.save(b2c_without_secret)
    platform.run(project.init_task())

    assert len(platform.records()) == 2
    record = platform.current("azuread-b2c-oauth2")
    assert record["key"] == "0a1b2c3d-client-b2c"
    assert (record["site_id"], record["icon_class"]) == (7, "fa-university")
    # Without AI_TUTOR_OIDC_CLIENT_SECRET, the secret typed in Django admin stays.
    assert record["secret"] == "typed-in-admin"

    project.save({"AI_TUTOR_OIDC_CLIENT_SECRET": CLIENT_SECRET})
    platform.run(project.init_task())
    # With it, the record's secret is blanked: SOCIAL_AUTH_OAUTH_SECRETS holds it.
    assert platform.current("azuread-b2c-oauth2")["secret"] == ""


def test_no_sso_runs_no_django_command(project: TutorProject, platform: FakePlatform) -> None:
    project.save({"AI_TUTOR_SSO": "none"})
    output = platform.run(project.init_task())

    assert "no identity provider" in output
    assert not platform.log.exists()
    assert platform.records() == []


def _fake_defaults() -> dict[str, Any]:
    sys.path.insert(0, str(FAKES / "edx-platform"))
    try:
        from common.djangoapps.third_party_auth.models import FIELDS  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return dict(FIELDS)
