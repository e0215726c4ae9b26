"""Workbench scenarios: each unit of an OLX course folder, with a tutor beside its content.

The course is read at run time from `AI_TUTOR_COURSE_OLX` (default: the Open edX demo course
in `../shared/demo-course/course`, when it is there). A scenario of our own text is always
listed first, so a checkout without the demo course still shows a working tutor.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

log = logging.getLogger(__name__)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False)
SHOWN_TYPES = ("html", "problem", "video")

OWN_SCENARIO = """
<vertical display_name="Photosynthesis">
  <html display_name="How plants make food"><![CDATA[
    <p>Photosynthesis is the process by which green plants use light energy to turn
    carbon dioxide and water into glucose and oxygen. It happens in the chloroplasts,
    which hold the green pigment chlorophyll.</p>
    <p>The light-dependent reactions take place in the thylakoid membranes and make ATP
    and NADPH. The Calvin cycle, in the stroma, uses them to fix carbon dioxide into sugar.</p>
  ]]></html>
  <problem display_name="Check your understanding">
    <multiplechoiceresponse>
      <label>Where does the Calvin cycle take place?</label>
      <choicegroup type="MultipleChoice">
        <choice correct="false">In the thylakoid membranes</choice>
        <choice correct="true">In the stroma</choice>
        <choice correct="false">In the mitochondria</choice>
      </choicegroup>
      <solution><p>The Calvin cycle runs in the stroma of the chloroplast.</p></solution>
    </multiplechoiceresponse>
  </problem>
  <ai_tutor display_name="AI Tutor"/>
</vertical>
"""


@dataclasses.dataclass(frozen=True)
class Unit:
    title: str
    xml: str


def default_course_folder() -> Path | None:
    configured = os.environ.get("AI_TUTOR_COURSE_OLX")
    if configured:
        return Path(configured)
    candidate = Path.cwd().parent / "shared" / "demo-course" / "course"
    return candidate if (candidate / "course.xml").is_file() else None


def tutor_scenarios() -> list[tuple[str, str]]:
    """(description, xml) pairs: our own unit first, then every unit of the course."""
    scenarios = [("AI Tutor: Photosynthesis (built-in example)", OWN_SCENARIO)]
    folder = default_course_folder()
    if folder is None:
        return scenarios
    try:
        units = course_units(folder)
    except (OSError, etree.XMLSyntaxError) as error:
        log.warning("Cannot read the course at %s: %s", folder, error)
        return scenarios
    for number, unit in enumerate(units, start=1):
        scenarios.append((f"{number:02d}. {unit.title}", unit.xml))
    return scenarios


def _load(folder: Path, kind: str, url_name: str) -> etree._Element:
    return etree.parse(str(folder / kind / f"{url_name}.xml"), _PARSER).getroot()


def _resolve(folder: Path, node: etree._Element) -> etree._Element:
    """The full definition of a child: pointer tags name a file of their own."""
    url_name = node.get("url_name")
    if url_name and len(node) == 0 and (folder / node.tag / f"{url_name}.xml").is_file():
        return _load(folder, node.tag, url_name)
    return node


def course_units(folder: Path) -> list[Unit]:
    """Every unit (vertical) of the OLX course in `folder`, in course order."""
    root = etree.parse(str(folder / "course.xml"), _PARSER).getroot()
    course = _resolve(folder, root)
    units: list[Unit] = []
    for chapter in course.iterchildren("chapter"):
        chapter = _resolve(folder, chapter)
        for sequential in chapter.iterchildren("sequential"):
            sequential = _resolve(folder, sequential)
            for vertical in sequential.iterchildren("vertical"):
                vertical = _resolve(folder, vertical)
                title = " / ".join(
                    part.get("display_name", "").strip() or "Untitled"
                    for part in (chapter, sequential, vertical)
                )
                units.append(Unit(title, unit_xml(folder, vertical)))
    return units


def unit_xml(folder: Path, vertical: etree._Element) -> str:
    """Scenario XML for one unit: its html, problem and video components, then a tutor."""
    children = []
    for child in vertical:
        if not isinstance(child.tag, str) or child.tag not in SHOWN_TYPES:
            continue
        try:
            children.append(_component_xml(folder, _resolve(folder, child)))
        except (OSError, etree.XMLSyntaxError, ValueError) as error:
            log.warning("Skipping a %s component: %s", child.tag, error)
    children.append('<ai_tutor display_name="AI Tutor"/>')
    name = quoteattr(vertical.get("display_name", "Unit"))
    return f"<vertical display_name={name}>\n" + "\n".join(children) + "\n</vertical>"


def _component_xml(folder: Path, node: etree._Element) -> str:
    name = quoteattr(node.get("display_name", node.tag.title()))
    if node.tag == "html":
        filename = node.get("filename")
        if filename:
            body = (folder / "html" / f"{filename}.html").read_text(encoding="utf-8")
        else:
            body = "".join(etree.tostring(part, encoding="unicode") for part in node)
        return f"<html display_name={name}><![CDATA[{body.replace(']]>', ']]&gt;')}]]></html>"
    if node.tag == "problem":
        return etree.tostring(node, encoding="unicode")
    return _video_xml(folder, node, name)


def _video_xml(folder: Path, node: etree._Element, name: str) -> str:
    transcripts = json.loads(node.get("transcripts") or "{}")
    if not isinstance(transcripts, dict):
        raise ValueError("transcripts attribute is not a mapping")
    texts = []
    for language, filename in sorted(transcripts.items()):
        path = folder / "static" / Path(str(filename)).name
        if path.is_file():
            body = escape(path.read_text(encoding="utf-8", errors="replace"))
            texts.append(
                f"<transcript_text language={quoteattr(language)}>{body}</transcript_text>"
            )
    return (
        f"<video display_name={name} transcripts={quoteattr(json.dumps(transcripts))}>"
        + "".join(texts)
        + "</video>"
    )
