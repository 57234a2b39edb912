"""The default provider: no network at all. It writes a step-by-step description from the payload's
UI event trace (part "events") and, when there are no events, from the keyframes' text layer (part
"text-layer"). Everything it reads is already sanitized, so everything it writes is too."""

from __future__ import annotations

import json
from typing import Any

from veil.gateway.base import Provider, ProviderAnswer, ProviderError, RequestOptions
from veil.verify.payload import SanitizedPayload

EVENTS_ROLE = "events"
TEXT_LAYER_ROLE = "text-layer"
_MAX_NEW_LINES = 3

_VERBS = {
    "type": "typed {value} into '{target}'",
    "click": "clicked '{target}'",
    "select": "selected '{target}'",
    "scroll": "scrolled",
    "switch": "switched to '{window}'",
    "navigate": "went to '{target}'",
    "copy": "copied from '{target}'",
    "paste": "pasted into '{target}'",
}


def _records(payload: SanitizedPayload, role: str) -> list[dict[str, Any]]:
    for part in payload.text_parts:
        if part.role == role:
            try:
                rows = [json.loads(line) for line in part.text.splitlines() if line.strip()]
            except json.JSONDecodeError as exc:
                raise ProviderError(f"local provider: part '{role}' is not JSON lines") from exc
            return [r for r in rows if isinstance(r, dict)]
    return []


def _clock(seconds: float) -> str:
    whole = max(int(seconds), 0)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def describe_events(events: list[dict[str, Any]]) -> list[str]:
    steps = []
    for event in events:
        template = _VERBS.get(str(event.get("action", "")), "did '{action}' on '{target}'")
        fields = {k: str(event.get(k, "") or "") for k in ("action", "target", "value", "window")}
        fields["value"] = fields["value"] or "text"
        where = fields["window"] or str(event.get("app", "") or "the screen")
        steps.append(f"[{_clock(float(event.get('t', 0.0)))}] in '{where}': {template.format(**fields)}")
    return steps


def describe_frames(frames: list[dict[str, Any]]) -> list[str]:
    steps: list[str] = []
    previous: set[str] = set()
    for frame in frames:
        lines = [str(t) for t in frame.get("lines", [])]
        new = [t for t in lines if t not in previous]
        previous = set(lines)
        where = str(frame.get("window") or "the screen")
        shown = "; ".join(f"'{t}'" for t in new[:_MAX_NEW_LINES]) or "no new text"
        more = f" (+{len(new) - _MAX_NEW_LINES} more)" if len(new) > _MAX_NEW_LINES else ""
        steps.append(f"[{_clock(float(frame.get('t', 0.0)))}] in '{where}': the screen showed {shown}{more}")
    return steps


class LocalProvider(Provider):
    name = "local"
    remote = False

    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer:
        steps = describe_events(_records(payload, EVENTS_ROLE))
        if not steps:
            steps = describe_frames(_records(payload, TEXT_LAYER_ROLE))
        if not steps:
            steps = ["no activity was visible in the recording"]
        text = "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))
        return ProviderAnswer(self.name, options.model, text, payload.sha256)
