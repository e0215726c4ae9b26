"""Packaging of the ai_tutor XBlock (distribution `xblock-ai-tutor`)."""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "ai_tutor" / "__init__.py").read_text(), re.M
).group(1)

ANTHROPIC = ["anthropic>=0.40"]
OPENAI = ["openai>=1.40"]

setup(
    name="xblock-ai-tutor",
    version=VERSION,
    description="An AI tutor XBlock for Open edX: learners chat with a tutor that knows the unit.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="AGPL-3.0",
    python_requires=">=3.11",
    # templates/ and static/ live at the top of the checkout and ship as subpackages of
    # ai_tutor, read through importlib.resources; this works from wheels and editable installs.
    packages=[
        "ai_tutor",
        "ai_tutor.context",
        "ai_tutor.identity",
        "ai_tutor.providers",
        "ai_tutor.workbench",
        "ai_tutor.translations",
        "ai_tutor.templates",
        "ai_tutor.static",
    ],
    package_dir={
        "ai_tutor": "ai_tutor",
        "ai_tutor.templates": "templates",
        "ai_tutor.static": "static",
    },
    package_data={
        "ai_tutor.templates": ["*.html", "*.txt"],
        "ai_tutor.static": ["*.css", "*.js", "translations/*/*.js"],
        "ai_tutor.translations": ["*/LC_MESSAGES/*"],
    },
    install_requires=[
        "XBlock[django]>=5.3",
        "requests>=2.28",
        "PyJWT[crypto]>=2.8",
        "markdown-it-py>=3.0",
        "nh3>=0.2.14",
        "lxml>=4.9",
        "rank-bm25>=0.2.2",
        "numpy>=1.24",
        "mdit-py-plugins>=0.4",
    ],
    extras_require={
        "anthropic": ANTHROPIC,
        "openai": OPENAI,
        "all": ANTHROPIC + OPENAI,
        "dev": [
            "xblock-sdk",
            "pytest>=7",
            "hypothesis>=6",
            "ruff>=0.6",
            "build",
            "playwright>=1.45",
        ],
    },
    entry_points={"xblock.v1": ["ai_tutor = ai_tutor.block:AITutorBlock"]},
    classifiers=[
        "Framework :: Django",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "License :: OSI Approved :: GNU Affero General Public License v3",
    ],
)
