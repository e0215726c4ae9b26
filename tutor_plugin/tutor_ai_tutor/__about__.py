"""Version of the plugin. It matches the XBlock release that the plugin installs by default."""

__version__ = "0.1.0"
