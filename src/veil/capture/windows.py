"""Window metadata and the confidential-window gate.

A recording may come with a sidecar of timestamped window events next to it, named
`<video>.windows.jsonl` (e.g. `rec.mp4.windows.jsonl`), one JSON object per line:

    {"t": 12.5, "app": "chrome", "title": "Settlement console", "url": "https://pay.example/settle",
     "bounds": [0, 0, 1920, 1080], "user": "u-3f2a"}

Each event names the foreground window from time `t` (seconds from the start of the recording)
until the next event. `bounds` (x, y, w, h in frame pixels) and `user` are optional. These raw
values stay in memory: the text layer and everything made from it get them cleaned by the
detectors, the user as a keyed pseudonym (`veil.capture.metadata`). A window matching a policy
deny rule is masked: its bounds when given, else the frame. Without a sidecar, each frame's OCR
lines are matched against the rules' `title` and `url` patterns (title bars and address bars are
on screen), and a match masks the whole frame.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veil.exceptions import InputError
from veil.models import Box
from veil.options import WindowRule


@dataclass(frozen=True, slots=True)
class WindowEvent:
    t: float
    app: str = ""
    title: str = ""
    url: str = ""
    bounds: Box | None = None
    user: str | None = None

    def __repr__(self) -> str:  # the title, URL and user may name people: never in a log
        return f"WindowEvent(t={self.t}, bounds={self.bounds}, chars={len(self.title) + len(self.url)})"


def sidecar_path(source: Path) -> Path:
    return source.with_name(source.name + ".windows.jsonl")


def _event(obj: object, number: int, path: Path) -> WindowEvent:
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), int | float):
        raise InputError(f"{path.name} line {number}: expected an object with a numeric 't'")
    bounds = obj.get("bounds")
    box = None
    if bounds is not None:
        if not (isinstance(bounds, list) and len(bounds) == 4 and all(isinstance(v, int) for v in bounds)):
            raise InputError(f"{path.name} line {number}: 'bounds' must be [x, y, w, h] integers")
        box = Box(*bounds)
    fields = {k: obj.get(k) or "" for k in ("app", "title", "url")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise InputError(f"{path.name} line {number}: app, title and url must be strings")
    user = obj.get("user")
    return WindowEvent(float(obj["t"]), bounds=box, user=str(user) if user else None, **fields)


class WindowTimeline:
    """The window in the foreground at any time of a recording."""

    def __init__(self, events: Sequence[WindowEvent]) -> None:
        self.events = sorted(events, key=lambda e: e.t)
        self._times = [e.t for e in self.events]

    @classmethod
    def load(cls, source: Path) -> WindowTimeline:
        path = sidecar_path(source)
        if not path.exists():
            return cls([])
        events = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"window sidecar {path.name} is unreadable: {type(exc).__name__}") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path.name} line {number}: not JSON") from exc
            events.append(_event(obj, number, path))
        return cls(events)

    def at(self, seconds: float) -> WindowEvent | None:
        i = bisect.bisect_right(self._times, seconds) - 1
        return self.events[i] if i >= 0 else None


class WindowGate:
    """Matches windows (metadata) and screen text (OCR) against the policy's deny rules."""

    def __init__(self, rules: Sequence[WindowRule]) -> None:
        self.rules = [
            tuple(re.compile(p, re.IGNORECASE) if p else None for p in (r.app, r.title, r.url)) for r in rules
        ]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def denies(self, window: WindowEvent) -> bool:
        values = (window.app, window.title, window.url)
        return any(
            all(p is None or p.search(v) for p, v in zip(rule, values, strict=True)) for rule in self.rules
        )

    def denies_text(self, texts: Sequence[str]) -> bool:
        """A title or URL rule matching a line on screen (app-only rules need metadata)."""
        for _, title, url in self.rules:
            for pattern in (title, url):
                if pattern is not None and any(pattern.search(t) for t in texts):
                    return True
        return False
