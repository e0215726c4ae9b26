"""The tutor in the real xblock-sdk workbench, over HTTP, with CSRF enforced."""

from __future__ import annotations

import re

import pytest
import requests

from ai_tutor.workbench.scenarios import default_course_folder
from tests.workbench_server import running_workbench

pytestmark = pytest.mark.skipif(
    default_course_folder() is None, reason="the demo course (../shared/demo-course) is not here"
)


@pytest.fixture(scope="module")
def workbench(tmp_path_factory):
    with running_workbench(tmp_path_factory.mktemp("workbench")) as base:
        yield base


def scenario_url(base: str, title_part: str) -> str:
    index = requests.get(base + "/", timeout=30).text
    for href, title in re.findall(r'href="(/scenario/[^"]+)">([^<]+)</a>', index):
        if title_part in title:
            return base + href
    raise AssertionError(f"no scenario titled like {title_part!r}")


def tutor_usage_id(page: str) -> str:
    return re.search(r"data-usage='([^']*\.ai_tutor\.[^']*)'", page).group(1)


def test_index_lists_the_demo_course_units_and_the_builtin_example(workbench):
    index = requests.get(workbench + "/", timeout=30).text
    titles = re.findall(r'href="/scenario/ai_tutor\.\d+/">([^<]+)</a>', index)
    assert titles[0].startswith("AI Tutor: Photosynthesis")
    assert any("Transcripts and Subtitles" in title for title in titles)
    assert len(titles) > 40  # the demo course has 58 units


def test_ask_reload_clear_on_a_demo_course_unit(workbench):
    session = requests.Session()
    url = scenario_url(workbench, "Videos / Transcripts and Subtitles") + "?student=learner_a"
    page = session.get(url, timeout=30).text
    usage_id = tutor_usage_id(page)
    assert "ai-tutor-standin" in page  # the unit's own components are shown beside the tutor
    handler = f"{workbench}/handler/{usage_id}/{{}}/?student=learner_a"
    csrf = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": url}

    refused = session.post(handler.format("ask"), json={"question": "transcript?"}, timeout=30)
    assert refused.status_code == 403  # no CSRF header, no answer

    question = "How do I upload a transcript file for a video?"
    answer = session.post(
        handler.format("ask"), json={"question": question}, headers=csrf, timeout=60
    )
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["offline"] is True and reply["provider"] == "offline"
    assert reply["citations"], reply
    assert "transcript" in reply["reply_text"].lower()

    reloaded = session.get(url, timeout=30).text
    assert question in reloaded
    assert 'class="ai-tutor-citation"' in reloaded

    other_learner = requests.get(url.replace("learner_a", "learner_b"), timeout=30).text
    assert question not in other_learner

    cleared = session.post(handler.format("clear"), json={}, headers=csrf, timeout=30)
    assert cleared.status_code == 200
    assert question not in session.get(url, timeout=30).text


def test_malformed_body_is_a_json_400_on_the_real_url(workbench):
    session = requests.Session()
    url = scenario_url(workbench, "Photosynthesis")
    usage_id = tutor_usage_id(session.get(url, timeout=30).text)
    response = session.post(
        f"{workbench}/handler/{usage_id}/ask/",
        data=b"{not json",
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_json"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_workbench_with_a_provider_at_a_base_url(tmp_path, provider):
    from tests.loopback import ProviderServer

    with ProviderServer().running() as server:
        env = {
            "AI_TUTOR_PROVIDER": provider,
            "AI_TUTOR_MODEL": "loopback-model",
            "OPENAI_BASE_URL" if provider == "openai" else "ANTHROPIC_BASE_URL": (
                server.url + "/v1" if provider == "openai" else server.url
            ),
            "OPENAI_API_KEY" if provider == "openai" else "ANTHROPIC_API_KEY": "sk-wb-canary",
        }
        with running_workbench(tmp_path, env) as base:
            session = requests.Session()
            url = scenario_url(base, "Photosynthesis")
            page = session.get(url, timeout=30).text
            assert "sk-wb-canary" not in page
            answer = session.post(
                f"{base}/handler/{tutor_usage_id(page)}/ask/",
                json={"question": "Where does the Calvin cycle take place?"},
                headers={"X-CSRFToken": session.cookies["csrftoken"]},
                timeout=60,
            )
    assert answer.status_code == 200, answer.text
    assert answer.json()["provider"] == provider
    assert answer.json()["reply_text"] == "Think about where the light is absorbed."
    (sent,) = server.requests
    assert sent.body["model"] == "loopback-model"
    system = sent.body["system"] if provider == "anthropic" else sent.body["messages"][0]["content"]
    assert "stroma" in system  # the unit's HTML reached the prompt as course material
    assert "In the stroma" in system and 'correct="true"' not in system
    assert "runs in the stroma of the chloroplast" not in system  # the problem's solution
