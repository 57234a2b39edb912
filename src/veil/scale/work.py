"""`veil redact --engine ray`: a recording's segments as Ray tasks on long-lived actors.

The driver (the process running `redact_file`) plans segments of `segment_frames` frames, as the
local pool does, and submits each as a call to one of `count` `SegmentRunner` actors (each builds
its pipeline once). At most `window` segments are in flight or done-but-unwritten at a time
(backpressure: Ray's object store holds a bounded number of segments however long the input).
Outputs are written strictly in frame order: the driver takes each frame's redacted pixels from its
segment's result, and never from anywhere else.

Faults: an actor that dies (its process killed, `ray.kill`, a node lost) or finishes no frame
for `stall_seconds` (asked through a second thread of the actor) is replaced by a fresh actor, and
every segment it held is submitted again from its first frame; a segment restarts the change
tracker with a full read, so the retried output is the one the first attempt would have given.
Nothing is written before a segment's result is whole, so a lost attempt leaves nothing behind,
and the ledger is written once, by the driver, after the last frame (`veil.api._commit`), however
many attempts there were. A segment that fails `retries + 1` times is masked whole, frame by
frame, with the reason (fail closed).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from veil import faults
from veil.capture.windows import WindowTimeline
from veil.exceptions import EngineError
from veil.framestep import FrameDone, WholeFrameMasker
from veil.models import Frame, MaskReason, Pixels
from veil.options import Policy
from veil.scale import runtime
from veil.scale.segments import SegmentOutput, SegmentRunner
from veil.workers import PoolConfig, StepFactory, _applied, build_step

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Segment:
    start: int
    stop: int
    ref: Any = None  # the ObjectRef of the call in flight
    actor: Any = None
    attempts: int = 0
    waited: float | None = None  # monotonic time of the last progress seen while awaited
    seen: int = -1  # the actor's finished-frame count then
    output: SegmentOutput | None = None
    lost: MaskReason | None = None
    read: int = 0
    pixels: Pixels | None = None


@dataclass
class _Actors:
    handles: list[Any] = field(default_factory=list)
    load: Counter[int] = field(default_factory=Counter)  # id(handle) -> segments held


def open_ray_work(
    source: Path,
    policy: Policy,
    full: bool,
    workers: int | None,
    segment_frames: int,
    frame_count: int | None,
    factory: StepFactory = build_step,
) -> RayWork:
    """The Ray engine for one run: `workers` actors (None: one per CPU of the Ray cluster)."""
    one_thread = policy.model_copy(update={"ocr": policy.ocr.model_copy(update={"threads": 1})})
    config = PoolConfig(
        source, one_thread, full, segment_frames, source.parent, factory,
        logging.getLogger().getEffectiveLevel(),
    )  # fmt: skip
    return RayWork(config, workers, frame_count)


def actor_env() -> dict[str, str]:
    """Environment the actors take from the driver: on a local Ray, the Veil home (its host key
    makes the keyed hashes and text-layer labels; a cluster's nodes mount the same key, see
    docs/scale.md); and the tests' fault injection (`veil.faults`), never set in production."""
    names = [faults.ENV] + ([] if os.environ.get("RAY_ADDRESS") else ["VEIL_HOME"])
    return {name: os.environ[name] for name in names if name in os.environ}


class RayWork:
    """A `veil.workers.FrameWork` whose frames are processed by Ray actors, a segment per call."""

    POLL_SECONDS = 5.0  # how often a segment awaited is checked for progress

    def __init__(
        self,
        config: PoolConfig,
        count: int | None,
        frame_count: int | None = None,
        window: int | None = None,
        retries: int = 2,
        stall_seconds: float | None = None,
    ) -> None:
        self.config = config
        self.requested = count
        self.frame_count = frame_count
        self.window = window
        self.retries = retries
        # As the local pool: an actor that finishes no frame for this long is stalled.
        self.stall_seconds = stall_seconds or 4 * config.policy.ocr.timeout_seconds + 60
        self._ray: Any = None
        self._runner: Any = None
        self._actors = _Actors()
        self._segments: list[_Segment] = []  # planned, in frame order, not yet all written
        self._next_start = 0
        self._eof_at: int | None = frame_count
        self._timings: defaultdict[str, float] = defaultdict(float)
        self._stats: Counter[str] = Counter()
        self._timeline = WindowTimeline.load(config.source)
        self._masker = WholeFrameMasker(self.config.policy)

    # -- FrameWork -------------------------------------------------------------------------------
    @property
    def timings(self) -> dict[str, float]:
        return dict(self._timings)

    @property
    def stats(self) -> Counter[str]:
        return Counter(self._stats)

    @property
    def reads_pixels(self) -> bool:
        return False  # each actor decodes its own frames

    def __enter__(self) -> RayWork:
        started = time.perf_counter()
        self._ray = runtime.ensure(self.requested)
        count = self.requested or runtime.cluster_cpus()
        if self.frame_count is not None:
            count = min(count, max(1, -(-self.frame_count // self.config.segment_frames)))
        self.window = self.window or 2 * count
        # Segments run one at a time; `progress` answers beside them, in its own thread.
        self._runner = self._ray.remote(num_cpus=1, max_restarts=0, concurrency_groups={"watch": 1})(
            SegmentRunner
        )
        for _ in range(count):
            self._spawn()
        try:  # every actor has built its pipeline: a policy or model that cannot load stops here
            self._ray.get([h.pid.remote() for h in self._actors.handles])
        except self._ray.exceptions.RayError as exc:
            self.__exit__(None, None, None)
            raise EngineError(f"a Ray actor could not build its pipeline ({type(exc).__name__})") from None
        self._stats["workers"] = count
        self._timings["ray_start"] += time.perf_counter() - started
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for handle in self._actors.handles:
            self._ray.kill(handle)
        self._actors = _Actors()
        self._segments.clear()

    def process(self, frame: Frame) -> FrameDone:
        started = time.perf_counter()
        try:
            seg = self._segment_of(frame.index)
            return self._take(seg, frame)
        finally:
            self._timings["pool_wait"] += time.perf_counter() - started

    def actors(self) -> list[Any]:
        """The live actors' handles (fault tests kill them)."""
        return list(self._actors.handles)

    # -- planning and submitting -----------------------------------------------------------------
    def _segment_of(self, index: int) -> _Segment:
        while self._segments and self._segments[0].stop <= index:
            self._segments.pop(0)
        self._plan(index)
        seg = self._segments[0]
        while seg.output is None and seg.lost is None:
            self._fill()
            self._await(seg)
        return seg

    def _plan(self, index: int) -> None:
        assert self.window is not None
        while self._next_start <= index or len(self._segments) < self.window:
            if self._eof_at is not None and self._next_start >= self._eof_at and self._next_start > index:
                return
            k = self.config.segment_frames
            start, stop = self._next_start, (self._next_start // k + 1) * k
            self._segments.append(_Segment(start, stop))
            self._next_start = stop

    def _fill(self) -> None:
        """Submit every planned segment not yet in flight (the plan is the window)."""
        for seg in self._segments:
            if seg.ref is None and seg.output is None and seg.lost is None:
                self._submit(seg)

    def _submit(self, seg: _Segment) -> None:
        if not self._actors.handles:
            seg.lost = MaskReason.WORKER_FAILED
            return
        actor = min(self._actors.handles, key=lambda h: self._actors.load[id(h)])
        self._actors.load[id(actor)] += 1
        seg.actor, seg.attempts, seg.waited = actor, seg.attempts + 1, None
        seg.ref = actor.run.remote(seg.start, seg.stop)

    def _spawn(self) -> None:
        self._actors.handles.append(self._runner.remote(self.config, actor_env()))

    # -- results ---------------------------------------------------------------------------------
    def _await(self, seg: _Segment) -> None:
        ray = self._ray
        if seg.waited is None:
            seg.waited, seg.seen = time.monotonic(), -1
        ready, _ = ray.wait([seg.ref], timeout=min(self.POLL_SECONDS, self.stall_seconds))
        if not ready:
            if self._stalled(seg):
                log.warning("a Ray actor finished no frame for %.0f s; replacing it", self.stall_seconds)
                self._fail(seg, MaskReason.OCR_TIMEOUT)
            return
        try:
            output: SegmentOutput = ray.get(seg.ref)
        except ray.exceptions.RayTaskError as exc:  # the pipeline raised: as a pool worker's fatal
            raise EngineError(f"a Ray actor failed ({type(exc.cause).__name__})") from None
        except ray.exceptions.RayError as exc:  # actor or node died, killed for memory, object lost
            log.warning("a Ray actor was lost (%s) on a segment; retrying it", type(exc).__name__)
            self._fail(seg, MaskReason.WORKER_FAILED)
            return
        self._actors.load[id(seg.actor)] -= 1
        seg.ref, seg.actor, seg.output = None, None, output
        for key, seconds in output.timings.items():
            self._timings[key] += seconds
        self._stats.update(output.stats)
        self._stats["actor_peak_rss_mb"] = max(self._stats["actor_peak_rss_mb"], round(output.peak_rss_mb))
        if output.eof:
            end = output.start + len(output.records)
            self._eof_at = end if self._eof_at is None else min(self._eof_at, end)

    def _stalled(self, seg: _Segment) -> bool:
        """Whether the segment's actor has finished no frame for `stall_seconds`."""
        assert seg.waited is not None
        try:
            done = self._ray.get(
                seg.actor.progress.options(concurrency_group="watch").remote(), timeout=self.POLL_SECONDS
            )
        except self._ray.exceptions.RayError:  # gone (the segment's own result says so) or slow
            done = seg.seen
        if done != seg.seen:
            seg.waited, seg.seen = time.monotonic(), done
        return time.monotonic() - seg.waited > self.stall_seconds

    def _fail(self, seg: _Segment, reason: MaskReason) -> None:
        """Replace the segment's actor; resubmit every segment it held (each from its start)."""
        dead = seg.actor
        if any(h is dead for h in self._actors.handles):
            self._ray.kill(dead)
            self._actors.handles = [h for h in self._actors.handles if h is not dead]
            self._stats["workers_lost"] += 1
            self._spawn()
        self._actors.load.pop(id(dead), None)
        # Calls on an actor run in the order sent, and segments are sent in frame order: the one
        # awaited (the first unwritten) is the one the actor was on. Those queued behind it on
        # the same actor are sent again without counting an attempt against them.
        for other in self._segments:
            if other.actor is dead and other.output is None:
                other.ref = other.actor = None
                if other is not seg:
                    other.attempts -= 1
                elif seg.attempts > self.retries:
                    seg.lost = reason
                    log.warning("segment at frame %d failed %d times; masking it", seg.start, seg.attempts)
                    continue
                self._stats["segments_retried"] += 1
                self._submit(other)

    def _take(self, seg: _Segment, frame: Frame) -> FrameDone:
        offset = frame.index - seg.start
        if seg.output is None or offset >= len(seg.output.records):
            return self._masked(frame, seg.lost or MaskReason.UNREADABLE_FRAME)
        record = seg.output.records[offset]
        if record is None:
            return self._masked(frame, MaskReason.UNREADABLE_FRAME)
        index, result, layer, shape, patch = record
        if index != frame.index or tuple(shape) != frame.pixels.shape or offset != seg.read:
            log.warning("frame %d: an actor's result does not match the frame; masking", frame.index)
            seg.pixels, seg.read = None, offset + 1
            return self._masked(frame, MaskReason.UNREADABLE_FRAME)
        seg.read = offset + 1
        if seg.pixels is None and patch.bottom - patch.top != shape[0]:
            return self._masked(frame, MaskReason.UNREADABLE_FRAME)
        seg.pixels = _applied(patch, tuple(shape), seg.pixels)
        seg.output.records[offset] = None  # written: memory holds only what is still to write
        return FrameDone(seg.pixels, result, layer)

    def _masked(self, frame: Frame, reason: MaskReason) -> FrameDone:
        return self._masker(frame, reason, self._timeline.at(frame.seconds))
