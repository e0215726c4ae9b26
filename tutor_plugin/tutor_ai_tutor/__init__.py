"""Tutor plugin that installs and configures the ai_tutor XBlock (plugin name `ai-tutor`)."""

from .__about__ import __version__

__all__ = ["__version__"]
