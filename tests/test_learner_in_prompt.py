"""Language, progress and citations through the block's `ask` handler and the real SDK.

The block runs in XBlock's test runtime with fakes of the LMS's `user` and `user_state`
services (see tests/test_learner.py) and sits in a unit of fake LMS blocks.
"""

from __future__ import annotations

from typing import Any

from xblock.field_data import DictFieldData
from xblock.fields import ScopeIds
from xblock.test.tools import TestRuntime

from ai_tutor.block import AITutorBlock
from tests.blocks import FakeSettingsService, call, provider_settings
from tests.loopback import ProviderServer, Scripted, chat_completion
from tests.test_learner import (
    SECRET,
    FakeI18nService,
    FakeUserService,
    FakeUserStateService,
    lms_problem_state,
)

PROBLEM_OLX = """<problem display_name="Calvin cycle check">
  <multiplechoiceresponse>
    <label>Where does the Calvin cycle take place?</label>
    <choicegroup type="MultipleChoice">
      <choice correct="false">In the thylakoid membranes</choice>
      <choice correct="true">In the stroma</choice>
    </choicegroup>
    <solution><p>It runs in the stroma of the chloroplast.</p></solution>
  </multiplechoiceresponse>
</problem>"""


class LmsBlock:
    def __init__(self, block_type: str, name: str, display_name: str, **fields: Any) -> None:
        self.scope_ids = ScopeIds(
            "u", block_type, name, f"block-v1:X+Y+Z+type@{block_type}+block@{name}"
        )
        self.display_name = display_name
        for field, value in fields.items():
            setattr(self, field, value)


class UnitBlock:
    display_name = "Photosynthesis"

    def __init__(self, children: list[Any]) -> None:
        self.children = children

    def get_children(self) -> list[Any]:
        return list(self.children)

    def get_parent(self) -> None:
        return None


def tutor_in_lms_unit(server: ProviderServer, services: dict[str, Any]) -> AITutorBlock:
    runtime = TestRuntime(
        services={
            "field-data": DictFieldData({}),
            "settings": FakeSettingsService({"ai_tutor": provider_settings(server)}),
            **services,
        }
    )
    tutor = runtime.construct_xblock_from_class(
        AITutorBlock, ScopeIds("ada", "ai_tutor", "def-1", "block-v1:X+Y+Z+type@ai_tutor+block@t")
    )
    unit = UnitBlock(
        [
            LmsBlock(
                "html",
                "h1",
                "How plants make food",
                data="<p>The Calvin cycle fixes carbon dioxide into sugar.</p>",
            ),
            LmsBlock("problem", "p1", "Calvin cycle check", data=PROBLEM_OLX),
            tutor,
        ]
    )
    tutor.get_parent = lambda: unit  # what the LMS runtime loads for a handler
    return tutor


def lms_services() -> dict[str, Any]:
    states = {
        ("ada", "block-v1:X+Y+Z+type@problem+block@p1"): lms_problem_state(3, ["incorrect"], 0, 1)
    }
    return {
        "user": FakeUserService(
            {
                "edx-platform.username": "ada",
                "edx-platform.user_preferences": {"pref-lang": "es", "time_zone": "UTC"},
            }
        ),
        "user_state": FakeUserStateService(states),
        "i18n": FakeI18nService("en"),
    }


def system_of(server: ProviderServer) -> str:
    (sent,) = server.requests
    return sent.body["messages"][0]["content"]


def test_the_block_wants_the_user_state_service():
    assert AITutorBlock.service_declaration("user_state") == "want"


def test_language_and_progress_reach_the_prompt_and_answers_do_not():
    with ProviderServer().running() as server:
        tutor = tutor_in_lms_unit(server, lms_services())
        status, body, _ = call(tutor, "ask", {"question": "Where does the Calvin cycle run?"})

    assert status == 200, body
    system = system_of(server)
    assert "The learner's preferred language: es." in system
    assert 'Problem "Calvin cycle check": attempted 3 times, last attempt incorrect' in system
    assert "Where does the Calvin cycle take place?" in system  # the problem, answer-free
    assert SECRET not in system  # nothing of the stored answers, messages or hints
    assert "runs in the stroma of the chloroplast" not in system
    assert 'correct="true"' not in system


def test_the_workbench_shape_gives_no_progress_and_the_i18n_language():
    # The workbench: a user service without LMS attributes, no user_state service.
    with ProviderServer().running() as server:
        tutor = tutor_in_lms_unit(
            server, {"user": FakeUserService({}), "i18n": FakeI18nService("fr")}
        )
        status, _, _ = call(tutor, "ask", {"question": "Where does the Calvin cycle run?"})

    assert status == 200
    system = system_of(server)
    assert "progress in this unit" not in system
    assert "The learner's preferred language: fr." in system


def test_the_reply_lists_only_the_sources_it_cites():
    with ProviderServer().running() as server:
        tutor = tutor_in_lms_unit(server, lms_services())
        system_sources = None

        def answer(recorded):
            nonlocal system_sources
            system_sources = recorded.body["messages"][0]["content"]
            number = next(
                line.split("]")[0].lstrip("[")
                for line in system_sources.splitlines()
                if line.startswith("[") and "Calvin cycle check" in line
            )
            return Scripted(body=chat_completion(f"Look at the question again [{number}]."))

        server.default = answer
        status, body, _ = call(tutor, "ask", {"question": "Where does the Calvin cycle run?"})
        _, uncited, _ = call(tutor, "ask", {"question": "And where is the Calvin cycle?"})

    assert status == 200
    assert "How plants make food" in system_sources  # two sources were sent ...
    assert [c["source_name"] for c in body["citations"]] == ["Calvin cycle check"]  # ... one cited
    assert [c["source_id"] for c in body["citations"]] == ["block-v1:X+Y+Z+type@problem+block@p1"]
    stored = tutor.conversation[1]["citations"]
    assert [c["source_name"] for c in stored] == ["Calvin cycle check"]
    assert len(uncited["citations"]) == 1  # the second reply also cites [n]


def test_a_reply_without_citations_lists_every_source_sent():
    with ProviderServer().running() as server:
        tutor = tutor_in_lms_unit(server, lms_services())
        server.default = lambda recorded: Scripted(body=chat_completion("Think it over."))
        status, body, _ = call(tutor, "ask", {"question": "Where does the Calvin cycle run?"})

    assert status == 200
    assert {c["source_name"] for c in body["citations"]} == {
        "How plants make food",
        "Calvin cycle check",
    }
