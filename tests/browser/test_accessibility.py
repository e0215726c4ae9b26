"""axe-core on the learner view: no serious or critical violations, empty and with a reply.

axe-core comes from npm (`npm ci --prefix tests/browser`); without it these tests fail
rather than skip, so CI cannot pass them by forgetting the install.
"""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import screenshot

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PHOTOSYNTHESIS = "/scenario/ai_tutor.0/"


def serious_violations(page, selector: str = ".ai-tutor") -> list[dict]:
    assert AXE.is_file(), f"{AXE} is missing: run `npm ci --prefix tests/browser`"
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        """async (selector) => {
            const results = await axe.run(document.querySelector(selector), {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
                resultTypes: ['violations'],
            });
            return results.violations;
        }""",
        selector,
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in results
        if violation["impact"] in ("serious", "critical")
    ]


def test_learner_view_has_no_serious_violations(offline_workbench, page):
    page.goto(offline_workbench + PHOTOSYNTHESIS + "?student=axe_learner")
    assert serious_violations(page) == []

    tutor = page.locator(".ai-tutor")
    tutor.get_by_label("Your question").fill("Where does the Calvin cycle take place?")
    tutor.get_by_role("button", name="Send").click()
    expect(tutor.locator("a.ai-tutor-citation")).to_have_count(2)
    found = serious_violations(page)
    assert found == [], json.dumps(found, indent=2)

    page.reload()
    expect(tutor.locator("a.ai-tutor-citation")).to_have_count(2)
    found = serious_violations(page)
    screenshot(page, "learner-7-axe-checked")
    assert found == [], json.dumps(found, indent=2)
