"""Speed benchmark: Veil's incremental path against its own full path, Presidio and the floor.

    .venv/bin/python -m bench.speed [--seconds S] [--recordings N] [--presidio-frames K]
                                    [--full-frames F] [--json PATH]

Generates N office-work recordings (`veil.synth.office`: a CRM form typed into, a long table
scrolled, a chat receiving messages, window switches every 20-40 s, idle periods; default 5 min each,
1920x1080, 5 fps) and measures in the same run, on the same machine:
- the floor: decode + encode of each recording through `veil.capture`, no analysis;
- Veil incremental (`veil.api.redact_file`, embedded default policy, ledger off) on each recording;
- Veil `--full` and Veil incremental on the first F frames of recording 1 (the full path is slow),
  with per-frame coverage compared: values the full path covers and the incremental path misses;
- Presidio's image redactor frame by frame on K frames spread evenly over each recording (its speed
  depends on the screen's language: Tesseract's Japanese and Korean models are slower).
Each Veil run and the floor run in a child process that reports its own peak RSS and CPU time.
Prints the totals and one row per recording (language, frames/s, real-time factor, ratio to Presidio
on that recording's frames) and writes the numbers (never a value) to --json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.rss import own_peak_rss_mb
from veil.models import Box, Pixels
from veil.synth.fakedata import STRUCTURED_TYPES
from veil.synth.office import office_recording
from veil.synth.recording import RecordingTruth
from veil.synth.score import boxes_mask

MARGIN_PX = 4  # the embedded policy's redact.margin_px
WORKERS = 0  # worker processes for Veil's runs (--workers); 0: the usable cores


# -- the child process --------------------------------------------------------------------------
def _usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    # Worker processes of a pool (joined by now): the largest one's peak, and their CPU time.
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "peak_rss_mb": own_peak_rss_mb(),
        "worker_peak_rss_mb": kids.ru_maxrss / 1024,
        "cpu_seconds": ru.ru_utime + ru.ru_stime + kids.ru_utime + kids.ru_stime,
    }


def worker_floor(source_path: Path, output: Path) -> dict[str, Any]:
    """Decode and re-encode every frame, no analysis: the floor any redactor pays."""
    from veil.capture.open import open_sink, open_source
    from veil.options import VideoOptions

    video = VideoOptions()
    started = time.perf_counter()
    source = open_source(source_path, video)
    sink = open_sink(source.info, output, video)
    frames = 0
    with sink:
        for frame in source.frames():
            sink.write(frame, frame.pixels)
            frames += 1
        sink.close()
    return {"frames": frames, "wall_seconds": time.perf_counter() - started}


def worker_veil(source_path: Path, output: Path, full: bool, workers: int | None) -> dict[str, Any]:
    from veil.api import RunOptions, redact_file
    from veil.options import LedgerOptions, Policy

    policy = Policy(ledger=LedgerOptions(enabled=False))
    started = time.perf_counter()
    report = redact_file(source_path, RunOptions(policy, output=output, full=full, workers=workers))
    wall = time.perf_counter() - started
    return {"frames": report.frame_count, "wall_seconds": wall, "summary": report.summary()}


def run_worker(mode: str, source: Path, output: Path, home: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter (own peak RSS, no warm caches shared)."""
    result = output.with_suffix(".result.json")
    cmd = [sys.executable, "-m", "bench.speed", "--worker", mode, str(source), str(output), str(result)]
    env = {**os.environ, "VEIL_HOME": str(home), "VEIL_BENCH_WORKERS": str(WORKERS)}
    subprocess.run(cmd, check=True, env=env)
    data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return data


def worker_main(mode: str, source: Path, output: Path, result: Path) -> int:
    if mode == "floor":
        data = worker_floor(source, output)
    else:
        requested = int(os.environ.get("VEIL_BENCH_WORKERS", "0")) or None
        data = worker_veil(source, output, full=(mode == "full"), workers=requested)
    data.update(_usage())
    result.write_text(json.dumps(data), encoding="utf-8")
    return 0


# -- coverage -----------------------------------------------------------------------------------
def frame_cover(report_path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    """Per frame, the pixels a report's masks cover (finding boxes grown by the margin)."""
    frames = json.loads(report_path.read_text(encoding="utf-8"))["frames"]
    out = []
    for fr in frames:
        if fr["masked_whole"]:
            boxes = [Box(0, 0, *size)]
        else:
            boxes = [Box(*b).grow(MARGIN_PX) for f in fr["findings"] for b in f["boxes"]]
        out.append(boxes_mask(boxes, size))
    return out


def covered_values(truth: RecordingTruth, cover: Sequence[np.ndarray]) -> tuple[set[tuple[int, int]], int]:
    """(frame, item) pairs of structured values fully covered, and how many there are."""
    hit, total = set(), 0
    for index, items in enumerate(truth.frames[: len(cover)]):
        for n, item in enumerate(items):
            if item.type not in STRUCTURED_TYPES or item.decoy:
                continue
            total += 1
            b = item.box
            if cover[index][b.y : b.y2, b.x : b.x2].all():
                hit.add((index, n))
    return hit, total


# -- the benchmark ------------------------------------------------------------------------------
@dataclass
class Measured:
    name: str
    frames: int = 0
    wall: float = 0.0
    video_seconds: float = 0.0
    rss_mb: float = 0.0
    worker_rss_mb: float = 0.0
    cpu: float = 0.0
    extra: dict[str, Any] | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.wall if self.wall else float("nan")

    @property
    def realtime(self) -> float:
        return self.video_seconds / self.wall if self.wall else float("nan")

    def add(self, data: dict[str, Any], fps: int) -> None:
        self.frames += int(data["frames"])
        self.wall += float(data["wall_seconds"])
        self.video_seconds += int(data["frames"]) / fps
        self.rss_mb = max(self.rss_mb, float(data["peak_rss_mb"]))
        self.worker_rss_mb = max(self.worker_rss_mb, float(data.get("worker_peak_rss_mb", 0.0)))
        self.cpu += float(data["cpu_seconds"])


def presidio_run(truth: RecordingTruth, k: int, language: str) -> Measured:
    """Presidio's image redactor on k frames spread evenly over the recording, one at a time."""
    import av

    from bench.presidio_peer import PresidioPeer

    wanted = {round(i * (truth.frame_count - 1) / max(k - 1, 1)) for i in range(k)}
    frames: list[Pixels] = []
    with av.open(str(truth.path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                frames.append(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8))
    peer = PresidioPeer()
    peer.redact(frames[0][:200, :400].copy(), language)  # load models outside the timing
    m = Measured("Presidio")
    started = time.perf_counter()
    for pixels in frames:
        peer.redact(pixels, language)
    m.wall = time.perf_counter() - started
    m.frames = len(frames)
    m.video_seconds = len(frames) / truth.fps
    m.rss_mb = own_peak_rss_mb()
    return m


def tracking_share(summaries: Sequence[dict[str, Any]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for s in summaries:
        for key, value in s["change_tracking"].items():
            total[key] = total.get(key, 0) + value
    total["frames_masked_whole"] = sum(s["frames_masked_whole"] for s in summaries)
    frames = total.get("frames", 0) or 1
    return {
        **total,
        "share_frames_ocr": (total.get("frames_full", 0) + total.get("frames_incremental", 0)) / frames,
        "share_frames_full": total.get("frames_full", 0) / frames,
        "share_pixels_ocr": total.get("ocr_pixels", 0) / (total.get("pixels", 0) or 1),
    }


def stage_timings(summaries: Sequence[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in summaries:
        for key, value in s["timings_seconds"].items():
            out[key] = out.get(key, 0.0) + value
    return out


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.1f} %"


def _num(x: float, digits: int = 2) -> str:
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


@dataclass
class Results:
    args: argparse.Namespace
    floor: Measured
    incremental: Measured
    full: Measured
    incremental_subset: Measured
    presidio: Measured | None
    per_recording: list[dict[str, Any]]
    tracking: dict[str, float]
    timings: dict[str, float]
    recall: dict[str, Any]
    generation_seconds: float
    load: tuple[list[float], list[float]]


def _subset(args: argparse.Namespace, work: Path, home: Path, console: Console) -> tuple[Measured, ...]:
    """Full and incremental on the first F frames of recording 1 (the same script, cut short)."""
    seconds = args.full_frames / args.fps
    truth = office_recording(work / "subset.mp4", args.seed, seconds, args.fps, (args.width, args.height))
    full, inc = Measured("Veil --full"), Measured("Veil incremental")
    console.log(f"Veil --full on the first {truth.frame_count} frames")
    full.add(run_worker("full", truth.path, work / "subset_full.mp4", home), args.fps)
    console.log(f"Veil incremental on the same {truth.frame_count} frames")
    inc.add(run_worker("incremental", truth.path, work / "subset_inc.mp4", home), args.fps)
    size = truth.size
    full_hit, total = covered_values(truth, frame_cover(work / "subset_full.report.json", size))
    inc_hit, _ = covered_values(truth, frame_cover(work / "subset_inc.report.json", size))
    full.extra = {"structured": total, "covered": len(full_hit)}
    inc.extra = {"structured": total, "covered": len(inc_hit), "full_only": len(full_hit - inc_hit)}
    return full, inc


def run(args: argparse.Namespace, work: Path, console: Console) -> Results:
    load_before = list(os.getloadavg())
    home = work / "veil-home"
    floor, inc = Measured("floor"), Measured("Veil incremental")
    summaries, recall_hit, recall_total, gen = [], 0, 0, 0.0
    per_recording: list[dict[str, Any]] = []
    presidio = Measured("Presidio") if args.presidio_frames > 0 else None
    for r in range(args.recordings):
        started = time.perf_counter()
        truth = office_recording(
            work / f"rec{r}.mp4", args.seed + r, args.seconds, args.fps, (args.width, args.height)
        )
        gen += time.perf_counter() - started
        language = truth.scenes[0].split("/")[1]
        console.log(f"recording {r + 1}/{args.recordings} ({language}): {truth.frame_count} frames, floor")
        floor.add(run_worker("floor", truth.path, work / f"rec{r}_floor.mp4", home), args.fps)
        console.log(f"recording {r + 1}/{args.recordings}: Veil incremental")
        data = run_worker("incremental", truth.path, work / f"rec{r}_veil.mp4", home)
        inc.add(data, args.fps)
        one = Measured("Veil incremental")
        one.add(data, args.fps)
        summaries.append(data["summary"])
        hit, total = covered_values(truth, frame_cover(work / f"rec{r}_veil.report.json", truth.size))
        recall_hit, recall_total = recall_hit + len(hit), recall_total + total
        row: dict[str, Any] = {
            "seed": args.seed + r,
            "language": language,
            "frames": one.frames,
            "fps": round(one.fps, 4),
            "realtime_factor": round(one.realtime, 4),
            "cores_busy": round(one.cpu / one.wall, 3) if one.wall else None,
            "frames_masked_whole": data["summary"]["frames_masked_whole"],
            "presidio_frames": 0,
            "presidio_fps": None,
            "veil_fps_over_presidio_fps": None,
        }
        if presidio is not None:
            console.log(f"recording {r + 1}/{args.recordings}: Presidio on {args.presidio_frames} frames")
            peer = presidio_run(truth, args.presidio_frames, language)
            presidio.frames, presidio.wall = presidio.frames + peer.frames, presidio.wall + peer.wall
            presidio.video_seconds += peer.video_seconds
            presidio.rss_mb = max(presidio.rss_mb, peer.rss_mb)
            row.update(presidio_frames=peer.frames, presidio_fps=round(peer.fps, 4),
                       veil_fps_over_presidio_fps=round(one.fps / peer.fps, 2))  # fmt: skip
        per_recording.append(row)
    full, inc_subset = _subset(args, work, home, console)
    recall = {"incremental_all_recordings": {"structured": recall_total, "covered": recall_hit}}
    return Results(
        args, floor, inc, full, inc_subset, presidio, per_recording, tracking_share(summaries),
        stage_timings(summaries), recall, gen, (load_before, list(os.getloadavg())),
    )  # fmt: skip


def render(res: Results) -> Table:
    a = res.args
    load = ", ".join(f"{x:.1f}" for x in res.load[0] + res.load[1])
    cols = [res.incremental, res.full, res.incremental_subset, res.presidio, res.floor]
    table = Table(
        title=f"Speed: {a.recordings} office recording(s) x {a.seconds:g} s, {a.width}x{a.height}, "
        f"{a.fps} fps, {os.cpu_count()} CPUs, workers {a.workers or 'auto'}, load avg before/after {load}"
    )
    table.add_column("")
    names = [
        "Veil incremental",
        f"Veil --full (first {a.full_frames})",
        f"Veil incr. (same {a.full_frames})",
        f"Presidio ({a.presidio_frames} frames x {a.recordings})",
        "floor",
    ]
    for name in names:
        table.add_column(name, justify="right")

    def row(label: str, fn: Any) -> None:
        table.add_row(label, *("-" if m is None else fn(m) for m in cols))

    base = res.incremental.fps
    row("frames", lambda m: str(m.frames))
    row("wall seconds", lambda m: _num(m.wall, 1))
    row("frames / s", lambda m: _num(m.fps, 3))
    row("real-time factor (video s / wall s)", lambda m: _num(m.realtime, 3))
    row("Veil incremental fps / this fps", lambda m: _num(base / m.fps, 2) + "x")
    row("CPU cores busy (cpu s / wall s)", lambda m: _num(m.cpu / m.wall, 2) if m.cpu else "-")
    row("peak RSS MB (main process)", lambda m: _num(m.rss_mb, 0))
    row("peak RSS MB (largest worker)", lambda m: _num(m.worker_rss_mb, 0) if m.worker_rss_mb else "-")
    table.add_section()
    t = res.tracking
    table.add_row("frames needing OCR (full / incremental)", _pct(t["share_frames_ocr"]) +
                  f" ({_pct(t['share_frames_full'])} full)")  # fmt: skip
    table.add_row("pixels OCR'd", _pct(t["share_pixels_ocr"]))
    table.add_row("frames masked whole (fail-closed)", str(int(t["frames_masked_whole"])))
    table.add_row(
        "frames still / scrolled", f"{int(t.get('frames_still', 0))} / {int(t.get('frames_scrolled', 0))}"
    )
    for stage, seconds in sorted(res.timings.items(), key=lambda kv: -kv[1]):
        table.add_row(f"time in {stage} s", _num(seconds, 1))
    table.add_section()
    rall = res.recall["incremental_all_recordings"]
    f, i = res.full.extra or {}, res.incremental_subset.extra or {}
    table.add_row("structured values covered (frame x value)",
                  f"{rall['covered']}/{rall['structured']}", f"{f.get('covered')}/{f.get('structured')}",
                  f"{i.get('covered')}/{i.get('structured')}")  # fmt: skip
    table.add_row("covered by --full only (must be 0)", "", "", str(i.get("full_only")))
    return table


def render_recordings(res: Results) -> Table:
    """One row per recording: its language decides Presidio's speed (and ours)."""
    table = Table(title="Per recording (the targets: real-time factor >= 1.0, >= 30x Presidio)")
    for name in ("seed", "language", "frames", "Veil frames / s", "real-time factor", "cores busy",
                 "frames masked whole", "Presidio frames / s", "Veil / Presidio"):  # fmt: skip
        table.add_column(name, justify="right")
    for r in res.per_recording:
        ratio = r["veil_fps_over_presidio_fps"]
        table.add_row(
            str(r["seed"]), r["language"], str(r["frames"]), _num(r["fps"], 2), _num(r["realtime_factor"], 2),
            _num(r["cores_busy"] or math.nan, 2), str(r["frames_masked_whole"]),
            "-" if r["presidio_fps"] is None else _num(r["presidio_fps"], 3),
            "-" if ratio is None else f"{ratio:.1f}x",
        )  # fmt: skip
    return table


def to_json(res: Results) -> dict[str, Any]:
    def m(x: Measured | None) -> dict[str, Any] | None:
        if x is None:
            return None
        return {
            "frames": x.frames,
            "wall_seconds": round(x.wall, 3),
            "video_seconds": x.video_seconds,
            "fps": round(x.fps, 4),
            "realtime_factor": round(x.realtime, 4),
            "peak_rss_mb": round(x.rss_mb, 1),
            "worker_peak_rss_mb": round(x.worker_rss_mb, 1),
            "cpu_seconds": round(x.cpu, 2),
            **(x.extra or {}),
        }

    a = res.args
    return {
        "settings": {
            "recordings": a.recordings,
            "seconds": a.seconds,
            "fps": a.fps,
            "size": [a.width, a.height],
            "seed": a.seed,
            "full_frames": a.full_frames,
            "presidio_frames": a.presidio_frames,
            "cpus": os.cpu_count(),
            "workers": a.workers,
        },
        "load_average_before": res.load[0],
        "load_average_after": res.load[1],
        "generation_seconds": round(res.generation_seconds, 2),
        "veil_incremental": m(res.incremental),
        "veil_full_subset": m(res.full),
        "veil_incremental_subset": m(res.incremental_subset),
        "presidio": m(res.presidio),
        "per_recording": res.per_recording,
        "floor": m(res.floor),
        "change_tracking": res.tracking,
        "timings_seconds": {k: round(v, 3) for k, v in res.timings.items()},
        "recall": res.recall,
        "ratios": {
            "veil_fps_over_presidio_fps": res.incremental.fps / res.presidio.fps if res.presidio else None,
            "floor_fps_over_veil_fps": res.floor.fps / res.incremental.fps,
            "veil_incremental_over_full_fps_same_frames": res.incremental_subset.fps / res.full.fps,
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of each recording (300)")
    parser.add_argument("--recordings", type=int, default=5)
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--presidio-frames", type=int, default=6, help="frames of each recording Presidio redacts (6)"
    )
    parser.add_argument("--full-frames", type=int, default=50, help="frames Veil --full processes (50)")
    parser.add_argument("--workers", type=int, default=0, help="Veil's worker processes (0: the cores)")
    parser.add_argument("--workdir", type=Path, help="keep recordings and outputs here (default: temp)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file too")
    parser.add_argument("--worker", nargs=4, metavar=("MODE", "IN", "OUT", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        mode, src, out, result = args.worker
        return worker_main(mode, Path(src), Path(out), Path(result))
    global WORKERS  # noqa: PLW0603 - passed to the child processes through their environment
    WORKERS = args.workers
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="veil-speed-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        res = run(args, work, console)
    Console(width=200).print(render(res))
    Console(width=200).print(render_recordings(res))
    if args.json:
        args.json.write_text(json.dumps(to_json(res), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
