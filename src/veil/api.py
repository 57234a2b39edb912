"""The public API: redact an image, a file, or text, with a validated `Policy`.

>>> from veil.api import redact_file
>>> report = redact_file(Path("rec.mp4"), RunOptions())
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from veil.capture.base import FrameSink
from veil.capture.open import default_output_path, open_sink, open_source
from veil.capture.windows import WindowGate
from veil.detect.analyzer import Analyzer
from veil.detect.registry import default_analyzer
from veil.exceptions import InputError, OutputError
from veil.framestep import LayerChanges
from veil.models import Frame, FrameResult, Pixels, TextSpan
from veil.ocr.registry import make_engine, make_verifier_engine
from veil.options import Policy
from veil.pipeline import FramePipeline
from veil.progress import NullProgress, ProgressBar, ProgressFactory
from veil.redact.fill import FillRedactor
from veil.report import RunReport
from veil.store.home import load_or_create_key
from veil.workers import FrameWork, open_work, plan_workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    policy: Policy = field(default_factory=Policy)
    output: Path | None = None
    report: Path | None = None
    full: bool = False  # every frame from scratch, instead of only what changed
    # Worker processes for the OCR work; None: the usable cores. 1 runs in this process.
    workers: int | None = None  # None: the policy's `scale.workers` (None there: the usable cores)
    segment_frames: int | None = None  # None: the policy's `scale.segment_frames`


def build_pipeline(policy: Policy, analyzer: Analyzer | None = None) -> FramePipeline:
    from veil.detect.avatars import AvatarDetector
    from veil.detect.faces import FaceDetector

    return FramePipeline(
        engine=lambda: make_engine(policy.ocr.engine, policy.ocr),
        verifier_engine=lambda: make_verifier_engine(policy.ocr),
        analyzer=analyzer or default_analyzer(policy.detect),
        redactor=FillRedactor(policy.redact),
        key=load_or_create_key("finding-hmac"),
        timeout_seconds=policy.ocr.timeout_seconds,
        face_detector=FaceDetector() if policy.detect.faces else None,
        gate=WindowGate(policy.capture.deny),
        # A participant's initials disc identifies them as a face does: the same switch.
        avatar_detector=AvatarDetector() if policy.detect.faces else None,
    )


def redact_image(
    pixels: Pixels, policy: Policy, pipeline: FramePipeline | None = None
) -> tuple[Pixels, FrameResult]:
    """Redact one RGB image in memory; returns the redacted pixels and what was found."""
    outcome = (pipeline or build_pipeline(policy)).process(Frame(index=0, pixels=pixels))
    return outcome.pixels, outcome.result


def scan_text(texts: Iterable[str], policy: Policy | None = None) -> Iterator[list[TextSpan]]:
    """Spans (offsets, type, score, recognizer) for each text; never the values."""
    analyzer = default_analyzer((policy or Policy()).detect)
    for text in texts:
        yield analyzer.analyze(text)


def companion_paths(output: Path) -> tuple[Path, Path]:
    """Default report and sanitized-text-layer paths next to an output."""
    stem = output.with_suffix("") if output.suffix else output
    return stem.with_name(stem.name + ".report.json"), stem.with_name(stem.name + ".textlayer.jsonl")


@dataclass
class _Run:
    """Everything one run's frame loop writes to."""

    frames: FrameWork
    sink: FrameSink
    layer: TextIO
    report: RunReport
    bar: ProgressBar
    changes: LayerChanges = field(default_factory=LayerChanges)


def redact_file(source_path: Path, options: RunOptions, progress: ProgressFactory | None = None) -> RunReport:
    """Redact a video, an image or a folder of images. Writes the output, the report and the
    sanitized text layer, each under a temporary name renamed on success. If the input turns out
    corrupt midway, what was already processed is kept under a `.partial` name and the InputError
    is raised after the report is written. Long inputs are shared among `options.workers`
    processes (see `veil.workers`); the output does not depend on how many."""
    policy = options.policy
    source = open_source(source_path, policy.video)
    output = options.output or default_output_path(source_path)
    report_path, layer_path = companion_paths(output)
    report_path = options.report or report_path
    report = RunReport(
        input=source_path.name, output=str(output), kind=source.info.kind, spool_dir=report_path.parent
    )
    layer_tmp = layer_path.with_name(f".{layer_path.name}.tmp")
    make_progress: ProgressFactory = progress or NullProgress
    segment = options.segment_frames or policy.scale.segment_frames
    count = plan_workers(options.workers or policy.scale.workers, source.info.frame_count, segment)
    work = open_work(source_path, policy, options.full, count, segment, output.parent)
    sink = open_sink(source.info, output, policy.video)
    try:
        with (
            work,
            open(layer_tmp, "w", encoding="utf-8") as layer,
            make_progress(source.info.frame_count, "redacting") as bar,
        ):
            try:
                frames = source.frames(None if work.reads_pixels else lambda _: False)
                _run_frames(frames, _Run(work, sink, layer, report, bar))
            finally:  # a partial run's report has its timings too
                _add(report.timings, work.timings)
                report.stats.update(work.stats)
    except InputError as exc:
        report.error = str(exc)
        _keep_partial(sink, output, layer_tmp, layer_path, report, report_path)
        raise
    except BaseException:
        sink.abort()
        layer_tmp.unlink(missing_ok=True)
        report.discard()
        raise
    try:
        sink.close()
        os.replace(layer_tmp, layer_path)
        if policy.ledger.enabled:
            from veil.audit.record import record_redaction

            report.recording_id = record_redaction(source_path, report, policy)
        report.write(report_path)
    finally:
        report.discard()
    return report


def _add(total: defaultdict[str, float], more: dict[str, float]) -> None:
    for key, seconds in more.items():
        total[key] += seconds


def _run_frames(frames: Iterator[Frame], run: _Run) -> None:
    clock = time.perf_counter()
    for frame in frames:
        started = time.perf_counter()
        run.report.timings["decode"] += started - clock
        done = run.frames.process(frame)
        written = time.perf_counter()
        run.sink.write(frame, done.pixels)
        run.layer.write(run.changes(done.layer) + "\n")
        run.report.add(done.result)
        run.bar.update(1)
        clock = time.perf_counter()
        run.report.timings["encode"] += clock - written


def _keep_partial(
    sink: FrameSink, output: Path, layer_tmp: Path, layer_path: Path, report: RunReport, report_path: Path
) -> None:
    if not report.frame_count:
        sink.abort()
        layer_tmp.unlink(missing_ok=True)
        report.discard()
        return
    try:
        partial = sink.close_partial()
        os.replace(layer_tmp, layer_path.with_name(layer_path.stem + ".partial.jsonl"))
    except (OSError, OutputError) as exc:
        log.error("could not keep the partial output: %s", type(exc).__name__)
        sink.abort()
        report.discard()
        return
    report.output = str(partial)
    try:
        report.write(report_path)
    finally:
        report.discard()
