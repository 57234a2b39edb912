"""The frames of a long recording shared among worker processes, one per usable core.

Why segments: the incremental path is sequential (each frame is read against the previous one),
so frames cannot be dealt out one by one. The recording is cut into segments of
`segment_frames` frames (30 s at 5 fps); each worker process runs its own pipeline (built from the
policy, one OCR thread) over whole segments, restarting the change tracker at each segment start
(a full read, as in-process: see `veil.framestep`, so the output does not depend on the number of
workers). Each worker decodes the input itself (decoding costs ~1 % of the analysis) and appends
its results to a spool file per segment (each frame as the rows changed since the segment's
previous frame); the main process decodes too (without converting the pixels, which it never
reads), and writes outputs strictly in frame order, taking each frame's result from the spool as
soon as its worker has flushed it. A worker runs one segment at a time and, done, takes the next
unassigned one; segments are planned at most `PLANNED` per worker ahead of the one being written,
so memory holds one frame in the main process and disk a few segments of redacted frames.

Fail closed: a worker that dies or stalls (no word for `stall_seconds`) is killed; the frame it was
on is masked whole with a reason (ocr-failed / ocr-timeout), and the rest of its segment goes to a
fresh worker. A result that does not match the frame the main process decoded is masked whole too.
Nothing unread ever passes through. Workers log through the same `RawContentFilter`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import pickle
import shutil
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

import numpy as np

from veil import faults
from veil.capture.windows import WindowTimeline
from veil.exceptions import EngineError, InputError, OutputError, VeilError
from veil.framestep import FrameDone, FrameStep, WholeFrameMasker
from veil.models import Finding, Frame, FrameResult, MaskReason, Pixels
from veil.options import Policy
from veil.runfiles import reason

log = logging.getLogger(__name__)

StepFactory = Callable[[Policy, bool, Path, int], FrameStep]
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan_workers(requested: int | None, frame_count: int | None, segment_frames: int) -> int:
    """Worker processes for a run: the usable cores (or `requested`), no more than segments."""
    count = usable_cores() if requested is None else requested
    if count < 1 or segment_frames < 1:
        raise VeilError(f"workers ({count}) and segment_frames ({segment_frames}) must be at least 1")
    if frame_count is not None:
        count = min(count, max(1, math.ceil(frame_count / segment_frames)))
    return count


def build_step(policy: Policy, full: bool, source: Path, segment_frames: int) -> FrameStep:
    """The default frame step: the policy's pipeline, incremental unless `full`."""
    from veil.api import build_pipeline
    from veil.audit.record import input_sha256
    from veil.framestep import ValueLinks

    pipeline = build_pipeline(policy)
    # Keyed on the content, not the path: the same recording gets the same labels wherever it
    # lies, and two recordings never share a key (a batch job's input is a link to a memory
    # file, whose resolved path is the same for every job).
    links = ValueLinks(pipeline.key, input_sha256(source)) if policy.redact.value_links else None
    return FrameStep(pipeline, not full, WindowTimeline.load(source), segment_frames, links)


class FrameWork(Protocol):
    """What the run's frame loop calls: in this process, or through a pool of workers."""

    @property
    def timings(self) -> dict[str, float]: ...

    @property
    def stats(self) -> Counter[str]: ...

    @property
    def reads_pixels(self) -> bool:
        """Whether `process` needs the frame's pixels (a pool's workers decode them themselves)."""
        ...

    def process(self, frame: Frame) -> FrameDone: ...

    def __enter__(self) -> FrameWork: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class InProcess:
    """One worker: today's path, in this process."""

    def __init__(self, step: FrameStep) -> None:
        self.step = step

    @property
    def timings(self) -> dict[str, float]:
        return dict(self.step.timings)

    @property
    def stats(self) -> Counter[str]:
        return self.step.stats

    @property
    def reads_pixels(self) -> bool:
        return True

    def process(self, frame: Frame) -> FrameDone:
        return self.step(frame)

    def __enter__(self) -> InProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


@dataclass(frozen=True)
class PoolConfig:
    """What a worker process needs (picklable: it crosses to a fresh interpreter)."""

    source: Path
    policy: Policy
    full: bool
    segment_frames: int
    spool_dir: Path
    factory: StepFactory = build_step
    log_level: int = logging.WARNING


def open_work(
    source: Path,
    policy: Policy,
    full: bool,
    workers: int,
    segment_frames: int,
    spool_parent: Path,
    factory: StepFactory = build_step,
) -> FrameWork:
    """In this process for one worker, else a pool (its spool folder inside `spool_parent`)."""
    if workers <= 1:
        return InProcess(factory(policy, full, source, segment_frames))
    one_thread = policy.model_copy(update={"ocr": policy.ocr.model_copy(update={"threads": 1})})
    config = PoolConfig(
        source,
        one_thread,
        full,
        segment_frames,
        spool_parent,
        factory,
        logging.getLogger().getEffectiveLevel(),
    )
    return WorkerPool(config, workers)


# -- the worker process ----------------------------------------------------------------------------
def _strip(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    # Keyed hashes link values within a process only; they are not spooled to disk.
    return tuple(replace(f, value_hmac="") for f in findings)


def _spooled(result: FrameResult) -> FrameResult:
    return replace(
        result, findings=_strip(result.findings), verifier_findings=_strip(result.verifier_findings)
    )


class _Reader:
    """The worker's own decoder, moved forward to each segment it is given (reopened if behind)."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._frames: Iterator[Frame] | None = None
        self._pending: Frame | None = None
        self._next = 0
        self._start = 0
        self.broken = False

    def _pull(self) -> Frame | None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        assert self._frames is not None
        frame = next(self._frames, None)
        if frame is not None:
            self._next = frame.index + 1
        return frame

    def frames(self, start: int, stop: int) -> Iterator[Frame]:
        from veil.capture.open import open_source

        self._start = start  # frames before it (other workers' segments) are decoded, not converted
        if self._frames is None or start < self._next - (self._pending is not None):
            source = open_source(self.config.source, self.config.policy.video)
            self._frames = source.frames(lambda index: index >= self._start)
            self._pending, self._next = None, 0
        while (frame := self._pull()) is not None:
            if frame.index >= stop:
                self._pending = frame
                return
            if frame.index >= start:
                yield frame


def _worker(conn: Connection, config: PoolConfig) -> None:
    """A worker process: build the step, then run the segments it is sent until told to stop."""
    os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's OpenMP: one thread per worker
    import cv2

    cv2.setNumThreads(1)  # OpenCV's own pool (the face detector's DNN, resizes): the same
    from veil import logs

    logs.configure(config.log_level)
    try:
        step = config.factory(config.policy, config.full, config.source, config.segment_frames)
    except Exception as exc:  # noqa: BLE001 - reported to the main process, which raises
        conn.send(("fatal", type(exc).__name__))
        return
    conn.send(("ready",))
    reader = _Reader(config)
    try:
        while (task := conn.recv()) is not None:
            start, stop, path = task
            _run_segment(step, reader, start, stop, path, conn)
    except OSError as exc:
        if exc.errno not in _NO_SPACE:
            log.error("worker process failed (%s); its frame will be masked", type(exc).__name__)
            os._exit(70)
        # A full disk is not a frame to mask: the run cannot write its outputs either.
        conn.send(("no-space", exc.errno))
        os._exit(71)
    except Exception as exc:  # noqa: BLE001 - no traceback: its text could quote screen content
        log.error("worker process failed (%s); its frame will be masked", type(exc).__name__)
        os._exit(70)
    import resource

    conn.send(("bye", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _run_segment(
    step: FrameStep, reader: _Reader, start: int, stop: int, path: str, conn: Connection
) -> None:
    conn.send(("start", start))
    timings, stats = dict(step.timings), step.stats
    extra: defaultdict[str, float] = defaultdict(float)
    count, eof = 0, True
    step.restart()
    with open(path, "wb") as out:
        frames = reader.frames(start, stop) if not reader.broken else iter(())
        clock = time.perf_counter()
        previous: Pixels | None = None
        try:
            for frame in frames:
                extra["decode_workers"] += time.perf_counter() - clock
                done = step(frame)
                clock = time.perf_counter()
                _dump(out, frame.index, done, previous)
                previous = done.pixels
                extra["spool"] += time.perf_counter() - clock
                count += 1
                conn.send(("frame", start, count))
                clock = time.perf_counter()
        except InputError:
            reader.broken = True  # the main process's own decoder raises at the same frame
        eof = start + count < stop
    delta = {k: v - timings.get(k, 0.0) for k, v in step.timings.items()}
    for key, seconds in extra.items():
        delta[key] = delta.get(key, 0.0) + seconds
    conn.send(("end", start, count, delta, dict(step.stats - stats), eof))


@dataclass(frozen=True, slots=True)
class _Patch:
    """A spooled frame's pixels: rows `top`..`bottom` (zlib), the other rows those of the previous
    frame of the same segment. A still screen costs an empty patch, not a compressed frame."""

    top: int
    bottom: int
    blob: bytes


def _patch(pixels: Pixels, previous: Pixels | None) -> _Patch:
    top, bottom = 0, pixels.shape[0]
    if previous is not None and previous.shape == pixels.shape:
        if np.array_equal(pixels, previous):  # a still screen: 1 ms, not a row-by-row compare
            return _Patch(0, 0, b"")
        rows = np.flatnonzero((pixels != previous).any(axis=(1, 2)))
        top, bottom = int(rows[0]), int(rows[-1]) + 1
    band = np.ascontiguousarray(pixels[top:bottom])
    return _Patch(top, bottom, zlib.compress(band.data, 1) if bottom > top else b"")  # ~10x smaller


def _applied(patch: _Patch, shape: tuple[int, ...], previous: Pixels | None) -> Pixels:
    """The pixels a patch stands for (a fresh array: the sink may keep the previous one)."""
    if patch.bottom - patch.top == shape[0] or previous is None:
        band = np.frombuffer(zlib.decompress(patch.blob), dtype=np.uint8)
        return band.reshape(shape)
    if patch.bottom == patch.top:
        return previous  # unchanged: the same read-only array, which the video sink recognises
    pixels = previous.copy()
    rows = np.frombuffer(zlib.decompress(patch.blob), dtype=np.uint8)
    pixels[patch.top : patch.bottom] = rows.reshape((patch.bottom - patch.top, *shape[1:]))
    pixels.flags.writeable = False
    return pixels


def _dump(out: IO[bytes], index: int, done: FrameDone, previous: Pixels | None) -> None:
    pixels = np.ascontiguousarray(done.pixels)
    record = (index, _spooled(done.result), done.layer, pixels.shape, _patch(pixels, previous))
    faults.check("spool")
    pickle.dump(record, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


# -- the main process's side ----------------------------------------------------------------------
@dataclass(eq=False)
class _Segment:
    start: int
    stop: int
    path: Path
    worker: _Worker | None = None
    started: bool = False
    available: int = 0  # records flushed to the spool
    ended: bool = False
    lost: MaskReason | None = None  # frames from `start + available` on are masked whole
    read: int = 0
    fh: IO[bytes] | None = None
    pixels: Pixels | None = None  # the last frame read from the spool (patches apply to it)


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    segments: list[_Segment] = field(default_factory=list)
    seen: float = field(default_factory=time.monotonic)
    ready: bool = False


class WorkerPool:
    """Segments of one recording processed by `count` worker processes; results in frame order."""

    # A worker is handed its next segment when it finishes one (whichever is next in frame order),
    # so a slow segment (a window switch, a long scroll) does not hold up segments queued behind
    # it on the same worker. Segments are planned this many per worker ahead of the one written.
    PLANNED = 3
    STARTUP_SECONDS = 300.0  # loading the engines and models

    def __init__(
        self, config: PoolConfig, count: int, stall_seconds: float | None = None, respawns: int | None = None
    ) -> None:
        self.config = config
        self.count = count
        self.stall_seconds = stall_seconds or 4 * config.policy.ocr.timeout_seconds + 60
        self._respawns = 2 * count if respawns is None else respawns
        self._timings: defaultdict[str, float] = defaultdict(float)
        self._stats: Counter[str] = Counter({"workers": count})
        self._workers: list[_Worker] = []
        self._segments: list[_Segment] = []
        self._next_start = 0
        self._eof_at: int | None = None
        self._dir: Path | None = None
        self._ctx = get_context("spawn")
        self._masker = WholeFrameMasker(self.config.policy)
        self._timeline = WindowTimeline.load(config.source)

    @property
    def timings(self) -> dict[str, float]:
        return dict(self._timings)

    @property
    def stats(self) -> Counter[str]:
        return Counter(self._stats)

    def __enter__(self) -> WorkerPool:
        self.config.spool_dir.mkdir(parents=True, exist_ok=True)
        self._dir = Path(tempfile.mkdtemp(prefix=".veil-pool-", dir=self.config.spool_dir))
        try:
            for _ in range(self.count):
                self._spawn()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close(graceful=kind is None)

    def _spawn(self) -> None:
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker, args=(theirs, self.config), daemon=True, name="veil-worker"
        )
        process.start()
        theirs.close()
        self._workers.append(_Worker(process, ours))

    @property
    def reads_pixels(self) -> bool:
        return False  # each worker decodes its frames; this process needs their shape and time

    def process(self, frame: Frame) -> FrameDone:
        seg = self._segment_of(frame.index)
        started = time.perf_counter()
        try:
            self._pump(0)  # a worker that finished a segment gets the next one now, not when we wait
            while True:
                self._assign()
                if seg.read < seg.available:
                    return self._take(seg, frame)
                if seg.lost is not None or seg.ended:
                    seg.read += 1
                    return self._masked(frame, seg.lost or MaskReason.UNREADABLE_FRAME)
                self._pump(1.0)
        finally:
            self._timings["pool_wait"] += time.perf_counter() - started

    def _segment_of(self, index: int) -> _Segment:
        while self._segments and self._segments[0].stop <= index:
            self._drop(self._segments.pop(0))
        self._extend(index)
        return self._segments[0]

    def _extend(self, index: int) -> None:
        """Plan segments up to `index` and as far ahead as the workers may take."""
        ahead = self.PLANNED * max(len(self._workers), 1)
        while self._next_start <= index or len(self._segments) < ahead:
            if self._eof_at is not None and self._next_start >= self._eof_at and self._next_start > index:
                return
            k = self.config.segment_frames
            start, stop = self._next_start, (self._next_start // k + 1) * k
            assert self._dir is not None
            self._segments.append(_Segment(start, stop, self._dir / f"segment-{start:09d}.spool"))
            self._next_start = stop

    def _drop(self, seg: _Segment) -> None:
        if seg.fh is not None:
            seg.fh.close()
        seg.path.unlink(missing_ok=True)

    def _assign(self) -> None:
        for seg in self._segments:
            if seg.worker is not None or seg.ended or seg.lost is not None:
                continue
            free = [w for w in self._workers if not w.segments]
            if not free:
                if not self._workers:
                    seg.lost = MaskReason.WORKER_FAILED  # no worker left to read it: fail closed
                    continue
                return
            worker = min(free, key=lambda w: len(w.segments))
            worker.segments.append(seg)
            seg.worker = worker
            worker.conn.send((seg.start, seg.stop, str(seg.path)))

    def _take(self, seg: _Segment, frame: Frame) -> FrameDone:
        if seg.fh is None:
            seg.fh = seg.path.open("rb")
        started = time.perf_counter()
        index, result, layer, shape, patch = pickle.load(seg.fh)  # our own worker's spool
        seg.read += 1
        if index != frame.index or tuple(shape) != frame.pixels.shape:
            log.warning("frame %d: a worker's result does not match the frame; masking", frame.index)
            seg.pixels = None  # the next patch of this segment has nothing sound to apply to
            return self._masked(frame, MaskReason.UNREADABLE_FRAME)
        if seg.pixels is None and patch.bottom - patch.top != shape[0]:
            log.warning("frame %d: a worker's result has no frame to patch; masking", frame.index)
            return self._masked(frame, MaskReason.UNREADABLE_FRAME)
        seg.pixels = _applied(patch, tuple(shape), seg.pixels)
        self._timings["spool"] += time.perf_counter() - started
        return FrameDone(seg.pixels, result, layer)

    def _masked(self, frame: Frame, reason: MaskReason) -> FrameDone:
        return self._masker(frame, reason, self._timeline.at(frame.seconds))

    # -- messages from the workers ----------------------------------------------------------------
    def _pump(self, timeout: float) -> None:
        handles: list[Any] = [w.conn for w in self._workers] + [w.process.sentinel for w in self._workers]
        ready = wait(handles, timeout)
        for worker in list(self._workers):
            if worker.conn in ready or worker.process.sentinel in ready:
                self._drain(worker)
        now = time.monotonic()
        for worker in list(self._workers):
            limit = self.stall_seconds if worker.ready else max(self.stall_seconds, self.STARTUP_SECONDS)
            busy = any(s.started for s in worker.segments) or not worker.ready
            if busy and now - worker.seen > limit:
                log.warning("a worker process gave no sign for %.0f s; stopping it", now - worker.seen)
                self._lose(worker, MaskReason.OCR_TIMEOUT)

    def _drain(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass
        if not worker.process.is_alive():
            self._lose(worker, MaskReason.WORKER_FAILED)

    def _handle(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        worker.seen = time.monotonic()
        kind = message[0]
        if kind == "fatal":
            raise EngineError(f"a worker process could not build its pipeline ({message[1]})")
        if kind == "no-space":
            full = reason(OSError(message[1], "no space"))
            raise OutputError(f"a worker process could not write its spool ({full}); nothing was kept")
        if kind == "ready":
            worker.ready = True
        elif kind == "start":
            worker.segments[0].started = True
        elif kind == "frame":
            worker.segments[0].available = message[2]
        elif kind == "end":
            self._end(worker, *message[1:])

    def _end(self, worker: _Worker, start: int, count: int, timings: dict[str, float], stats: dict[str, int],
             eof: bool) -> None:  # fmt: skip
        seg = worker.segments.pop(0)
        seg.available, seg.ended, seg.worker = count, True, None
        for key, seconds in timings.items():
            self._timings[key] += seconds
        self._stats.update(stats)
        if eof:
            end = start + count
            self._eof_at = end if self._eof_at is None else min(self._eof_at, end)

    def _lose(self, worker: _Worker, reason: MaskReason) -> None:
        """A worker died or stalled: mask the frame it was on, hand the rest to a fresh worker."""
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()
        self._workers.remove(worker)
        self._stats["workers_lost"] += 1
        for seg in worker.segments:
            seg.worker = None
            if seg.started:
                self._split(seg, reason)
        if self._respawns > 0:
            self._respawns -= 1
            self._spawn()

    def _split(self, seg: _Segment, reason: MaskReason) -> None:
        lost = seg.start + seg.available
        log.warning("a worker process stopped (%s) on frame %d; masking that frame whole", reason, lost)
        seg.lost, seg.started = reason, False
        if lost + 1 < seg.stop:
            rest = _Segment(lost + 1, seg.stop, seg.path.with_name(f"segment-{lost + 1:09d}.spool"))
            self._segments.insert(self._segments.index(seg) + 1, rest)
        seg.stop = lost + 1

    def _close(self, graceful: bool = False) -> None:
        """Stop the workers (at once when the run failed) and remove the spool folder."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        deadline = time.monotonic() + (10 if graceful else 0)
        for worker in self._workers:
            worker.process.join(max(deadline - time.monotonic(), 0.1))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
            worker.conn.close()
        self._workers.clear()
        for seg in self._segments:
            if seg.fh is not None:
                seg.fh.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
