"""Hostile model replies and learner questions in a real browser: no script runs and no
request leaves for another host, on first display and after a reload of the history.

The workbench calls a loopback OpenAI-compatible server run by this test process, which
answers every question with the same hostile reply.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.loopback import ProviderServer, Scripted, chat_completion
from tests.workbench_server import running_workbench

PHOTOSYNTHESIS = "/scenario/ai_tutor.0/"

# Each way in sets window.__pwned or opens a dialog if it runs; each outside resource
# names evil.example, which the browser is never allowed to reach.
HOSTILE = "\n\n".join(
    [
        "Here is a hint.",
        "<script>window.__pwned = 'script'</script>",
        "<img src=x onerror=\"window.__pwned = 'img-onerror'\">",
        '<img src="/static/none.png" onerror="alert(\'img-same-host\')">',
        "[a javascript link](javascript:window.__pwned='javascript-link')",
        "[a data link](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0xPC9zY3JpcHQ+)",
        "<a href=\"javascript:alert('raw-anchor')\">raw anchor</a>",
        "<iframe srcdoc=\"<script>parent.__pwned = 'iframe'</script>\"></iframe>",
        '<svg onload="window.__pwned = \'svg\'"><circle r="5"/></svg>',
        '<svg><animate onbegin="alert(\'svg-animate\')" attributeName="x" dur="1s"/></svg>',
        "<details open ontoggle=\"window.__pwned = 'details'\">x</details>",
        "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mxss'\">",
        "<style>body { background: url(http://evil.example/style.png) }</style>",
        "![remote image](http://evil.example/pixel.png)",
        "![protocol-relative image](//evil.example/relative.png)",
        "![https image](https://evil.example/secure.png)",
        "![data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+)",
        "![broken out](/x.png\" onerror=\"window.__pwned='attr-break')",
        "[reference-style][evil]\n\n[evil]: javascript:alert('reference')",
        '<object data="http://evil.example/object.swf"></object>',
        '<embed src="http://evil.example/embed.swf">',
        '<form action="http://evil.example/"><input autofocus onfocus="window.__pwned=\'focus\'"></form>',
        '<base href="http://evil.example/">',
        '<meta http-equiv="refresh" content="0; url=javascript:alert(\'meta\')">',
    ]
)

HOSTILE_QUESTION = (
    "<script>window.__pwned='question-script'</script> "
    "<img src=x onerror=\"window.__pwned='question-img'\"> "
    "<iframe srcdoc=\"<script>parent.__pwned='question-iframe'</script>\"></iframe> "
    "<svg onload=\"alert('question-svg')\"></svg> "
    "[click](javascript:alert('question-link')) ![x](http://evil.example/question.png)"
)


@pytest.fixture(scope="module")
def hostile_workbench(tmp_path_factory):
    server = ProviderServer()
    server.default = lambda recorded: Scripted(body=chat_completion(HOSTILE))
    folder = tmp_path_factory.mktemp("hostile-workbench")
    with server.running():
        env = {
            "AI_TUTOR_PROVIDER": "openai",
            "AI_TUTOR_BASE_URL": server.url + "/v1",
            "OPENAI_API_KEY": "test",
            "AI_TUTOR_COURSE_OLX": str(folder / "no-course"),
        }
        with running_workbench(folder, env) as base:
            yield base, server


class Watch:
    """What a page did that it must not: dialogs opened, requests to other hosts."""

    def __init__(self, page, base: str) -> None:
        self.host = urlsplit(base).netloc
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.outside: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.requests.append(request.url))
        # Requests for other hosts are recorded and refused, so nothing leaves even if one slips.
        page.context.route("**/*", self._route)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        url = route.request.url
        if urlsplit(url).netloc != self.host:
            self.outside.append(url)
            route.abort()
        else:
            route.continue_()

    def assert_clean(self, page) -> None:
        page.wait_for_timeout(300)  # let image errors, animations and toggles fire
        assert page.evaluate("window.__pwned") is None
        frames = [frame.evaluate("typeof window.__pwned") for frame in page.frames]
        assert frames == ["undefined"] * len(frames)
        assert self.dialogs == []
        assert self.outside == []
        stray = [url for url in self.requests if urlsplit(url).netloc != self.host]
        assert stray == []


def assert_inert(reply) -> None:
    """The reply's DOM holds nothing that can run or fetch from elsewhere."""
    found = reply.evaluate(
        """(node) => {
            const bad = [];
            node.querySelectorAll('script, iframe, object, embed, svg, math, style, form, base, meta, input')
                .forEach((el) => bad.push(el.tagName));
            node.querySelectorAll('*').forEach((el) => {
                for (const attr of el.attributes) {
                    if (attr.name.startsWith('on') || attr.name === 'srcdoc') bad.push(attr.name);
                }
            });
            node.querySelectorAll('[href], [src]').forEach((el) => {
                const value = el.getAttribute('href') || el.getAttribute('src');
                if (!/^(https?:|mailto:|#)/i.test(value) && !(el.tagName === 'IMG' && value.startsWith('/')))
                    bad.push(el.tagName + ' ' + value);
                if (el.tagName === 'IMG' && !value.startsWith('/')) bad.push('IMG ' + value);
            });
            return bad;
        }"""
    )
    assert found == []


def ask(page, question: str):
    tutor = page.locator(".ai-tutor")
    before = tutor.locator(".ai-tutor-turn-assistant").count()
    tutor.get_by_label("Your question").fill(question)
    tutor.get_by_role("button", name="Send").click()
    reply = tutor.locator(".ai-tutor-turn-assistant").nth(before)
    expect(reply).to_contain_text("Here is a hint.")
    return reply


def test_hostile_reply_runs_nothing_and_fetches_nothing(hostile_workbench, page):
    base, server = hostile_workbench
    watch = Watch(page, base)
    page.goto(base + PHOTOSYNTHESIS + "?student=hostile_reply")

    reply = ask(page, "What does chlorophyll do?")
    assert_inert(reply.locator(".ai-tutor-text"))
    for name in ["a javascript link", "a data link", "raw anchor"]:
        clickable = reply.get_by_role("link", name=name)
        if clickable.count():
            clickable.click()
    watch.assert_clean(page)
    assert server.requests, "the reply came from the loopback provider"
    screenshot(page, "hostile-1-reply")

    page.reload()
    reply = page.locator(".ai-tutor-turn-assistant:not(.ai-tutor-welcome)")
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("Here is a hint.")
    assert_inert(reply.locator(".ai-tutor-text"))
    watch.assert_clean(page)
    screenshot(page, "hostile-2-reloaded")


def test_hostile_question_is_shown_as_text(hostile_workbench, page):
    base, _server = hostile_workbench
    watch = Watch(page, base)
    page.goto(base + PHOTOSYNTHESIS + "?student=hostile_question")

    ask(page, HOSTILE_QUESTION)
    question = page.locator(".ai-tutor-turn-user .ai-tutor-text")
    expect(question).to_have_text(HOSTILE_QUESTION)
    assert question.evaluate("(node) => node.children.length") == 0  # text only, no elements
    watch.assert_clean(page)

    page.reload()
    question = page.locator(".ai-tutor-turn-user .ai-tutor-text")
    expect(question).to_have_text(re.compile(re.escape(HOSTILE_QUESTION)))
    assert question.evaluate("(node) => node.querySelectorAll(':not(br)').length") == 0
    watch.assert_clean(page)
    screenshot(page, "hostile-3-question-reloaded")
