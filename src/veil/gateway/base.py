"""The provider interface (after httpx's transport ABC): one `send` taking a sanitized payload.

    ProviderError (VeilError, exit 1, HTTP 502)   the destination did not give an answer
    ├── ProviderTimeout       no answer in time; the request may have reached the destination
    ├── ProviderUnreachable   the connection failed; nothing reached the destination
    └── ProviderRejected      the destination answered with an error status (`status`)

`retryable` says whether the gateway may try again (within the policy's `retries`); each attempt is
its own ledger intent, so a retry is never an unlogged second send. Messages name the destination,
the error class and the status, never payload content.

On the wire every text part is sent as one text block `"[<role>]\\n<text>"` and every image part as
an inline PNG, in payload order (`wire_text`, `parse_wire_text`), so whoever received a request can
rebuild the canonical body and check the hash the ledger recorded.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from veil.exceptions import EgressFailed
from veil.verify.payload import SanitizedPayload, TextPart

PAYLOAD_HEADER = "X-Veil-Payload-Sha256"


class ProviderError(EgressFailed):
    retryable = False


class ProviderTimeout(ProviderError):
    http_status = 504
    retryable = True


class ProviderUnreachable(ProviderError):
    retryable = True


class ProviderRejected(ProviderError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = status == 429 or status >= 500


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-request settings taken from the destination policy."""

    model: str
    timeout_seconds: float = 60.0
    max_output_tokens: int = 2048


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """What a provider returned: the text (a step-by-step description) and who produced it.
    `replayed` is True when the gateway returned a stored answer instead of sending again."""

    provider: str
    model: str
    text: str
    payload_sha256: str
    destination: str = ""
    intent_id: str = ""
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "text": self.text,
            "payload_sha256": self.payload_sha256,
            "destination": self.destination,
            "intent_id": self.intent_id,
            "replayed": self.replayed,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> ProviderAnswer:
        return ProviderAnswer(
            provider=str(data["provider"]),
            model=str(data["model"]),
            text=str(data["text"]),
            payload_sha256=str(data["payload_sha256"]),
            destination=str(data.get("destination", "")),
            intent_id=str(data.get("intent_id", "")),
            replayed=bool(data.get("replayed", False)),
        )

    def sha256(self) -> str:
        """Hash of the answer's canonical JSON (without the `replayed` flag)."""
        data = self.to_json()
        data.pop("replayed")
        body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Provider(ABC):
    """Sends a SanitizedPayload to one destination and returns its answer.

    Implementations make exactly one request per call (their SDK's own retries are off: a retry the
    ledger does not see would be an unlogged send) and raise a ProviderError subclass on failure.
    """

    name: str = "abstract"
    #: False for providers that never use the network (no ledger entry, no legal terms needed).
    remote: bool = True

    @abstractmethod
    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer: ...

    def close(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing
        """Release connections."""


def wire_text(part: TextPart) -> str:
    return f"[{part.role}]\n{part.text}"


def parse_wire_text(block: str) -> TextPart:
    """Inverse of `wire_text`; ValueError for a block that is not one."""
    head, sep, text = block.partition("\n")
    if not sep or not (head.startswith("[") and head.endswith("]")):
        raise ValueError("not a wire text block")
    return TextPart(head[1:-1], text)
