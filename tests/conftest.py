"""Test setup shared by every test: Django configured with the workbench settings.

xblock-sdk's settings need a `var/` folder in the working directory; the tests make it.
"""

from __future__ import annotations

import os
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)
(ROOT / "var").mkdir(exist_ok=True)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ai_tutor.workbench.settings")
django.setup()


import pytest  # noqa: E402 (Django is set up first)


@pytest.fixture(autouse=True)
def _empty_shared_cache():
    """Every test starts with an empty Django cache: limits, locks and replies live there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def server():
    """A loopback server speaking the providers' wire formats (tests/loopback.py)."""
    from tests.loopback import ProviderServer

    with ProviderServer().running() as running:
        yield running
