"""Templates and static files shipped inside the package (`ai_tutor.templates`, `ai_tutor.static`).

They are read through `importlib.resources` on those subpackages, which works from a wheel
and from setuptools' editable installs alike.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any


@functools.lru_cache(maxsize=64)
def template_text(name: str) -> str:
    return resources.files("ai_tutor.templates").joinpath(name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=64)
def static_text(name: str) -> str:
    return resources.files("ai_tutor.static").joinpath(name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=64)
def _compiled(name: str) -> Any:
    # Compiled once per process: compiling costs more than rendering, page after page.
    from django.template import Engine, Template
    from django.template.backends.django import get_installed_libraries

    libraries = {**get_installed_libraries(), "i18n": "xblock.utils.templatetags.i18n"}
    return Template(template_text(name), engine=Engine(libraries=libraries))


def render_html(name: str, context: dict[str, Any], translations: Any = None) -> str:
    """Render a Django template of the package (autoescaping on).

    `{% load i18n %}` loads XBlock's proxy of Django's tags, which look each string up in
    `translations` (the block's catalog) before Django's own catalogs.
    """
    from django.template import Context

    return _compiled(name).render(Context({**context, "_i18n_service": translations}))
