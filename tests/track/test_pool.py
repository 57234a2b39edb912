"""The worker pool: the same results as one process, in frame order, and a worker that dies or
hangs costs the frame it was on (masked whole, with the reason), never a frame passed through.

Fast tests use a fake pipeline (an engine that always reads one e-mail line) built in each worker
by a factory of this module; the slow test runs the real engines through `redact_file`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.capture.synthetic import index_of, picture, write_video
from tests.plugins.ocr_faults import FixedEngine, NullEngine
from veil.api import RunOptions, redact_file
from veil.capture.open import open_source
from veil.capture.windows import WindowTimeline
from veil.detect.analyzer import Analyzer
from veil.detect.contact import EmailRecognizer
from veil.framestep import FrameDone, FrameStep
from veil.models import Box, Frame, MaskReason, TextLine
from veil.options import LedgerOptions, Policy, VideoOptions
from veil.pipeline import FramePipeline
from veil.redact.fill import FillRedactor
from veil.workers import PoolConfig, WorkerPool, open_work, plan_workers

SIZE = (320, 120)
FRAMES = 22
SEGMENT = 4
TEXT = "mail a.person@example.com"
CRASH_AT, HANG_AT = 9, 13
POLICY = Policy(ledger=LedgerOptions(enabled=False))


def _line() -> TextLine:
    x, y, w = 40, 70, 9
    boxes = tuple(Box(x + i * w, y, w, 16) for i in range(len(TEXT)))
    return TextLine(TEXT, Box(x, y, w * len(TEXT), 16), boxes, 0.99, "fixed")


def fake_step(policy: Policy, full: bool, source: Path, segment_frames: int) -> FrameStep:
    pipeline = FramePipeline(
        engine=lambda: FixedEngine([_line()]),
        verifier_engine=NullEngine,
        analyzer=Analyzer([EmailRecognizer()]),
        redactor=FillRedactor(policy.redact),
        key=b"k" * 32,
        timeout_seconds=30,
    )
    return FrameStep(pipeline, not full, WindowTimeline([]), segment_frames)


class _Crashing(FrameStep):
    def __call__(self, frame: Frame) -> FrameDone:
        if frame.index == CRASH_AT:
            os._exit(7)  # a native crash: no exception, no message, the process is gone
        return super().__call__(frame)


class _Hanging(FrameStep):
    def __call__(self, frame: Frame) -> FrameDone:
        if frame.index == HANG_AT:
            time.sleep(3600)
        return super().__call__(frame)


def crashing_step(policy: Policy, full: bool, source: Path, segment_frames: int) -> FrameStep:
    step = fake_step(policy, full, source, segment_frames)
    return _Crashing(step.full, step.incremental, step.timeline, segment_frames)


def hanging_step(policy: Policy, full: bool, source: Path, segment_frames: int) -> FrameStep:
    step = fake_step(policy, full, source, segment_frames)
    return _Hanging(step.full, step.incremental, step.timeline, segment_frames)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pool") / "rec.mp4"
    # Frame i shows i in its top-left block, so order can be read back from the pixels.
    write_video(path, pts=[i * 3000 for i in range(FRAMES)], size=SIZE)
    return path


def frames(video: Path) -> list[Frame]:
    return list(open_source(video, VideoOptions()).frames())


def run(video: Path, workers: int, tmp: Path, factory: object = fake_step) -> list[FrameDone]:
    work = open_work(video, POLICY, False, workers, SEGMENT, tmp, factory)  # type: ignore[arg-type]
    with work:
        return [work.process(f) for f in frames(video)]


def test_write_video_draws_the_index() -> None:
    assert index_of(picture(13, *SIZE)) == 13


def test_pool_equals_one_process(video: Path, tmp_path: Path) -> None:
    one = run(video, 1, tmp_path)
    two = run(video, 2, tmp_path)
    assert [d.result.index for d in two] == list(range(FRAMES))
    assert [d.layer for d in two] == [d.layer for d in one]
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a.pixels, b.pixels)
        # The pool does not spool keyed hashes; everything else is the same.
        assert [replace(f, value_hmac="") for f in a.result.findings] == list(b.result.findings)
        assert not b.result.masked_whole and b.result.findings[0].type == "email"
    assert list(tmp_path.iterdir()) == []  # the spool folder is gone


def test_dead_worker_masks_its_frame_and_the_rest_goes_on(video: Path, tmp_path: Path) -> None:
    done = run(video, 2, tmp_path, crashing_step)
    assert [d.result.index for d in done] == list(range(FRAMES))  # none lost, in order
    masked = {d.result.index: d.result.mask_reason for d in done if d.result.masked_whole}
    assert masked == {CRASH_AT: MaskReason.WORKER_FAILED}
    assert not done[CRASH_AT].pixels.any()  # black: nothing of the frame passed through
    layer = json.loads(done[CRASH_AT].layer)
    assert [ln["text"] for ln in layer["lines"]] == ["<masked>"]
    for d in done[CRASH_AT + 1 :]:
        assert d.result.findings and index_of(d.pixels) == d.result.index


def test_stalled_worker_is_stopped_and_its_frame_masked(video: Path, tmp_path: Path) -> None:
    config = PoolConfig(video, POLICY, False, SEGMENT, tmp_path, hanging_step)
    with WorkerPool(config, 2, stall_seconds=3) as pool:
        done = [pool.process(f) for f in frames(video)]
    masked = {d.result.index: d.result.mask_reason for d in done if d.result.masked_whole}
    assert masked == {HANG_AT: MaskReason.OCR_TIMEOUT}
    assert [d.result.index for d in done] == list(range(FRAMES))
    assert pool.stats["workers_lost"] == 1


@pytest.mark.parametrize(
    ("requested", "frames", "expected"),
    [(2, 1000, 2), (4, 150, 1), (4, 151, 2), (1, 10_000, 1), (3, None, 3)],
)
def test_plan_workers(requested: int, frames: int | None, expected: int) -> None:
    assert plan_workers(requested, frames, 150) == expected


@pytest.mark.slow
def test_redact_file_pooled_equals_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from veil.synth.recording import make_recording

    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    truth = make_recording(
        tmp_path / "rec.mp4", seed=3, seconds=3, fps=2, size=(640, 360), languages=("en", "fr"),
        kinds=("form", "email"),
    )  # fmt: skip
    policy = POLICY.model_copy(update={"ocr": POLICY.ocr.model_copy(update={"threads": 1})})
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.mp4"
        redact_file(truth.path, RunOptions(policy, output=out, workers=workers, segment_frames=2))
        report = json.loads(out.with_suffix(".report.json").read_text(encoding="utf-8"))
        layer = out.with_suffix(".textlayer.jsonl").read_text(encoding="utf-8")
        pixels = [f.pixels for f in open_source(out, VideoOptions()).frames()]
        outputs[workers] = (report, layer, pixels)
    (r1, l1, p1), (r2, l2, p2) = outputs[1], outputs[2]
    assert r2["summary"]["change_tracking"]["workers"] == 2
    assert r1["frames"] == r2["frames"] and len(r1["frames"]) == truth.frame_count
    assert l1 == l2
    assert all(np.array_equal(a, b) for a, b in zip(p1, p2, strict=True))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no spool left behind
