"""`veil demo`: generate a synthetic screen recording full of fake personal data (Korean,
Japanese, French, English business screens), redact and verify it, score the result against the
generator's ground truth, and save a before/after picture."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from veil.api import RunOptions, redact_file
from veil.capture.open import open_source
from veil.models import Box, Pixels
from veil.options import Policy
from veil.progress import ProgressFactory
from veil.report import RunReport
from veil.synth.recording import RecordingTruth, demo_recording
from veil.synth.score import Score, score_boxes


@dataclass(frozen=True)
class DemoResult:
    truth: RecordingTruth
    report: RunReport
    score: Score
    before: Path
    after: Path
    leaks: int  # structured values not wholly covered in some frame


def _frames(path: Path, policy: Policy) -> Iterator[Pixels]:
    for frame in open_source(path, policy.video).frames():
        yield frame.pixels


def masked_boxes(report: RunReport, index: int, size: tuple[int, int], margin: int) -> list[Box]:
    result = report.frames[index]
    if result.masked_whole:
        return [Box(0, 0, *size)]
    return [b.grow(margin) for f in result.findings for b in f.boxes]


def run_demo(out_dir: Path, seed: int = 7, progress: ProgressFactory | None = None) -> DemoResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    policy = Policy()
    recording = out_dir / "demo.mp4"
    truth = demo_recording(recording, seed=seed)
    options = RunOptions(policy=policy, output=out_dir / "demo_redacted.mp4")
    report = redact_file(recording, options, progress=progress)
    score = Score()
    best = (-1, 0)
    for index, items in enumerate(truth.frames):
        boxes = masked_boxes(report, index, truth.size, policy.redact.margin_px)
        score = score + score_boxes(items, boxes, truth.size, tolerance_px=policy.redact.margin_px)
        best = max(best, (len(report.frames[index].findings), -index))
    chosen = -best[1]
    before, after = out_dir / "before.png", out_dir / "after.png"
    for path, source in ((before, recording), (after, out_dir / "demo_redacted.mp4")):
        pixels = next(p for i, p in enumerate(_frames(source, policy)) if i == chosen)
        Image.fromarray(np.ascontiguousarray(pixels)).save(path)
    structured = score.counts()
    return DemoResult(truth, report, score, before, after, structured.instances - structured.redacted)
