"""The block's message catalogs: `<lang>/LC_MESSAGES/text.po|mo` (domain `text`), where the
LMS's i18n service also looks, and a JS catalog per language under the package's static
files (`translations/<lang>/text.js`, defining `window.AITutorI18N`). `make translations`
extracts the strings and compiles both.
"""

from __future__ import annotations

import functools
import gettext
from importlib import resources
from pathlib import Path

DOMAIN = "text"
LOCALE_DIR = Path(__file__).resolve().parent


def N_(text: str) -> str:  # noqa: N802 - the customary name of gettext_noop
    """Mark `text` for extraction; it is translated where it is shown."""
    return text


def _candidates(language: str) -> list[str]:
    """`es-419` -> [`es_419`, `es`]: the catalog folders to try, most specific first."""
    language = (language or "").replace("-", "_")
    parts = language.split("_")
    if len(parts) > 1:
        language = parts[0].lower() + "_" + parts[1].upper()
    base = parts[0].lower()
    return [language, base] if language != base else [base]


@functools.lru_cache(maxsize=16)
def catalog(language: str) -> gettext.NullTranslations:
    """The Python catalog for `language` (a NullTranslations when there is none)."""
    return gettext.translation(
        DOMAIN, localedir=str(LOCALE_DIR), languages=_candidates(language), fallback=True
    )


@functools.lru_cache(maxsize=16)
def js_catalog_name(language: str) -> str:
    """The static file name of the JS catalog for `language`, or "" when none ships."""
    folder = resources.files("ai_tutor.static").joinpath("translations")
    for candidate in _candidates(language):
        if folder.joinpath(candidate, "text.js").is_file():
            return f"translations/{candidate}/text.js"
    return ""
