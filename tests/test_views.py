"""What the block shows and exports: the chat, the Studio editor, the OLX, and no secrets."""

from __future__ import annotations

from lxml import etree

from tests.blocks import call, make_block

CANARY = "sk-canary-views-4242"
SETTINGS = {
    "provider": "openai",
    "api_key": CANARY,
    "base_url": "https://secret-endpoint.example/v1",
}


def resources_text(fragment) -> str:
    return "".join(resource.data for resource in fragment.resources)


def test_student_view_has_the_chat_and_no_secret():
    block = make_block(SETTINGS, welcome_message="Welcome, *learner*!")
    fragment = block.student_view({})

    html = fragment.content
    assert 'class="ai-tutor-question"' in html and "<label" in html
    assert "Send" in html and "Clear conversation" in html
    assert 'aria-live="polite"' in html and 'role="status"' in html
    assert "<em>learner</em>" in html
    assert fragment.js_init_fn == "AITutorBlock"
    assert "function AITutorBlock(runtime, element, initArgs)" in resources_text(fragment)
    assert "X-CSRFToken" in resources_text(fragment)
    for secret in (CANARY, "secret-endpoint"):
        assert secret not in html + resources_text(fragment) + str(fragment.json_init_args)


def test_student_view_shows_the_history_with_learner_text_escaped():
    block = make_block(course_material="The stroma is the fluid inside the chloroplast. " * 8)
    call(block, "ask", {"question": "<img src=x onerror=alert(1)> what is the stroma?"})

    html = block.student_view({}).content

    assert "&lt;img src=x onerror=alert(1)&gt; what is the stroma?" in html
    assert "<img src=x" not in html
    assert "ai-tutor-citation" in html


def test_studio_view_edits_the_author_fields_only():
    block = make_block(SETTINGS)
    html = block.studio_view({}).content
    for field in (
        "display_name",
        "mode",
        "instructions",
        "course_material",
        "welcome_message",
        "model_override",
    ):
        assert f'data-field-name="{field}"' in html
    assert "conversation" not in html
    assert CANARY not in html and "secret-endpoint" not in html


def test_course_export_carries_author_fields_and_no_secret():
    # Studio exports a course with no learner in the runtime, so only author fields are set.
    block = make_block(SETTINGS, instructions="Be brief.", course_material="Chlorophyll is green.")
    node = etree.Element("ai_tutor")

    block.add_xml_to_node(node)
    exported = etree.tostring(node, encoding="unicode")

    assert 'instructions="Be brief."' in exported
    assert "Chlorophyll is green." in exported
    assert CANARY not in exported and "secret-endpoint" not in exported
