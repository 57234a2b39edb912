"""Memory benchmark: peak RSS of `veil.api.redact_file` on recordings of growing length.

    .venv/bin/python -m bench.memory [--minutes 1 10 60] [--workers N] [--engine local|ray] [--json PATH]

For each length, generates a 1920x1080, 5 fps office recording (`veil.synth.office`) scripted to be
mostly idle and typing (a CRM form typed into slowly, a chat receiving a message every few
minutes, a window switch every 10-15 minutes: a long recording must finish in reasonable time),
then redacts it in a fresh child process (embedded policy, ledger off) which reports its own peak
RSS (VmHWM), and that of its largest worker process when a pool is used (with `--engine ray`, of
its largest Ray actor, which each segment reports, `--workers` being the actors). Flat memory means
the peak does not grow with the length. Prints one table; `--json` writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.rss import own_peak_rss_mb
from veil.synth.office import OfficeScript, office_recording

IDLE = OfficeScript(
    switch_seconds=(600.0, 900.0), type_cps=1.0, message_seconds=(120.0, 300.0), windows=("form", "chat")
)


def child(source: Path, output: Path, result: Path, workers: int, engine: str) -> int:
    from veil.api import RunOptions, redact_file
    from veil.options import LedgerOptions, Policy

    policy = Policy(ledger=LedgerOptions(enabled=False))
    started = time.perf_counter()
    report = redact_file(source, RunOptions(policy, output=output, workers=workers, engine=engine))
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers_ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = {
        "frames": report.frame_count,
        "wall_seconds": wall,
        "peak_rss_mb": own_peak_rss_mb(),
        "largest_worker_peak_rss_mb": max(workers_ru.ru_maxrss / 1024, report.stats["actor_peak_rss_mb"]),
        "cpu_seconds": own.ru_utime + own.ru_stime + workers_ru.ru_utime + workers_ru.ru_stime,
        "summary": report.summary(),
    }
    result.write_text(json.dumps(data), encoding="utf-8")
    return 0


def measure(minutes: float, args: argparse.Namespace, work: Path, console: Console) -> dict[str, Any]:
    path = work / f"idle{minutes:g}.mp4"
    started = time.perf_counter()
    truth = office_recording(path, args.seed, minutes * 60, args.fps, (args.width, args.height), script=IDLE)
    generated = time.perf_counter() - started
    console.log(f"{minutes:g} min: {truth.frame_count} frames generated in {generated:.0f} s; redacting")
    del truth
    result = work / f"idle{minutes:g}.result.json"
    cmd = [sys.executable, "-m", "bench.memory", "--child", str(path), str(work / f"idle{minutes:g}_out.mp4"),
           str(result), str(args.workers), args.engine]  # fmt: skip
    env = {**os.environ, "VEIL_HOME": str(work / "veil-home")}
    subprocess.run(cmd, check=True, env=env)
    data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    data["minutes"] = minutes
    data["generation_seconds"] = generated
    console.log(f"{minutes:g} min: peak RSS {data['peak_rss_mb']:.0f} MB in {data['wall_seconds']:.0f} s")
    for p in work.glob(f"idle{minutes:g}*.mp4"):
        p.unlink()  # a 60-minute recording is large: keep only the numbers
    return data


def render(rows: Sequence[dict[str, Any]], args: argparse.Namespace) -> Table:
    table = Table(title=f"Peak RSS by recording length ({args.width}x{args.height}, {args.fps} fps, "
                  f"engine={args.engine}, workers={args.workers}, {os.cpu_count()} CPUs)")  # fmt: skip
    for column in ("minutes", "frames", "wall s", "frames/s", "peak RSS MB", "largest worker MB", "segments"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            f"{r['minutes']:g}",
            str(r["frames"]),
            f"{r['wall_seconds']:.0f}",
            f"{r['frames'] / r['wall_seconds']:.2f}",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['largest_worker_peak_rss_mb']:.0f}" if args.workers > 1 or args.engine == "ray" else "-",
            str(r["summary"]["change_tracking"].get("segments", "")),
        )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 60.0])
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1: in-process)")
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--child", nargs=5, metavar=("IN", "OUT", "RESULT", "WORKERS", "ENGINE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        src, out, result, workers, engine = args.child
        return child(Path(src), Path(out), Path(result), int(workers), engine)
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="veil-memory-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = [measure(m, args, work, console) for m in args.minutes]
    Console(width=160).print(render(rows, args))
    if args.json:
        slim = [{k: v for k, v in r.items() if k != "summary"} for r in rows]
        args.json.write_text(json.dumps(slim, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
