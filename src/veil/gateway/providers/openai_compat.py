"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama, a company proxy), through
the openai SDK pointed at the destination's base URL. The SDK's own retries are off (see base)."""

from __future__ import annotations

import base64
from typing import Any

import openai as sdk

from veil.gateway.base import (
    PAYLOAD_HEADER,
    Provider,
    ProviderAnswer,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnreachable,
    RequestOptions,
    wire_text,
)
from veil.verify.payload import SanitizedPayload, TextPart


def openai_content(payload: SanitizedPayload) -> list[dict[str, Any]]:
    """The user message's content parts, in payload order."""
    content: list[dict[str, Any]] = []
    for part in payload.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": wire_text(part)})
        else:
            data = base64.b64encode(part.png).decode("ascii")
            content.append({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}})
    return content


class OpenAIProvider(Provider):
    name = "openai"

    def __init__(self, destination: str, base_url: str, api_key: str, timeout_seconds: float) -> None:
        self.destination = destination
        self._client = sdk.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_seconds, max_retries=0)

    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer:
        try:
            response = self._client.chat.completions.create(
                model=options.model,
                messages=[{"role": "user", "content": openai_content(payload)}],  # type: ignore[list-item,misc]
                max_tokens=options.max_output_tokens,
                timeout=options.timeout_seconds,
                extra_headers={PAYLOAD_HEADER: payload.sha256},
            )
        except sdk.APITimeoutError as exc:
            raise ProviderTimeout(f"destination '{self.destination}': no answer in time") from exc
        except sdk.APIConnectionError as exc:
            raise ProviderUnreachable(
                f"destination '{self.destination}': connection failed ({type(exc.__cause__).__name__})"
            ) from exc
        except sdk.APIStatusError as exc:
            raise ProviderRejected(
                f"destination '{self.destination}': HTTP {exc.status_code}", exc.status_code
            ) from exc
        except sdk.OpenAIError as exc:
            raise ProviderError(f"destination '{self.destination}': {type(exc).__name__}") from exc
        choices = getattr(response, "choices", None) or []
        text = choices[0].message.content if choices else None
        if not isinstance(text, str):
            raise ProviderError(f"destination '{self.destination}': the answer has no text")
        return ProviderAnswer(self.name, str(response.model or options.model), text, payload.sha256)

    def close(self) -> None:
        self._client.close()
