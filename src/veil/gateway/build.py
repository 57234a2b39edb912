"""Building the `veil analyze` request: keyframes, text parts, and the cleared payload.

Payload parts, in order: "instruction" (the prompt), "keyframes" (which frame and time each image
is), "text-layer" (the sanitized text of every frame whose text changed), "events" (UI events
derived from the text layer), then one image part per keyframe, read back from the redacted output.
A keyframe the verifier does not clear is dropped, and counted; any text-part finding stops the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from veil.detect.analyzer import replace_findings
from veil.exceptions import EgressBlocked
from veil.models import Pixels
from veil.verify.base import Verdict, Verifier
from veil.verify.payload import (
    ImagePart,
    PayloadPart,
    SanitizedPayload,
    TextAnalyzer,
    TextPart,
    clear_payload,
    encode_png,
)

if TYPE_CHECKING:
    from veil.mining.textlayer import TextFrame
    from veil.options import Policy

INSTRUCTION = (
    "These are sanitized keyframes of a screen recording of someone at work, with the text read on "
    "each frame and the user-interface events derived from it. Personal data was removed: black "
    "boxes in images and placeholders such as <phone> or <name> in text. Describe step by step what "
    "the person did, as a numbered list, one action per line, with the time of each step. Do not "
    "guess removed values."
)
MAX_LAYER_RECORDS = 400
_WINDOW_CHANGE = 1000  # a window change always makes a keyframe


# --- keyframes -------------------------------------------------------------------------------------


def change_score(prev: TextFrame | None, frame: TextFrame) -> int:
    """How much the visible text changed: lines that appeared or went, plus dirty regions."""
    if prev is None:
        return _WINDOW_CHANGE + len(frame.lines)
    if prev.window != frame.window:
        return _WINDOW_CHANGE
    before, after = {ln.text for ln in prev.lines}, {ln.text for ln in frame.lines}
    return len(before ^ after) + len(frame.changed)


def pick_keyframes(frames: Sequence[TextFrame], cap: int, skip: Iterable[int] = ()) -> list[int]:
    """Up to `cap` frame numbers where the text changed most (the first frame first), in time order;
    frames in `skip` (masked whole: all black) are never picked."""
    excluded = set(skip)
    scored: list[tuple[int, int]] = []
    prev: TextFrame | None = None
    for frame in frames:
        score = change_score(prev, frame)
        prev = frame
        if score > 0 and frame.frame not in excluded:
            scored.append((score, frame.frame))
    best = sorted(scored, key=lambda sf: (-sf[0], sf[1]))[: max(cap, 0)]
    return sorted(f for _, f in best)


# --- payload parts ---------------------------------------------------------------------------------


def _seconds(frame: TextFrame, start: TextFrame) -> float:
    return round((frame.time - start.time).total_seconds(), 3)


def _window(frame: TextFrame) -> str:
    if frame.window is None:
        return ""
    return frame.window.title or frame.window.app


def text_parts(
    frames: Sequence[TextFrame], keyframes: Sequence[int], analyzer: TextAnalyzer | None = None
) -> list[TextPart]:
    """The text parts of the payload. With an `analyzer`, any string it still flags becomes a
    `<type>` placeholder, and a record that is flagged as a whole is left out (both fail closed:
    they only remove text); `clear_payload` then re-scans what is left."""
    from veil.mining.textlayer import derive_events

    if not frames:
        return [TextPart("instruction", INSTRUCTION)]
    start = frames[0]
    times = {f.frame: _seconds(f, start) for f in frames}
    shown = [{"image": n, "frame": k, "t": times.get(k, 0.0)} for n, k in enumerate(keyframes, start=1)]
    layer: list[dict[str, object]] = []
    previous: list[str] | None = None
    for f in frames:
        lines = [ln.text for ln in f.lines]
        if lines != previous and len(layer) < MAX_LAYER_RECORDS:
            layer.append({"frame": f.frame, "t": times[f.frame], "window": _window(f), "lines": lines})
        previous = lines
    events = [
        {
            "t": round((e.timestamp - start.time).total_seconds(), 3),
            "action": str(e.action),
            "target": e.target,
            "value": e.value,
            "app": e.app,
            "window": e.window,
        }
        for e in derive_events(frames)
    ]
    return [
        TextPart("instruction", INSTRUCTION),
        TextPart("keyframes", _jsonl(shown, analyzer)),
        TextPart("text-layer", _jsonl(layer, analyzer)),
        TextPart("events", _jsonl(events, analyzer)),
    ]


def _scrubbed(value: object, analyzer: TextAnalyzer) -> object:
    if isinstance(value, str):
        return replace_findings(value, analyzer)
    if isinstance(value, list):
        return [_scrubbed(v, analyzer) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, analyzer) for k, v in value.items()}
    return value


def _jsonl(rows: Iterable[object], analyzer: TextAnalyzer | None = None) -> str:
    out: list[str] = []
    previous = ""
    for row in rows:
        # ensure_ascii=False: escaped Hangul would hide values from the detectors' re-scan.
        line = json.dumps(
            row if analyzer is None else _scrubbed(row, analyzer), ensure_ascii=False, sort_keys=True
        )
        if analyzer is not None and (analyzer.analyze(line) or analyzer.analyze(line, previous)):
            continue
        out.append(line)
        previous = line
    return "\n".join(out)


def to_png(pixels: Pixels) -> bytes:
    """The canonical PNG of the pixels, as `clear_payload` re-encodes every image."""
    return encode_png(pixels)


def read_frames(output: Path, policy: Policy, wanted: Iterable[int]) -> dict[int, bytes]:
    """PNG bytes of the wanted frames of the redacted output, read back as they were written."""
    from veil.capture.open import open_source

    want = set(wanted)
    found: dict[int, bytes] = {}
    for frame in open_source(output, policy.video).frames():
        if frame.index in want:
            found[frame.index] = to_png(frame.pixels)
        if len(found) == len(want):
            break
    return found


class CachingVerifier(Verifier):
    """Remembers verdicts by pixel hash, so clearing each keyframe alone and then the whole payload
    runs OCR once per image; the verdict is still the verifier's on exactly those pixels."""

    def __init__(self, inner: Verifier) -> None:
        self.inner = inner
        self._seen: dict[bytes, Verdict] = {}

    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        key = hashlib.sha256(pixels.tobytes() + repr(pixels.shape).encode()).digest()
        if key not in self._seen:
            self._seen[key] = self.inner.check(pixels, frame_index)
        return self._seen[key]


def clear_keyframes(
    images: dict[int, bytes], analyzer: TextAnalyzer, verifier: Verifier
) -> tuple[list[ImagePart], list[int]]:
    """Image parts the verifier clears, and the frame numbers dropped because it did not."""
    kept: list[ImagePart] = []
    dropped: list[int] = []
    for index in sorted(images):
        part = ImagePart(f"frame-{index:06d}", images[index])
        try:
            clear_payload([part], analyzer, verifier)
        except EgressBlocked:
            dropped.append(index)
            continue
        kept.append(part)
    return kept, dropped


def build_payload(
    frames: Sequence[TextFrame],
    images: dict[int, bytes],
    analyzer: TextAnalyzer,
    verifier: Verifier,
) -> tuple[SanitizedPayload, list[int], list[int]]:
    """(the cleared payload, keyframes sent, keyframes dropped)."""
    caching = CachingVerifier(verifier)
    kept, dropped = clear_keyframes(images, analyzer, caching)
    keyframes = [int(p.role.split("-")[1]) for p in kept]
    parts: list[PayloadPart] = [*text_parts(frames, keyframes, analyzer), *kept]
    return clear_payload(parts, analyzer, caching), keyframes, dropped
