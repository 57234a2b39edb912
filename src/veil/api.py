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

from veil import faults
from veil.capture._staging import partial_path, publish
from veil.capture.base import FrameSink, FrameSource
from veil.capture.open import default_output_path, open_sink, open_source
from veil.capture.windows import WindowGate
from veil.detect.analyzer import Analyzer
from veil.detect.registry import default_analyzer
from veil.exceptions import InputError, LedgerError, OutputError
from veil.framestep import LayerChanges
from veil.models import Frame, FrameResult, Pixels, TextSpan
from veil.names import shown
from veil.ocr.registry import make_engine, make_verifier_engine
from veil.options import Policy
from veil.pipeline import FramePipeline
from veil.progress import NullProgress, ProgressBar, ProgressFactory
from veil.redact.fill import FillRedactor
from veil.report import RunReport
from veil.runfiles import OutputLock, RunFolders, reason, write_journal
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
    engine: str | None = None  # "local" | "ray"; None: the policy's `scale.engine`


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
        recheck=policy.redact.on_verifier_hit == "mask-and-recheck",
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


@dataclass(frozen=True)
class _Targets:
    """A run's final names, and where their unfinished versions live meanwhile."""

    output: Path
    report: Path
    layer: Path
    folders: RunFolders

    def locks(self) -> list[Path]:
        """The paths locked for the run (the text layer goes with its output)."""
        return [self.output, self.report]

    def partial(self) -> _Targets:
        layer = self.layer.with_name(self.layer.stem + ".partial.jsonl")
        return _Targets(partial_path(self.output), self.report, layer, self.folders)


def redact_file(source_path: Path, options: RunOptions, progress: ProgressFactory | None = None) -> RunReport:
    """Redact a video, an image or a folder of images. Writes the output, the report and the
    sanitized text layer. Order of commits: everything is finished inside a private run folder
    beside its destination (see `veil.runfiles`), then the ledger records the run, and only then
    do the files take their final names; if the ledger cannot be written, nothing is kept
    (LedgerError). The outputs are locked for the run: a second run to the same output stops with
    OutputError. A full disk (or any failed write) ends in OutputError with nothing half-written
    left. If the input turns out corrupt midway, what was already processed is kept under a
    `.partial` name (ledgered the same way) and the InputError is raised after the report is
    written. Long inputs are shared among `options.workers` processes (see `veil.workers`); the
    output does not depend on how many."""
    source = open_source(source_path, options.policy.video)
    output = options.output or default_output_path(source_path)
    report_path, layer_path = companion_paths(output)
    report_path = options.report or report_path
    faults.reset()
    try:
        with OutputLock([output, report_path]), RunFolders() as folders:
            targets = _Targets(output, report_path, layer_path, folders)
            return _redact(source_path, source, options, targets, progress)
    except OSError as exc:  # a write no layer below turned into an OutputError (disk full, ...)
        raise OutputError(
            f"{shown(output)}: could not write the outputs ({reason(exc)}); nothing was kept"
        ) from exc


def _redact(
    source_path: Path,
    source: FrameSource,
    options: RunOptions,
    targets: _Targets,
    progress: ProgressFactory | None,
) -> RunReport:
    policy = options.policy
    workdir = targets.folders.beside(targets.output)
    report = RunReport(
        input=source_path.name,
        output=str(targets.output),
        kind=source.info.kind,
        spool_dir=targets.folders.beside(targets.report),
    )
    layer_tmp = workdir / "textlayer.jsonl"
    make_progress: ProgressFactory = progress or NullProgress
    segment = options.segment_frames or policy.scale.segment_frames
    work = _open_work(source_path, source, options, segment, workdir)
    sink = open_sink(source.info, targets.output, policy.video, workdir)
    try:
        with (
            work,
            open(layer_tmp, "x", encoding="utf-8") as layer,
            make_progress(source.info.frame_count, "redacting") as bar,
        ):
            try:
                frames = source.frames(None if work.reads_pixels else lambda _: False)
                _run_frames(frames, _Run(work, sink, layer, report, bar))
            finally:  # a partial run's report has its timings too
                _add(report.timings, work.timings)
                report.stats.update(work.stats)
            layer.flush()
            os.fsync(layer.fileno())
    except InputError as exc:
        report.error = str(exc)
        _keep_partial(source_path, sink, layer_tmp, report, policy, targets.partial())
        raise
    except BaseException:
        sink.abort()
        report.discard()
        raise
    try:
        _commit(source_path, sink, layer_tmp, report, policy, targets)
    except BaseException:
        sink.abort()
        raise
    finally:
        report.discard()
    return report


def _open_work(
    source_path: Path, source: FrameSource, options: RunOptions, segment: int, workdir: Path
) -> FrameWork:
    """The local pool (`veil.workers`) or, for `engine: ray`, Ray actors (`veil.scale`)."""
    policy = options.policy
    requested = options.workers or policy.scale.workers
    if (options.engine or policy.scale.engine) == "ray":
        from veil.scale.work import open_ray_work  # imports ray: only when asked for

        frames = source.info.frame_count
        return open_ray_work(source_path, policy, options.full, requested, segment, frames)
    count = plan_workers(requested, source.info.frame_count, segment)
    return open_work(source_path, policy, options.full, count, segment, workdir)


def _commit(
    source_path: Path, sink: FrameSink, layer_tmp: Path, report: RunReport, policy: Policy, targets: _Targets
) -> None:
    """Finish the output inside the run folder, record the run in the ledger, write the report,
    and only then give the files their final names (the output last: its presence means its
    report and text layer are in place)."""
    workdir = layer_tmp.parent
    faults.check("finish")
    staged = sink.finish(workdir / f"output{targets.output.suffix}")
    if policy.ledger.enabled:
        from veil.audit.record import recording_id_of

        report.recording_id = recording_id_of(source_path)
    faults.check("report")
    staged_report = targets.folders.beside(targets.report) / "report.json"
    report.write(staged_report)
    if policy.ledger.enabled:  # with the hash of every file it is about to publish
        outputs = {"output": staged, "report": staged_report, "text-layer": layer_tmp}
        report.recording_id = _record(source_path, report, policy, outputs)
    moves = [(layer_tmp, targets.layer), (staged_report, targets.report), (staged, targets.output)]
    write_journal(workdir, targets.locks(), moves)  # a kill from here on is rolled forward
    faults.check("rename")
    published: list[Path] = []
    try:
        publish(layer_tmp, targets.layer)
        published.append(targets.layer)
        report.publish(targets.report)
        published.append(targets.report)
        publish(staged, targets.output, folder=report.kind == "folder")
    except BaseException:
        for path in published:  # no report or text layer without its output
            path.unlink(missing_ok=True)
        raise
    log.debug("outputs written: %s", shown(targets.output))


def _record(source_path: Path, report: RunReport, policy: Policy, outputs: dict[str, Path]) -> str:
    from veil.audit.record import record_redaction

    try:
        return record_redaction(source_path, report, policy, outputs)
    except LedgerError as exc:
        raise LedgerError(f"{exc}; the run was not recorded, so no output was kept") from exc


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
        faults.check("output")
        run.sink.write(frame, done.pixels)
        faults.check("layer")
        run.layer.write(run.changes(done.layer) + "\n")
        run.report.add(done.result)
        run.bar.update(1)
        clock = time.perf_counter()
        run.report.timings["encode"] += clock - written


def _keep_partial(
    source_path: Path,
    sink: FrameSink,
    layer_tmp: Path,
    report: RunReport,
    policy: Policy,
    targets: _Targets,
) -> None:
    """Keep what was processed before the input broke, under `.partial` names, ledgered like a
    whole run. Nothing at all is kept when no frame was processed or it cannot be finished."""
    if not report.frame_count:
        sink.abort()
        report.discard()
        return
    report.output = str(targets.output)
    try:
        _commit(source_path, sink, layer_tmp, report, policy, targets)
    except (OSError, OutputError) as exc:
        log.error("could not keep the partial output: %s", type(exc).__name__)
        sink.abort()
    finally:
        report.discard()
