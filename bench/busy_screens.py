"""Busy-screen benchmark: browser-rendered recordings where nearly every frame changes.

    python -m bench.busy_screens [--frames N] [--only NAME,...] [--no-full] [--check-verifier]
                                 [--json PATH] [--cache DIR] [--desk-seconds S] [--desk-full-frames N]

Seven short recordings at 1280x720, 2 fps (`bench.busy.record`): a table scrolled under a sticky
header (smooth scrolling spread over several frames), a chat pane scrolled inside a page at zoom
1.25, a spreadsheet with a sticky first column scrolled sideways and down, a mail reader, typing
into a form, a modal opening over a form, a window switch. Rendered by Debian's Chromium (the
browser benchmark's machinery, truth from the DOM, frames cached), then redacted in this process
by Veil's incremental path (`IncrementalPipeline`, as `veil redact` runs it) and by the full path
on every frame (`--full`), and scored by the browser benchmark's ink rule. Beside them, in the same
table but not in "all", the idle desk `bench.speed` measures (`bench.busy.desk`: `veil.synth.office`,
1920x1080, 5 fps, `--desk-seconds`; the full path on its first `--desk-full-frames` frames only).

Reported per recording and in total: CPU-seconds per frame by stage in steady state (each
recording's first frame, a full read, left out; the process's CPU time, stages in proportion of
the pipeline's `timings`), real-time factor on 2 cores at 2 and 5 fps, share of pixels OCR'd,
scroll steps recognised as scrolled, frames masked whole, and the values the full path hides
that the incremental path leaves (must be 0). `--check-verifier` re-scans every frame the
incremental path delivers with the full verifier (the whole frame) and counts the findings only
that re-scan makes, and among them the personal values of the DOM truth the delivered frame left
readable (must be 0).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.browser.render import Mark, Renderer, Shot
from bench.browser.scoring import HIDDEN_SHARE, FrameOutcome, covered_ink_share, fill_mask, score_frame
from bench.busy.record import RECORDINGS, shots
from veil.models import Frame

FPS = 2
CORES = 2
DESK = "office_desk"  # the generated idle desk's column
STAGES = ("ocr", "verify", "faces", "detect", "diff", "redact", "avatars")


@dataclass
class Run:
    """One recording through one path."""

    name: str
    frames: list[FrameOutcome] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # CPU seconds per frame
    stages: list[dict[str, float]] = field(default_factory=list)  # stage seconds per frame
    stats: Counter[str] = field(default_factory=Counter)
    scroll_steps: int = 0
    scroll_found: int = 0
    verifier_only: int = 0  # findings only the full re-scan of a delivered frame made
    verifier_only_values: int = 0  # of those, personal values (DOM truth) left readable

    def steady(self) -> range:
        return range(1, len(self.cpu))


def run_path(
    name: str,
    frames: Sequence[Shot],
    full: bool,
    pipeline: Any,
    check_verifier: bool,
    scrolled: Sequence[bool] | None = None,
) -> Run:
    """One path over `frames`; `scrolled` says which frames scroll (scroll steps recognised)."""
    from veil.track.incremental import IncrementalPipeline

    run = Run(name)
    target = pipeline if full else IncrementalPipeline(pipeline)
    for k, shot in enumerate(frames):
        before_t = dict(pipeline.timings)
        before_s = Counter(getattr(target, "stats", Counter()))
        started = time.process_time()
        out = target.process(Frame(index=k, pixels=shot.pixels.copy()))
        run.cpu.append(time.process_time() - started)
        run.stages.append({s: pipeline.timings.get(s, 0.0) - before_t.get(s, 0.0) for s in STAGES})
        stats = Counter(getattr(target, "stats", Counter()))
        stats.subtract(before_s)
        if not full and scrolled is not None and scrolled[k]:
            run.scroll_steps += 1
            run.scroll_found += int(stats["frames_scrolled"] > 0)
        run.frames.append(score_frame(shot, out.pixels, out.result.masked_whole, run.cpu[-1]))
        if check_verifier and not out.result.masked_whole:
            verdict = pipeline.verify(out.pixels, k, pipeline.painted_masks(out.result.findings, out.pixels))
            left = pipeline.not_our_labels(verdict.findings, out.result.findings, out.pixels)
            run.verifier_only += len(left)
            run.verifier_only_values += len(readable_under(shot, out.pixels, left))
    if not full:
        run.stats = Counter(target.stats)
    return run


def readable_under(shot: Shot, after: Any, findings: Sequence[Any]) -> list[Mark]:
    """The personal values of `shot` still readable on `after` (the ink rule) that a finding's
    boxes reach: what a whole re-scan caught and the delivered frame leaves."""
    covered = fill_mask(shot.pixels, after)
    boxes = [b for f in findings for b in f.boxes]
    out = []
    for mark in shot.marks:
        if mark.decoy or not mark.shown or not any(b.intersection_area(p) for b in boxes for p in mark.parts):
            continue
        share = covered_ink_share(shot.pixels, covered, mark.parts)
        if share is not None and share < HIDDEN_SHARE:
            out.append(mark)
    return out


def hidden(run: Run) -> list[list[bool]]:
    """Per frame, per personal value shown: hidden (a frame masked whole hides everything)."""
    return [[v.hidden or f.masked_whole for v in f.outcomes if not v.decoy] for f in run.frames]


def only_full(inc: Run, full: Run, delivered: bool = True) -> tuple[int, int]:
    """(values the full path hides and the incremental path does not, values the full path hides),
    on the frames the full path delivered (`delivered`: a difference of detection, must be 0) or
    on those it masked whole (hidden by the mask alone, whatever it detected)."""
    missed = total = 0
    # The full path may have run on the first frames only (the idle desk): those are compared.
    for a, b, frame in zip(hidden(inc)[: len(full.frames)], hidden(full), full.frames, strict=True):
        if frame.masked_whole == delivered:
            continue
        for x, y in zip(a, b, strict=True):
            total += int(y)
            missed += int(y and not x)
    return missed, total


def summary(runs: Sequence[Run]) -> dict[str, float]:
    idx = [(r, k) for r in runs for k in r.steady()]
    n = max(len(idx), 1)
    cpu = sum(r.cpu[k] for r, k in idx) / n
    stage_sum = {s: sum(r.stages[k][s] for r, k in idx) / n for s in STAGES}
    wall = sum(stage_sum.values()) or 1.0
    out = {"frames": float(sum(len(r.cpu) for r in runs)), "cpu_per_frame": cpu}
    out.update({f"cpu_{s}": cpu * stage_sum[s] / wall for s in STAGES})
    out["rtf_2fps"] = CORES / (cpu * 2) if cpu else float("inf")
    out["rtf_5fps"] = CORES / (cpu * 5) if cpu else float("inf")
    stats: Counter[str] = Counter()
    for r in runs:
        stats.update(r.stats)
    out["pixels_ocr"] = stats["ocr_pixels"] / stats["pixels"] if stats["pixels"] else float("nan")
    steps = sum(r.scroll_steps for r in runs)
    out["scroll_steps"], out["scroll_found"] = float(steps), float(sum(r.scroll_found for r in runs))
    frames = [f for r in runs for f in r.frames]
    out["masked_whole"] = sum(f.masked_whole for f in frames) / max(len(frames), 1)
    out["verifier_only"] = float(sum(r.verifier_only for r in runs))
    out["verifier_only_values"] = float(sum(r.verifier_only_values for r in runs))
    return out


def _f(x: float, digits: int = 2) -> str:
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


def table(results: dict[str, dict[str, Run]], full: bool, check: bool) -> Table:
    names = [n for n in results if n != DESK]  # "all": the busy recordings, not the idle desk
    cols = [*names, "all", *([DESK] if DESK in results else [])]
    title = f"Busy browser screens (1280x720, {FPS} fps) and the idle desk: incremental path, steady state"
    t = Table(title=title)
    t.add_column("what")
    for c in cols:
        t.add_column(c.replace("_", " "), justify="right")

    def runs(c: str, path: str) -> list[Run]:
        return [results[n][path] for n in (names if c == "all" else [c]) if path in results[n]]

    sums = {c: summary(runs(c, "inc")) for c in cols}
    t.add_row("CPU-s per frame", *(_f(sums[c]["cpu_per_frame"]) for c in cols))
    for s in STAGES:
        t.add_row(f"  {s}", *(_f(sums[c][f"cpu_{s}"]) for c in cols))
    t.add_row("real time x on 2 cores, 2 fps", *(_f(sums[c]["rtf_2fps"]) for c in cols))
    t.add_row("real time x on 2 cores, 5 fps", *(_f(sums[c]["rtf_5fps"]) for c in cols))
    t.add_row("pixels OCR'd %", *(_f(100 * sums[c]["pixels_ocr"], 1) for c in cols))
    t.add_row(
        "scroll steps recognised",
        *(
            "-" if c == DESK else f"{int(sums[c]['scroll_found'])}/{int(sums[c]['scroll_steps'])}"
            for c in cols
        ),
    )
    t.add_row("frames masked whole %", *(_f(100 * sums[c]["masked_whole"], 1) for c in cols))
    if full:
        fsums = {c: summary(runs(c, "full")) for c in cols}
        t.add_row("--full CPU-s per frame", *(_f(fsums[c]["cpu_per_frame"]) for c in cols))
        t.add_row("--full frames masked whole %", *(_f(100 * fsums[c]["masked_whole"], 1) for c in cols))
        for delivered, label in ((True, "frames --full delivers"), (False, "frames --full masks whole")):
            cells = []
            for c in cols:
                group = [n for n in (names if c == "all" else [c]) if "full" in results[n]]
                pairs = [only_full(results[n]["inc"], results[n]["full"], delivered) for n in group]
                cells.append(f"{sum(p[0] for p in pairs)}/{sum(p[1] for p in pairs)}")
            t.add_row(f"values --full hides, incremental not: {label}", *cells)
    if check:
        t.add_row("findings only the full re-scan makes", *(str(int(sums[c]["verifier_only"])) for c in cols))
        only = (str(int(sums[c]["verifier_only_values"])) for c in cols)
        t.add_row("  of which on a personal value left readable", *only)
    return t


def to_json(results: dict[str, dict[str, Run]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, paths in results.items():
        out[name] = {path: {**summary([r]), "cpu": [round(x, 3) for x in r.cpu]} for path, r in paths.items()}
        if "full" in paths:
            out[name]["only_full_delivered"] = only_full(paths["inc"], paths["full"])
            out[name]["only_full_masked_whole"] = only_full(paths["inc"], paths["full"], delivered=False)
    return out


def _done(name: str, results: dict[str, dict[str, Run]], path: Path | None, err: Console) -> None:
    s = summary([results[name]["inc"]])
    err.log(f"{name}: {s['cpu_per_frame']:.2f} CPU-s per frame")
    if path:  # after every recording: a long run interrupted keeps what it measured
        path.write_text(json.dumps(to_json(results), indent=2), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.busy_screens", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--frames", type=int, default=10, help="frames per recording (at most 10)")
    parser.add_argument("--only", help="comma-separated recording names")
    full_help = "also run the full path on every frame and compare recall (default on)"
    parser.add_argument("--full", action=argparse.BooleanOptionalAction, default=True, help=full_help)
    check_help = "re-scan every delivered frame whole and count values only that finds"
    parser.add_argument("--check-verifier", action="store_true", help=check_help)
    parser.add_argument("--json", type=Path, help="write the numbers (never a value) to this file")
    cache_help = "folder for rendered frames (default ~/.cache/veil-bench)"
    parser.add_argument("--cache", type=Path, help=cache_help)
    desk_help = "seconds of the generated idle desk (1920x1080, 5 fps) beside them; 0 leaves it out"
    parser.add_argument("--desk-seconds", type=float, default=30.0, help=desk_help)
    desk_full_help = "frames of the desk also run through the full path (it is slow)"
    parser.add_argument("--desk-full-frames", type=int, default=20, help=desk_full_help)
    args = parser.parse_args(argv)
    err, console = Console(stderr=True), Console(width=200)
    wanted = set(args.only.split(",")) if args.only else None
    recs = [r for r in RECORDINGS if wanted is None or r.name in wanted]

    from veil.api import build_pipeline
    from veil.options import Policy

    inc_pipeline, full_pipeline = build_pipeline(Policy()), build_pipeline(Policy()) if args.full else None
    results: dict[str, dict[str, Run]] = {}
    with Renderer(args.cache / "browser" if args.cache else None) as renderer:
        for rec in recs:
            frames = shots(renderer, rec, args.frames)
            # Warm-up (model loading, first calls) outside the measurement.
            if not results:
                inc_pipeline.process(Frame(index=0, pixels=frames[0].pixels.copy()))
                if full_pipeline is not None:
                    full_pipeline.process(Frame(index=0, pixels=frames[-1].pixels.copy()))
                inc_pipeline._cache.clear()
                if full_pipeline is not None:
                    full_pipeline._cache.clear()
            scrolled = [step.scroll for step in rec.steps]
            inc = run_path(rec.name, frames, False, inc_pipeline, args.check_verifier, scrolled)
            results[rec.name] = {"inc": inc}
            if full_pipeline is not None:
                results[rec.name]["full"] = run_path(rec.name, frames, True, full_pipeline, False)
            _done(rec.name, results, args.json, err)
    if args.desk_seconds > 0:
        from bench.busy.desk import desk_shots

        desk = desk_shots(args.desk_seconds)
        results[DESK] = {"inc": run_path(DESK, desk, False, inc_pipeline, args.check_verifier)}
        if full_pipeline is not None and args.desk_full_frames > 0:
            part = desk[: args.desk_full_frames]
            results[DESK]["full"] = run_path(DESK, part, True, full_pipeline, False)
        _done(DESK, results, args.json, err)
    console.print(table(results, args.full, args.check_verifier))
    return 0


if __name__ == "__main__":
    sys.exit(main())
