"""LLM providers behind one small interface: `complete(TutorRequest) -> Completion`."""

from __future__ import annotations

from ai_tutor.config import TutorConfig
from ai_tutor.providers.base import (
    Citation,
    Completion,
    Message,
    Provider,
    ProviderError,
    TutorRequest,
)
from ai_tutor.providers.offline import OfflineProvider

__all__ = [
    "Citation",
    "Completion",
    "Message",
    "Provider",
    "ProviderError",
    "TutorRequest",
    "OfflineProvider",
    "provider_for",
]


def provider_for(config: TutorConfig) -> Provider:
    """The provider the operator configured. Raises ProviderError("unavailable") when its
    SDK is missing."""
    if config.provider == "anthropic":
        from ai_tutor.providers.anthropic_messages import AnthropicProvider

        return AnthropicProvider(config)
    if config.provider == "openai":
        from ai_tutor.providers.openai_chat import OpenAIProvider

        return OpenAIProvider(config)
    return OfflineProvider()
