from typing import Any


def update_module_store_settings(module_store_setting: Any, **kwargs: Any) -> None:
    """Stands in for edx-platform's; the Tutor settings only call it."""
