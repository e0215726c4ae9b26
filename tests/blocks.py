"""Building an ai_tutor block in XBlock's own test runtime, with fake services (no database)."""

from __future__ import annotations

import json
from typing import Any

from webob import Request
from xblock.field_data import DictFieldData
from xblock.fields import ScopeIds
from xblock.reference.user_service import XBlockUser
from xblock.test.tools import TestRuntime

from ai_tutor.block import AITutorBlock


class FakeUserService:
    """Shaped like the LMS user service: the current user with `edx-platform.*` attributes."""

    def __init__(self, opt_attrs: dict[str, Any]) -> None:
        self.opt_attrs = opt_attrs

    def get_current_user(self) -> XBlockUser:
        user = XBlockUser(is_current_user=True)
        user.opt_attrs.update(self.opt_attrs)
        return user


class FakeSettingsService:
    """Shaped like the LMS settings service: `get_settings_bucket(block, default)`."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def get_settings_bucket(self, block: Any, default: Any = None) -> Any:
        return self.settings.get(block.block_settings_key, default)


def make_block(settings: dict[str, Any] | None = None, **fields: Any) -> AITutorBlock:
    runtime = TestRuntime(
        services={
            "field-data": DictFieldData({}),
            "settings": FakeSettingsService({"ai_tutor": settings or {}}),
        }
    )
    block = runtime.construct_xblock_from_class(
        AITutorBlock, ScopeIds("student_1", "ai_tutor", "def-1", "usage-1")
    )
    for name, value in fields.items():
        setattr(block, name, value)
    return block


def call(
    block: AITutorBlock,
    handler: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    method: str = "POST",
):
    """POST to a handler; returns (status, parsed JSON body, response)."""
    payload = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    request = Request.blank(f"/{handler}", method=method, body=payload)
    request.content_type = "application/json"
    response = block.handle(handler, request)
    return response.status_code, json.loads(response.body), response


def provider_settings(server: Any, provider: str = "openai", **extra: Any) -> dict[str, Any]:
    """Settings that point the block at a loopback server of `provider`'s wire format."""
    return {
        "provider": provider,
        "api_key": "k",
        "base_url": server.url if provider == "anthropic" else server.url + "/v1",
        "max_retries": 0,
        **extra,
    }
