"""A learner's whole conversation in a real browser: ask, wait, read, follow a citation,
reload, clear. Screenshots of each view land in tests/artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot

PHOTOSYNTHESIS = "/scenario/ai_tutor.0/"
QUESTION = "Where does the Calvin cycle take place?"


def test_ask_cite_reload_clear(offline_workbench, page):
    url = offline_workbench + PHOTOSYNTHESIS + "?student=browser_learner"
    page.goto(url)
    tutor = page.locator(".ai-tutor")
    box = tutor.get_by_label("Your question")
    send = tutor.get_by_role("button", name="Send")
    status = tutor.get_by_role("status")
    screenshot(page, "learner-1-empty")

    # Hold the ask request so the pending state can be seen however fast the reply is.
    held = []
    page.route("**/handler/**/ask/**", lambda route: held.append(route))
    box.fill(QUESTION)
    box.press("Enter")
    expect(status).to_have_text(re.compile("thinking", re.I))
    expect(send).to_be_disabled()
    expect(box).to_have_attribute("aria-busy", "true")
    expect(tutor.locator(".ai-tutor-turn-user")).to_have_text(re.compile(QUESTION))
    screenshot(page, "learner-2-pending")
    page.wait_for_function("() => true")  # let the route handler run before releasing it
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/handler/**/ask/**")

    reply = tutor.locator(".ai-tutor-turn-assistant:not(.ai-tutor-welcome)")
    expect(reply).to_have_count(1)
    expect(send).to_be_enabled()
    expect(status).to_have_text("")
    expect(box).to_be_focused()
    expect(reply).to_contain_text("stroma")
    citation = reply.locator("a.ai-tutor-citation").first
    expect(citation).to_have_text("How plants make food")
    screenshot(page, "learner-3-reply")

    # Following a citation brings the cited component into view and gives it focus.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    source_id = citation.get_attribute("data-source-id")
    citation.click()
    # The workbench wraps each component in `[data-usage]` (the LMS: `[data-usage-id]`).
    page.wait_for_function(
        "(id) => { const el = document.activeElement;"
        " return (el.getAttribute('data-usage') || el.getAttribute('data-usage-id')) === id; }",
        arg=source_id,
    )
    page.wait_for_function(
        '(id) => { const r = document.querySelector(`[data-usage="${id}"]`)'
        ".getBoundingClientRect(); return r.top >= -1 && r.top < window.innerHeight / 2; }",
        arg=source_id,
    )
    assert page.url.endswith("?student=browser_learner")  # no "#" navigation
    screenshot(page, "learner-4-citation", as_seen=True)

    page.reload()
    expect(tutor.locator(".ai-tutor-turn-user")).to_have_text(re.compile(QUESTION))
    expect(reply).to_have_count(1)
    expect(reply.locator("a.ai-tutor-citation")).to_have_count(2)
    screenshot(page, "learner-5-reloaded")

    tutor.get_by_role("button", name="Clear conversation").click()
    expect(status).to_have_text("Conversation cleared.")
    expect(tutor.locator(".ai-tutor-turn")).to_have_count(1)  # the welcome stays
    screenshot(page, "learner-6-cleared")
    page.reload()
    expect(tutor.locator(".ai-tutor-turn")).to_have_count(1)
    expect(tutor).not_to_contain_text(QUESTION)
