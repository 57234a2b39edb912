"""The actor that runs segments: a pipeline built once (OCR engines, detectors, face model), then
any number of segments, each decoded and change-tracked from a full read at its first frame, as a
worker process of `veil.workers` does, so the output does not depend on the engine or the number
of actors.

A segment is returned whole, each frame as the rows changed since the segment's previous frame
(`veil.workers._patch`), keyed hashes stripped: only redacted pixels enter Ray's object store
(and its spill files); the raw frames are decoded inside the actor and never leave it.

This module imports no ray: `veil.scale.work` wraps `SegmentRunner` with `ray.remote`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from veil import faults
from veil.exceptions import InputError
from veil.workers import PoolConfig, _patch, _Reader, _spooled

# A record: frame index, its result (no keyed hashes), text-layer line, shape, pixel patch.
Record = tuple[int, Any, str, tuple[int, ...], Any]


@dataclass(frozen=True)
class SegmentOutput:
    """What an actor returns for frames `start`..`start + len(records)`."""

    start: int
    records: list[Record | None]  # the driver drops each record once written
    timings: dict[str, float]
    stats: dict[str, int]
    eof: bool  # the input ended inside the segment
    pid: int
    peak_rss_mb: float  # the actor's own peak so far (VmHWM)


class SegmentRunner:
    """One actor: one pipeline, one OCR thread, its own decoder (see `veil.workers._Reader`)."""

    def __init__(self, config: PoolConfig, env: dict[str, str] | None = None) -> None:
        os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's OpenMP: one thread per actor
        env = env or {}
        if faults.ENV not in env:  # a fault is injected only when the driver's run asks for one
            os.environ.pop(faults.ENV, None)
        os.environ.update(env)  # the driver's Veil home on a local Ray (`work.actor_env`)
        import cv2

        cv2.setNumThreads(1)
        from veil import logs

        logs.configure(config.log_level)  # the raw-content filter, in this process too
        self.config = config
        self.step = config.factory(config.policy, config.full, config.source, config.segment_frames)
        self.reader = _Reader(config)
        self.done = 0  # frames finished by this actor: `progress` reads it from another thread

    def progress(self) -> int:
        """Frames finished so far (called in the actor's "watch" group while `run` works)."""
        return self.done

    def pid(self) -> int:
        return os.getpid()

    def run(self, start: int, stop: int) -> SegmentOutput:
        step = self.step
        timings, stats = dict(step.timings), step.stats
        records: list[Record | None] = []
        step.restart()
        decode = 0.0
        previous = None
        frames = self.reader.frames(start, stop) if not self.reader.broken else iter(())
        clock = time.perf_counter()
        try:
            for frame in frames:
                decode += time.perf_counter() - clock
                done = step(frame)
                faults.check(f"segment-frame-{frame.index}")
                pixels = np.ascontiguousarray(done.pixels)
                patch = _patch(pixels, previous)
                records.append((frame.index, _spooled(done.result), done.layer, pixels.shape, patch))
                self.done += 1
                previous = pixels
                clock = time.perf_counter()
        except InputError:
            self.reader.broken = True  # the driver's own decoder raises at the same frame
        delta = {k: v - timings.get(k, 0.0) for k, v in step.timings.items()}
        delta["decode_workers"] = delta.get("decode_workers", 0.0) + decode
        new_stats: Counter[str] = step.stats - stats
        new_stats["result_bytes"] = sum(len(r[4].blob) for r in records if r is not None)
        eof = start + len(records) < stop
        return SegmentOutput(start, records, delta, dict(new_stats), eof, os.getpid(), _peak_rss_mb())


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
