"""The distribution as operators get it: a wheel in a fresh environment, editable installs,
and resolution against the Open edX pins."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT.parent / "shared" / "openedx-constraints"

pytestmark = pytest.mark.packaging

ulmo_pins = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11) or not CONSTRAINTS.is_dir(),
    reason="the Ulmo pins (../shared/openedx-constraints/py311.txt) are for Python 3.11",
)

# Runs inside the installed environment: reads the shipped templates and static files through
# the package, renders the student view, and reports where everything came from.
PROBE = textwrap.dedent(
    """
    import json, importlib.metadata as md
    import django
    from django.conf import settings
    settings.configure(
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        INSTALLED_APPS=[], USE_I18N=True,
    )
    django.setup()
    from xblock.field_data import DictFieldData
    from xblock.fields import ScopeIds
    from xblock.test.tools import TestRuntime
    import ai_tutor
    from ai_tutor.block import AITutorBlock
    (entry_point,) = md.entry_points(group="xblock.v1", name="ai_tutor")
    runtime = TestRuntime(services={"field-data": DictFieldData({})})
    block = runtime.construct_xblock_from_class(AITutorBlock, ScopeIds("u", "ai_tutor", "d", "b"))
    fragment = block.student_view({})
    print(json.dumps({
        "package": ai_tutor.__file__,
        "entry_point": entry_point.value,
        "loads": entry_point.load() is AITutorBlock,
        "has_form": "ai-tutor-question" in fragment.content,
        "has_js": "function AITutorBlock" in "".join(r.data for r in fragment.resources),
        "block_types": sorted(ep.name for ep in md.entry_points(group="xblock.v1")),
    }))
    """
)


def run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def venv(path: Path) -> Path:
    run(sys.executable, "-m", "venv", path)
    return path / "bin" / "python"


def probe(python: Path) -> dict:
    # Run away from the checkout, so `import ai_tutor` finds the installed package only.
    return json.loads(run(python, "-c", PROBE, cwd=python.parent).strip().splitlines()[-1])


def test_wheel_built_with_setuptools_80_9_installs_and_works(tmp_path):
    builder = venv(tmp_path / "builder")
    run(builder, "-m", "pip", "install", "--quiet", "setuptools==80.9.0", "wheel")
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "var", "node_modules", "build", "*.egg-info"
        ),
    )
    run(
        builder,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        tmp_path / "dist",
        source,
    )
    (wheel,) = (tmp_path / "dist").glob("xblock_ai_tutor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ai_tutor/templates/student_view.html" in names
    assert "ai_tutor/static/ai_tutor.js" in names
    assert "ai_tutor/static/ai_tutor_author.js" in names
    assert "ai_tutor/templates/author_view.html" in names
    # The catalogs the LMS's i18n service and the block's JS read.
    assert "ai_tutor/translations/es/LC_MESSAGES/text.mo" in names
    assert "ai_tutor/static/translations/es/text.js" in names
    assert not [
        n for n in names if n.startswith(("templates/", "static/", "tests/", "tutor_plugin/"))
    ]
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert not [r for r in requirements if "tutor" in r.split(";")[0].lower()]
    assert not [r for r in requirements if "web-fragments" in r.lower()]

    target = venv(tmp_path / "target")
    run(target, "-m", "pip", "install", "--quiet", wheel)
    found = probe(target)

    assert found["package"].startswith(str(tmp_path / "target"))
    assert found["entry_point"] == "ai_tutor.block:AITutorBlock" and found["loads"]
    assert found["has_form"] and found["has_js"]
    # The workbench stand-ins are never registered as xblock.v1 entry points.
    assert not {"html", "problem", "video", "vertical"} & set(found["block_types"])


def test_plain_editable_install_reads_templates_and_static():
    # `make` installs this environment with a plain `pip install -e .` (setuptools' default
    # editable mode, as `tutor mounts` does); this test runs inside it.
    found = probe(Path(sys.executable))
    assert found["package"] == str(ROOT / "ai_tutor" / "__init__.py")
    assert found["has_form"] and found["has_js"]
    direct_url = run(
        sys.executable,
        "-c",
        "import importlib.metadata as md;"
        "print(md.distribution('xblock-ai-tutor').read_text('direct_url.json'))",
        cwd=Path(sys.executable).parent,
    )
    assert json.loads(direct_url)["dir_info"].get("editable") is True


def test_strict_editable_install_reads_templates_and_static(tmp_path):
    target = venv(tmp_path / "strict")
    run(
        target,
        "-m",
        "pip",
        "install",
        "--quiet",
        "-e",
        ROOT,
        "--config-settings",
        "editable_mode=strict",
    )
    found = probe(target)
    assert found["has_form"] and found["has_js"]


@ulmo_pins
def test_anthropic_extra_resolves_against_the_full_ulmo_pins(tmp_path):
    report = tmp_path / "report.json"
    run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--dry-run",
        "--ignore-installed",
        "--report",
        report,
        "-c",
        CONSTRAINTS / "py311.txt",
        f"{ROOT}[anthropic]",
    )
    installed = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert installed["xblock"] == "5.3.0"
    assert installed["pyjwt"] == "2.10.1"
    assert installed["django"] == "5.2.10"
    assert "anthropic" in installed
    assert "openai" not in installed


@ulmo_pins
def test_openai_extra_cannot_keep_ulmos_openai_0_28(tmp_path):
    # The README tells Ulmo operators that [openai] upgrades the openai edx-enterprise holds
    # back; with that pin in force the extra cannot resolve at all.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "-c",
            str(CONSTRAINTS / "py311.txt"),
            f"{ROOT}[openai]",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode != 0
    assert "openai" in result.stderr.lower()
