"""Built-in providers: `local` (no network), `gemini`, `openai` (any OpenAI-compatible server), and
`fake`/`failing` twins for tests. `make_provider` builds one from a destination policy; the SDKs are
imported only when their provider is used."""

from __future__ import annotations

import os
from collections.abc import Mapping

from veil.exceptions import PolicyError
from veil.gateway.base import Provider
from veil.gateway.policy import Destination

# Ollama and vLLM accept any key; the SDK insists on one.
_PLACEHOLDER_KEY = "unused"


def api_key(destination: Destination, env: Mapping[str, str] | None = None) -> str:
    """The key from the environment variable the policy names. The key is never logged."""
    environ = os.environ if env is None else env
    if destination.api_key_env is None:
        if destination.provider == "gemini":
            raise PolicyError(f"destination '{destination.name}': gemini needs 'api_key_env'")
        return _PLACEHOLDER_KEY
    value = environ.get(destination.api_key_env, "")
    if not value:
        raise PolicyError(
            f"destination '{destination.name}': the environment variable {destination.api_key_env} "
            "(named in 'api_key_env') is not set"
        )
    return value


def make_provider(destination: Destination, env: Mapping[str, str] | None = None) -> Provider:
    if destination.provider == "local":
        from veil.gateway.providers.local import LocalProvider

        return LocalProvider()
    if destination.provider == "fake":
        from veil.gateway.providers.fake import FakeProvider

        return FakeProvider()
    if destination.base_url is None:
        raise PolicyError(f"destination '{destination.name}': 'base_url' is missing")
    key = api_key(destination, env)
    if destination.provider == "openai":
        from veil.gateway.providers.openai_compat import OpenAIProvider

        return OpenAIProvider(destination.name, destination.base_url, key, destination.timeout)
    from veil.gateway.providers.gemini import GeminiProvider

    return GeminiProvider(destination.name, destination.base_url, key, destination.timeout)
