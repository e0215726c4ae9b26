"""Browser tests: Playwright driving Debian's Chromium headless against the real workbench.

No browser is downloaded: Chromium comes from Debian (`apt-get install chromium`) and
Playwright only drives it. Every test here is skipped when `/usr/bin/chromium` is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("AI_TUTOR_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

# Without the background-networking flags Chromium keeps calling Google's hosts, which
# this machine's closed network refuses; none of them changes what a page does.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.is_file():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh context per test: its own cookies, so its own CSRF token and learner state."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def screenshot(page, name: str, *, as_seen: bool = False) -> Path:
    """Save a screenshot under tests/artifacts/ (gitignored) and return its path.

    By default the whole page from its top (the workbench's banner is fixed, so a full-page
    shot of a scrolled page draws it mid-page); `as_seen` keeps the viewport as scrolled.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if as_seen:
        page.screenshot(path=str(path))
    else:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def offline_workbench(tmp_path_factory) -> Iterator[str]:
    """The workbench with the offline provider, shared by the learner and accessibility tests.

    Only the built-in Photosynthesis unit is served (`AI_TUTOR_COURSE_OLX` names an empty
    folder): reading the whole demo course would add half a minute to the start.
    """
    from tests.workbench_server import running_workbench

    folder = tmp_path_factory.mktemp("offline-workbench")
    env = {"AI_TUTOR_PROVIDER": "offline", "AI_TUTOR_COURSE_OLX": str(folder / "no-course")}
    with running_workbench(folder, env) as base:
        yield base


def element_screenshot(locator, name: str) -> Path:
    """Save a screenshot of one element (the tutor alone, as the README shows it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # A viewport tall enough for the whole element, seen from the page's top: scrolled into
    # view instead, it would sit under the workbench's fixed banner.
    page = locator.page
    page.evaluate("window.scrollTo(0, 0)")
    box = locator.bounding_box()
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": int(box["y"] + box["height"]) + 40})
    try:
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path
