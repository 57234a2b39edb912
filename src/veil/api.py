"""The public API: redact an image, a file, or text, with a validated `Policy`.

>>> from veil.api import redact_file
>>> report = redact_file(Path("rec.mp4"), RunOptions())
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TextIO

from veil.capture.base import FrameSink
from veil.capture.open import default_output_path, open_sink, open_source
from veil.capture.windows import WindowEvent, WindowGate, WindowTimeline
from veil.detect.analyzer import Analyzer, replace_findings
from veil.detect.registry import default_analyzer
from veil.exceptions import InputError, OutputError
from veil.models import Finding, Frame, FrameResult, Pixels, TextSpan
from veil.ocr.registry import make_engine, make_verifier_engine
from veil.options import Policy
from veil.pipeline import FrameOutcome, FramePipeline
from veil.progress import NullProgress, ProgressBar, ProgressFactory
from veil.redact.fill import FillRedactor
from veil.report import RunReport, write_json_atomic
from veil.store.home import load_or_create_key
from veil.track.incremental import IncrementalPipeline

log = logging.getLogger(__name__)


class FrameProcessor(Protocol):
    @property
    def timings(self) -> defaultdict[str, float]: ...

    def process(self, frame: Frame) -> FrameOutcome: ...

    def deny(self, frame: Frame) -> FrameOutcome: ...


@dataclass(frozen=True)
class RunOptions:
    policy: Policy = field(default_factory=Policy)
    output: Path | None = None
    report: Path | None = None
    full: bool = False  # every frame from scratch, instead of only what changed


def build_pipeline(policy: Policy, analyzer: Analyzer | None = None) -> FramePipeline:
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


def _layer_record(outcome: FrameOutcome, window: WindowEvent | None, analyzer: Analyzer) -> str:
    meta = None
    if window is not None:
        # Window titles and URLs carry names and e-mails ("Inbox - kim@…"): scrub them too.
        meta = {k: replace_findings(getattr(window, k), analyzer) for k in ("app", "title", "url")}
    record = {
        "frame": outcome.result.index,
        "t": round(outcome.result.seconds, 4),
        "user": window.user if window else None,
        "window": meta,
        "lines": [{"box": ln.box.as_list(), "text": ln.text} for ln in outcome.text_layer],
        "changed": [],
    }
    return json.dumps(record, ensure_ascii=False)


@dataclass
class _Run:
    """Everything one run's frame loop writes to."""

    pipeline: FrameProcessor
    sink: FrameSink
    layer: TextIO
    report: RunReport
    bar: ProgressBar
    timeline: WindowTimeline
    gate: WindowGate
    analyzer: Analyzer


def redact_file(source_path: Path, options: RunOptions, progress: ProgressFactory | None = None) -> RunReport:
    """Redact a video, an image or a folder of images. Writes the output, the report and the
    sanitized text layer, each under a temporary name renamed on success. If the input turns out
    corrupt midway, what was already processed is kept under a `.partial` name and the InputError
    is raised after the report is written."""
    policy = options.policy
    source = open_source(source_path, policy.video)
    output = options.output or default_output_path(source_path)
    report_path, layer_path = companion_paths(output)
    report_path = options.report or report_path
    report = RunReport(input=source_path.name, output=str(output), kind=source.info.kind)
    full = build_pipeline(policy)
    pipeline: FrameProcessor = full if options.full else IncrementalPipeline(full)
    layer_tmp = layer_path.with_name(f".{layer_path.name}.tmp")
    make_progress: ProgressFactory = progress or NullProgress
    sink = open_sink(source.info, output, policy.video)
    try:
        with (
            open(layer_tmp, "w", encoding="utf-8") as layer,
            make_progress(source.info.frame_count, "redacting") as bar,
        ):
            run = _Run(
                pipeline,
                sink,
                layer,
                report,
                bar,
                WindowTimeline.load(source_path),
                full.gate or WindowGate(()),
                full.analyzer,
            )
            _run_frames(source.frames(), run)
    except InputError as exc:
        report.error = str(exc)
        _keep_partial(sink, output, layer_tmp, layer_path, report, report_path)
        raise
    except BaseException:
        sink.abort()
        layer_tmp.unlink(missing_ok=True)
        raise
    report.timings.update(pipeline.timings)
    report.stats.update(getattr(pipeline, "stats", {}))
    sink.close()
    os.replace(layer_tmp, layer_path)
    if policy.ledger.enabled:
        from veil.audit.record import record_redaction

        report.recording_id = record_redaction(source_path, report, policy)
    write_json_atomic(report_path, report.to_json())
    return report


def _run_frames(frames: Iterator[Frame], run: _Run) -> None:
    clock = time.perf_counter()
    for frame in frames:
        started = time.perf_counter()
        run.report.timings["decode"] += started - clock
        window = run.timeline.at(frame.seconds)
        outcome = _process(frame, window, run)
        done = time.perf_counter()
        run.sink.write(frame, outcome.pixels)
        run.layer.write(_layer_record(outcome, window, run.analyzer) + "\n")
        run.report.add(outcome.result)
        run.bar.update(1)
        clock = time.perf_counter()
        run.report.timings["encode"] += clock - done


def _process(frame: Frame, window: WindowEvent | None, run: _Run) -> FrameOutcome:
    """The policy gate first: a confidential window is never read, only painted over."""
    if window is None or not run.gate.denies(window):
        return run.pipeline.process(frame)
    if window.bounds is None:
        return run.pipeline.deny(frame)
    region = window.bounds.clip(frame.width, frame.height)
    pixels = frame.pixels.copy()
    pixels[region.y : region.y2, region.x : region.x2] = 0
    outcome = run.pipeline.process(replace(frame, pixels=pixels))
    denied = Finding("confidential_window", (region,), "policy", 1.0, "", frame.index)
    result = replace(outcome.result, findings=(*outcome.result.findings, denied))
    return replace(outcome, result=result)


def _keep_partial(
    sink: FrameSink, output: Path, layer_tmp: Path, layer_path: Path, report: RunReport, report_path: Path
) -> None:
    if not report.frames:
        sink.abort()
        layer_tmp.unlink(missing_ok=True)
        return
    try:
        partial = sink.close_partial()
        os.replace(layer_tmp, layer_path.with_name(layer_path.stem + ".partial.jsonl"))
    except (OSError, OutputError) as exc:
        log.error("could not keep the partial output: %s", type(exc).__name__)
        sink.abort()
        return
    report.output = str(partial)
    write_json_atomic(report_path, report.to_json())
