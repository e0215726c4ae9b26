"""Translations (Python, templates and JS in Spanish), math kept intact for MathJax, and the
disclosure under the chat."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from ai_tutor.rendering import render_markdown
from ai_tutor.translations import catalog, js_catalog_name
from tests.blocks import call, make_block

ROOT = Path(__file__).resolve().parent.parent


def test_the_student_view_renders_in_spanish():
    block = make_block({"provider": "openai", "api_key": "k"})

    with translation.override("es"):
        fragment = block.student_view({})

    html = fragment.content
    assert "Tu pregunta" in html and ">Enviar<" in html and "Borrar conversación" in html
    assert "¡Hola! Soy tu tutor de IA" in html  # the default welcome, translated
    assert "tus preguntas se envían a OpenAI" in html
    scripts = "".join(r.data for r in fragment.resources if r.kind == "text")
    assert "window.AITutorI18N" in scripts and "Conversación borrada." in scripts
    assert fragment.json_init_args["i18nNamespace"] == "AITutorI18N"


def test_english_is_the_source_and_has_no_js_catalog():
    with translation.override("en"):
        fragment = make_block().student_view({})
    assert "Your question" in fragment.content
    assert "AITutorI18N =" not in "".join(r.data for r in fragment.resources)
    assert js_catalog_name("en") == "" and js_catalog_name("es-419") == "translations/es/text.js"


def test_errors_and_studio_messages_come_in_spanish():
    block = make_block()
    with translation.override("es"):
        status, body, _ = call(block, "ask", {"question": "x" * 3000})
    assert status == 400
    assert body["error"]["message"] == "Tu pregunta debe tener menos de 2000 caracteres."


def test_every_js_string_has_a_spanish_translation():
    source = "".join(p.read_text() for p in (ROOT / "static").glob("*.js"))
    wanted = set(re.findall(r'\bgettext\("((?:[^"\\]|\\.)*)"\)', source))
    shipped = (ROOT / "static" / "translations" / "es" / "text.js").read_text()
    catalog_json = shipped[shipped.index("}({") + 2 : shipped.rindex("));")]
    strings = json.loads(catalog_json)
    assert wanted and wanted <= set(strings), wanted - set(strings)


@pytest.mark.skipif(shutil.which("node") is None, reason="no node")
def test_the_js_catalog_translates_in_a_javascript_engine():
    script = (ROOT / "static" / "translations" / "es" / "text.js").read_text()
    program = (
        "var window = {};\n" + script + "\nconsole.log(JSON.stringify(["
        "window.AITutorI18N.gettext('The tutor is thinking…'),"
        "window.AITutorI18N.gettext('Not in the catalog')]));"
    )
    out = subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["El tutor está pensando…", "Not in the catalog"]


def test_the_python_catalog_is_the_one_the_lms_loads():
    mo = ROOT / "ai_tutor" / "translations" / "es" / "LC_MESSAGES" / "text.mo"
    assert mo.is_file()
    assert catalog("es").gettext("Clear conversation") == "Borrar conversación"
    assert catalog("fr").gettext("Clear conversation") == "Clear conversation"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (r"Area \(a^2 < b_1\) here", r'<span class="ai-tutor-math">\(a^2 &lt; b_1\)</span>'),
        (r"so $x_1^2$ grows", r'<span class="ai-tutor-math">\(x_1^2\)</span>'),
        ("$$\n\\frac{1}{2}\n$$", r'<div class="ai-tutor-math">\[\frac{1}{2}\]</div>'),
        (r"\[\sum_i a_i\]", r'<div class="ai-tutor-math">\[\sum_i a_i\]</div>'),
    ],
)
def test_math_keeps_its_backslashes_for_mathjax(reply, expected):
    assert expected in render_markdown(reply)


def test_prices_stay_text_and_no_other_class_passes():
    html = render_markdown('It costs $5 and $10. <span class="ai-tutor-math x">z</span>')
    assert "$5 and $10" in html and "<span" not in html
    fenced = render_markdown("```python\nprint(1)\n```")
    assert fenced == "<pre><code>print(1)\n</code></pre>\n"  # the fence's class is dropped


def test_the_disclosure_names_the_provider_and_the_operators_link():
    html = (
        make_block(
            {"provider": "anthropic", "api_key": "k", "disclosure_url": "https://example.org/ai"}
        )
        .student_view({})
        .content
    )
    assert "your questions are sent to Anthropic" in html
    assert 'href="https://example.org/ai"' in html

    offline = make_block().student_view({}).content
    assert "your questions stay on this site" in offline and "example.org" not in offline


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"allowed_models": "gpt-4o-mini"}, "allowed_models"),
        ({"allowed_models": [1]}, "allowed_models"),
        ({"disclosure_url": "javascript:alert(1)"}, "disclosure_url"),
    ],
)
def test_unusable_new_settings_are_refused(settings, key):
    from ai_tutor.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=key):
        load_config(settings)


def test_new_settings_defaults():
    from ai_tutor.config import load_config

    config = load_config({"allowed_models": [" gpt-4o-mini ", ""], "share_question_text": 1})
    assert config.allowed_models == ("gpt-4o-mini",) and config.share_question_text is True
    assert load_config({}).disclosure_url == "" and load_config({}).allowed_models == ()


@pytest.mark.skipif(shutil.which("node") is None, reason="no node")
def test_math_is_typeset_by_the_pages_own_mathjax_only():
    script = (ROOT / "static" / "ai_tutor.js").read_text()
    program = (
        script
        + """
        var calls = [];
        var withMath = {querySelector: function () { return {}; }};
        var withoutMath = {querySelector: function () { return null; }};
        var window = globalThis;
        aiTutorTypeset(withMath);  // no MathJax on the page: nothing happens, nothing loads
        window.MathJax = {typesetPromise: function (nodes) {
            calls.push(["v3", nodes.length]); return Promise.resolve(); }};
        aiTutorTypeset(withMath);
        aiTutorTypeset(withoutMath);
        window.MathJax = {Hub: {Queue: function (job) { calls.push(["v2", job[0]]); }}};
        aiTutorTypeset(withMath);
        console.log(JSON.stringify(calls));
    """
    )
    out = subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [["v3", 1], ["v2", "Typeset"]]
    assert 'createElement("script")' not in script  # never a MathJax of its own
