"""One decoded frame to its redacted pixels, report record and text-layer line, in one process.

`FrameStep` is what the in-process path runs and what each worker process of `veil.workers` runs:
the policy gate (a confidential window is never read, only painted over), then the pipeline, then
the sanitized text-layer line. The change tracker restarts every `segment_frames` frames, so the
result of a frame never depends on how many processes share the work: a segment start is a full
read, in-process as in a pool.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from veil.capture.metadata import WindowScrubber
from veil.capture.windows import WindowEvent, WindowGate, WindowTimeline
from veil.models import Box, Finding, Frame, FrameResult, MaskReason, Pixels
from veil.options import Policy
from veil.pipeline import FrameOutcome, FramePipeline, LayerLine
from veil.track.incremental import IncrementalPipeline


@dataclass(frozen=True, slots=True)
class FrameDone:
    """A processed frame: redacted pixels, what the report records, the text-layer JSON line."""

    pixels: Pixels
    result: FrameResult
    layer: str


class ValueLinks:
    """Per-recording pseudonyms for masked values: the placeholder of a finding becomes
    `<type:label>`, the label an HMAC of the finding's keyed hash under a key of this recording
    (derived from the host key and the recording, held in memory). The same value in the same
    recording has the same label in every frame and every worker; it says nothing outside it."""

    def __init__(self, host_key: bytes, recording: str) -> None:
        self._key = hmac.new(host_key, b"text-layer-links\0" + recording.encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "ValueLinks(<key hidden>)"

    def relabel(self, lines: Sequence[LayerLine], findings: Sequence[Finding]) -> list[LayerLine]:
        labels: dict[tuple[Box, str], str] = {}
        for f in findings:
            if f.value_hmac and f.boxes:
                tag = hmac.new(self._key, f.value_hmac.encode(), hashlib.sha256).hexdigest()[:8]
                labels[(Box.covering(list(f.boxes)), f"<{f.type}>")] = f"<{f.type}:{tag}>"
        return [LayerLine(ln.box, labels.get((ln.box, ln.text), ln.text)) for ln in lines]


def layer_record(
    result: FrameResult,
    lines: Sequence[LayerLine],
    window: WindowEvent | None,
    scrubber: WindowScrubber,
    links: ValueLinks | None = None,
) -> str:
    """The sanitized text-layer line of a frame. Window titles, apps and URLs carry names and
    e-mails ("DM with …", "Inbox - kim@…"), and the user id is often a login: the window goes
    through the detectors, the user becomes a keyed pseudonym (`veil.capture.metadata`)."""
    if links is not None:
        lines = links.relabel(lines, result.findings)
    record = {
        "frame": result.index,
        "t": round(result.seconds, 4),
        "user": scrubber.user(window.user) if window else None,
        "window": scrubber.window(window) if window else None,
        "lines": [{"box": ln.box.as_list(), "text": ln.text} for ln in lines],
        "changed": [],
    }
    return json.dumps(record, ensure_ascii=False)


MAX_CHANGED = 64  # more changed lines than this: the whole screen changed


class LayerChanges:
    """Fills each text-layer line's `changed` with the boxes of the lines that differ from the
    previous frame's (appeared, changed text, or went), in frame order, so that task mining can
    tell typing, pasting and switching apart. One per output, fed the frames in order."""

    def __init__(self) -> None:
        self._previous: set[tuple[tuple[int, ...], str]] | None = None
        self._size = (0, 0)

    def __call__(self, layer: str) -> str:
        record = json.loads(layer)
        lines = {(tuple(ln["box"]), ln["text"]) for ln in record.get("lines", [])}
        for box, _text in lines:
            self._size = (max(self._size[0], box[0] + box[2]), max(self._size[1], box[1] + box[3]))
        if self._previous is not None:
            now = {box for box, _t in lines}
            appeared = sorted(box for box, text in lines - self._previous)
            went = sorted(box for box, _t in self._previous if box not in now)
            changed = [list(b) for b in dict.fromkeys([*appeared, *went])]
            if len(changed) > MAX_CHANGED:
                changed = [[0, 0, *self._size]]
            record["changed"] = changed
        self._previous = lines
        return json.dumps(record, ensure_ascii=False)


class FrameStep:
    """Gate, pipeline and text layer for one process; `restart()` begins a new segment."""

    def __init__(
        self,
        full: FramePipeline,
        incremental: bool,
        timeline: WindowTimeline,
        segment_frames: int,
        links: ValueLinks | None = None,
    ) -> None:
        self.links = links
        self.full = full
        self.incremental = incremental
        self.timeline = timeline
        self.segment_frames = max(1, segment_frames)
        self.gate = full.gate or WindowGate(())
        self.analyzer = full.analyzer
        self.scrubber = WindowScrubber(full.analyzer, full.key)
        self._stats: Counter[str] = Counter()
        self._tracker: IncrementalPipeline | None = None
        self._fresh = False  # restarted, no frame seen since

    @property
    def timings(self) -> defaultdict[str, float]:
        return self.full.timings

    @property
    def stats(self) -> Counter[str]:
        out = Counter(self._stats)
        if self._tracker is not None:
            out.update(self._tracker.stats)
        return out

    def restart(self) -> None:
        """Forget the previous frame: the next frame is read whole."""
        if self._tracker is not None:
            self._stats.update(self._tracker.stats)
        self._tracker = IncrementalPipeline(self.full) if self.incremental else None
        self._stats["segments"] += 1
        self._fresh = True

    def __call__(self, frame: Frame) -> FrameDone:
        if not self._fresh and (frame.index % self.segment_frames == 0 or self._stats["segments"] == 0):
            self.restart()
        self._fresh = False
        window = self.timeline.at(frame.seconds)
        outcome = self._process(frame, window)
        layer = layer_record(outcome.result, outcome.text_layer, window, self.scrubber, self.links)
        return FrameDone(outcome.pixels, outcome.result, layer)

    def _pipeline(self) -> FramePipeline | IncrementalPipeline:
        return self._tracker if self._tracker is not None else self.full

    def _process(self, frame: Frame, window: WindowEvent | None) -> FrameOutcome:
        """The policy gate first: a confidential window is never read, only painted over."""
        pipeline = self._pipeline()
        if window is None or not self.gate.denies(window):
            return pipeline.process(frame)
        if window.bounds is None:
            return pipeline.deny(frame)
        region = window.bounds.clip(frame.width, frame.height)
        pixels = frame.pixels.copy()
        pixels[region.y : region.y2, region.x : region.x2] = 0
        outcome = pipeline.process(replace(frame, pixels=pixels))
        denied = Finding("confidential_window", (region,), "policy", 1.0, "", frame.index)
        result = replace(outcome.result, findings=(*outcome.result.findings, denied))
        return replace(outcome, result=result)


def masked_frame(
    frame: Frame,
    reason: MaskReason,
    mask: Callable[[Pixels], Pixels],
    window: WindowEvent | None,
    scrubber: WindowScrubber,
) -> FrameDone:
    """A frame masked whole without being read (its worker died or stalled), as the pipeline
    masks one: solid fill, a `<masked>` text layer."""
    result = FrameResult(frame.index, frame.seconds, (), masked_whole=True, mask_reason=reason)
    whole = (LayerLine(Box(0, 0, frame.width, frame.height), "<masked>"),)
    return FrameDone(mask(frame.pixels), result, layer_record(result, whole, window, scrubber))


class WholeFrameMasker:
    """`masked_frame` for a pool's coordinator (the local pool, Ray): the detectors that scrub the
    window's title and the fill load on the first frame that needs them, not before."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._scrubber: WindowScrubber | None = None

    def __call__(self, frame: Frame, reason: MaskReason, window: WindowEvent | None) -> FrameDone:
        from veil.detect.registry import default_analyzer
        from veil.redact.fill import FillRedactor
        from veil.store.home import load_or_create_key

        if self._scrubber is None:
            analyzer = default_analyzer(self.policy.detect)
            self._scrubber = WindowScrubber(analyzer, load_or_create_key("finding-hmac"))
        mask = FillRedactor(self.policy.redact).mask_whole
        return masked_frame(frame, reason, mask, window, self._scrubber)
