"""Gemini through the google-genai SDK, pointed at the destination's base URL. The SDK's retries
are off (`attempts=1`): every attempt must be a ledger intent of its own (see base)."""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
from google import genai
from google.genai import errors, types

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

API_VERSION = "v1beta"
_TIMEOUTS = (httpx.TimeoutException, httpx2.TimeoutException, TimeoutError)
_TRANSPORT = (httpx.TransportError, httpx2.TransportError, ConnectionError)


def gemini_parts(payload: SanitizedPayload) -> list[Any]:
    parts: list[Any] = []
    for part in payload.parts:
        if isinstance(part, TextPart):
            parts.append(types.Part.from_text(text=wire_text(part)))
        else:
            parts.append(types.Part.from_bytes(data=part.png, mime_type="image/png"))
    return parts


class GeminiProvider(Provider):
    name = "gemini"

    def __init__(self, destination: str, base_url: str, api_key: str, timeout_seconds: float) -> None:
        self.destination = destination
        self._timeout_ms = int(timeout_seconds * 1000)
        self._client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                api_version=API_VERSION,  # fixed, so an SDK upgrade cannot move the endpoint
                timeout=self._timeout_ms,  # milliseconds in this SDK
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer:
        config = types.GenerateContentConfig(
            max_output_tokens=options.max_output_tokens,
            http_options=types.HttpOptions(
                timeout=int(options.timeout_seconds * 1000),
                headers={PAYLOAD_HEADER: payload.sha256},
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )
        try:
            response = self._client.models.generate_content(
                model=options.model,
                contents=[types.Content(role="user", parts=gemini_parts(payload))],
                config=config,
            )
        except errors.APIError as exc:
            raise ProviderRejected(
                f"destination '{self.destination}': HTTP {exc.code}", int(exc.code)
            ) from exc
        except _TIMEOUTS as exc:
            raise ProviderTimeout(f"destination '{self.destination}': no answer in time") from exc
        except _TRANSPORT as exc:
            raise ProviderUnreachable(
                f"destination '{self.destination}': connection failed ({type(exc).__name__})"
            ) from exc
        text = response.text
        if not isinstance(text, str):
            raise ProviderError(f"destination '{self.destination}': the answer has no text")
        return ProviderAnswer(self.name, str(response.model_version or options.model), text, payload.sha256)

    def close(self) -> None:
        self._client.close()
