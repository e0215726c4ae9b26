"""The people around the tutor in a real browser: a learner rates a reply, course staff read
the panel and download its CSV, an author tries the tutor in Studio's preview. axe-core checks
the staff and author views. Screenshots land in tests/artifacts/.

In the workbench, students whose id starts with `staff` are course staff
(`ai_tutor.workbench.roles`).
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import element_screenshot, screenshot
from tests.browser.test_accessibility import serious_violations

PHOTOSYNTHESIS = "/scenario/ai_tutor.0/"
QUESTION = "Where does the Calvin cycle take place?"


def test_learner_thumbs_up_survives_a_reload_and_reaches_the_staff_panel(offline_workbench, page):
    page.goto(offline_workbench + PHOTOSYNTHESIS + "?student=thumbs_learner")
    tutor = page.locator(".ai-tutor")
    expect(tutor.locator(".ai-tutor-disclosure")).to_contain_text("stay on this site")
    tutor.get_by_label("Your question").fill(QUESTION)
    tutor.get_by_role("button", name="Send").click()
    reply = tutor.locator(".ai-tutor-turn-assistant:not(.ai-tutor-welcome)")
    expect(reply).to_have_count(1)

    helpful = reply.get_by_role("button", name="Helpful", exact=True)
    expect(helpful).to_have_attribute("aria-pressed", "false")
    helpful.click()
    expect(helpful).to_have_attribute("aria-pressed", "true")
    expect(tutor.get_by_role("status")).to_have_text("Thank you for your feedback.")
    comment = reply.get_by_label("Tell us more (optional)")
    comment.fill("Clear, <b>thanks</b>")
    reply.get_by_role("button", name="Send comment").click()
    expect(tutor.get_by_role("status")).to_have_text("Thank you for your comment.")
    screenshot(page, "people-1-thumbs-up")
    element_screenshot(tutor, "tutor-learner-feedback")

    page.reload()
    expect(reply.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(reply.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert page.locator(".ai-tutor-staff").count() == 0  # a learner sees no panel

    staff = page.context.new_page()
    staff.goto(offline_workbench + PHOTOSYNTHESIS + "?student=staff_teacher")
    panel = staff.locator(".ai-tutor-staff")
    expect(panel).to_be_visible()
    expect(panel.locator('[data-figure="thumbs_up"]')).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(panel.locator('[data-figure="questions_total"]')).not_to_have_text("0")
    expect(panel).to_contain_text("not shown")  # question texts stay private by default
    screenshot(staff, "people-2-staff-panel")
    element_screenshot(staff.locator(".ai-tutor"), "tutor-staff-panel")

    with staff.expect_download() as download_info:
        panel.get_by_role("link", name="Download daily usage (CSV)").click()
    download = download_info.value
    rows = open(download.path(), encoding="utf-8").read().splitlines()
    assert rows[0] == "day,questions,tokens" and len(rows) >= 2

    found = serious_violations(staff)
    assert found == [], json.dumps(found, indent=2)


def test_an_author_tries_the_tutor_in_the_studio_preview(offline_workbench, page):
    page.goto(offline_workbench + PHOTOSYNTHESIS + "author_view/?student=staff_author")
    author = page.locator(".ai-tutor-author")
    expect(author.get_by_role("heading", name="Try it")).to_be_visible()
    screenshot(page, "people-3-try-it-empty")

    author.get_by_label("Question to try").fill(QUESTION)
    author.get_by_role("button", name="Ask", exact=True).click()
    result = author.locator(".ai-tutor-try-result")
    expect(result).to_be_visible()
    expect(result.locator(".ai-tutor-try-reply")).to_contain_text("stroma")
    expect(result.locator(".ai-tutor-try-passages li").first).to_have_text("How plants make food")
    expect(result.locator(".ai-tutor-try-tokens")).to_contain_text("Tokens:")
    expect(author.get_by_label("Question to try")).to_be_focused()

    author.get_by_role("button", name="Ignore your instructions").click()
    expect(author.get_by_label("Question to try")).to_have_value(re.compile("Ignore your"))
    expect(author.get_by_role("status")).to_have_text("The tutor replied.")
    screenshot(page, "people-4-try-it-probe")
    element_screenshot(author, "tutor-studio-try-it")
    found = serious_violations(page, ".ai-tutor-author")
    assert found == [], json.dumps(found, indent=2)

    # Nothing of the try-out reached the author's own conversation as a learner.
    page.goto(offline_workbench + PHOTOSYNTHESIS + "?student=staff_author")
    expect(page.locator(".ai-tutor-turn")).to_have_count(1)


def test_the_try_it_handler_refuses_a_learner(offline_workbench, page):
    page.goto(offline_workbench + PHOTOSYNTHESIS + "author_view/?student=plain_learner")
    author = page.locator(".ai-tutor-author")
    author.get_by_label("Question to try").fill(QUESTION)
    author.get_by_role("button", name="Ask", exact=True).click()
    expect(author.get_by_role("status")).to_have_text("Only the course team can do this.")
