"""Soak test of how `veil redact` writes its files: many small runs, some killed, some on a full disk.

    python -m bench.soak --runs 1000 --jobs 2 [--seed 1] [--kill 0.10] [--enospc 0.05] [--videos 0.25]
                         [--frames 2] [--minutes M]

Each run redacts a tiny generated image or a generated video of `--frames` frames (2 fps) with
`python -m veil redact` (a process of its own, as a user would start it) into one shared output
folder, `--jobs` runs at a time. `--minutes` stops starting new runs after that long (the
figures then cover the runs done). A share of the
runs (`--kill`) is sent SIGKILL at a random moment of its expected duration; another share
(`--enospc`) gets `VEIL_FAULT_INJECTION=enospc:N`, a full disk at a random write step (see
`veil.faults`). A last clean run starts in the same folder (its start removes what killed runs
left). Then:
- `veil audit verify` must pass;
- every output on disk must have its ledger entry (the capture event of its input's SHA-256),
  its report and its text layer (and no report or text layer may be there without its output);
- no temporary, spool, lock or run-folder file may remain (in the output and input folders, and
  no `*.tmp` in the ledger's key folder);
- a full disk must end in exit 8 with no output; a normal run in exit 0 or 5 with its output.
Prints a table per fault and exits 1 if any check failed. Faces are not detected (speed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from rich.console import Console
from rich.table import Table

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FAULTS = ("none", "sigkill", "enospc")


@dataclass
class Run:
    index: int
    kind: str  # image | video
    fault: str
    source: Path
    output: Path
    steps: int  # write steps of the run (for the full-disk injection)
    frames: int = 1
    code: int | None = None
    seconds: float = 0.0
    left_files: bool = False  # killed with a run folder on disk (mid-write, not in start-up)


def make_image(path: Path, index: int, rng: np.random.Generator) -> Path:
    """A small screen-like image, unique per run (so each input has its own hash)."""
    lines = [f"Ticket {index:05d} - status open", f"Amount {rng.integers(10, 9999)} EUR"]
    if rng.random() < 0.5:
        lines.append(f"Contact: user{index}@example.org")
    image = Image.new("RGB", (480, 36 * len(lines) + 20), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 22)
    for row, text in enumerate(lines):
        draw.text((12, 10 + 36 * row), text, fill="black", font=font)
    image.save(path)
    return path


def make_video(path: Path, index: int, rng: np.random.Generator, frames: int = 2) -> tuple[Path, int]:
    from veil.synth.recording import make_recording

    fps = 2
    seconds = max(1, frames // fps)
    language = str(rng.choice(["en", "fr", "ko", "ja"]))
    kinds = ["table", "form", "email", "chat"]
    first = int(rng.integers(0, len(kinds)))
    for attempt in range(12):  # a few generated layouts do not fit a 640x360 screen: take another
        kind = kinds[(first + attempt) % len(kinds)]
        try:
            seed = index + 100_000 * attempt
            make_recording(path, seed, seconds, fps, (640, 360), languages=(language,), kinds=(kind,))
        except ValueError:
            continue
        return path, seconds * fps
    raise RuntimeError("no generated layout fits a 640x360 screen")


def plan(args: argparse.Namespace, work: Path) -> list[Run]:
    """The runs and their faults (inputs are made by each run, just before it starts)."""
    rng = np.random.default_rng(args.seed)
    inputs, outputs = work / "inputs", work / "outputs"
    inputs.mkdir(parents=True)
    outputs.mkdir()
    runs = []
    for index in range(args.runs):
        draw = rng.random()
        fault = "sigkill" if draw < args.kill else "enospc" if draw < args.kill + args.enospc else "none"
        if rng.random() < args.videos:
            source, kind, frames = inputs / f"rec{index:04d}.mp4", "video", 2 * max(1, args.frames // 2)
        else:
            source, kind, frames = inputs / f"shot{index:04d}.png", "image", 1
        output = outputs / f"{source.stem}_redacted{source.suffix}"
        # Per frame: output, text-layer line, report record; then finish, report, renames.
        runs.append(Run(index, kind, fault, source, output, 3 * frames + 3, frames))
    return runs


def make_input(run: Run, seed: int) -> None:
    rng = np.random.default_rng([seed, run.index])
    if run.kind == "video":
        make_video(run.source, run.index, rng, run.frames)
    else:
        make_image(run.source, run.index, rng)


def _env(home: Path, fault: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(VEIL_HOME=str(home), OMP_NUM_THREADS="1")
    env.pop("VEIL_FAULT_INJECTION", None)
    if fault:
        env["VEIL_FAULT_INJECTION"] = fault
    return env


def execute(run: Run, home: Path, policy: Path, rng: np.random.Generator, typical: dict[str, float]) -> None:
    """Run `veil redact` on `run` with its fault; `typical` (seconds per kind) places the kills."""
    cmd = [sys.executable, "-m", "veil", "redact", str(run.source), "-o", str(run.output)]
    cmd += ["--policy", str(policy), "--json"]
    fault = f"enospc:{rng.integers(0, run.steps)}" if run.fault == "enospc" else None
    started = time.monotonic()
    errors = run.output.parent.parent / "stderr" / f"{run.index:04d}.txt"
    errors.parent.mkdir(exist_ok=True)
    with errors.open("wb") as sink:
        process = subprocess.Popen(cmd, env=_env(home, fault), stdout=subprocess.DEVNULL, stderr=sink)
    if run.fault == "sigkill":
        # Anywhere from the interpreter's start-up to the last renames.
        deadline = started + rng.uniform(0.25, 1.05) * typical.get(run.kind, 5.0)
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            run.left_files = any(p.name.startswith(".veil-run-") for p in run.output.parent.iterdir())
    run.code = process.wait()
    run.seconds = time.monotonic() - started
    expected = {"none": (0, 5), "enospc": (8,), "sigkill": (0, 5, -signal.SIGKILL)}[run.fault]
    if run.code in expected:  # kept only for a run that ended otherwise (synthetic inputs only)
        errors.unlink()
    if run.fault == "none" and run.code in (0, 5):
        typical[run.kind] = 0.8 * typical.get(run.kind, run.seconds) + 0.2 * run.seconds


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ledger_captures(home: Path, work: Path) -> tuple[bool, int, set[str]]:
    """`veil audit verify` (ok, entries) and the input hashes of the ledger's capture events."""
    done = subprocess.run(
        [sys.executable, "-m", "veil", "audit", "verify", "--json"],
        env=_env(home),
        capture_output=True,
        check=False,
    )
    verified = json.loads(done.stdout or b"{}")
    from veil.audit.store import Ledger, default_key_dir, default_ledger_url

    os.environ["VEIL_HOME"] = str(home)
    export = work / "ledger-export"
    with Ledger.open(default_ledger_url(), default_key_dir()) as ledger:
        ledger.export(export)
    captures = set()
    for line in (export / "entries.jsonl").read_text(encoding="utf-8").splitlines():
        body = json.loads(line)
        if body["kind"] == "capture":
            captures.add(body["event"]["sha256"])
    return done.returncode == 0 and bool(verified.get("ok")), int(verified.get("size", 0)), captures


def companions(output: Path) -> tuple[Path, Path]:
    stem = output.with_suffix("")
    return stem.with_name(stem.name + ".report.json"), stem.with_name(stem.name + ".textlayer.jsonl")


@dataclass
class Row:
    runs: int = 0
    codes: Counter[int] | None = None
    kept: int = 0
    unledgered: int = 0
    incomplete: int = 0
    unexpected: int = 0
    left_files: int = 0
    seconds: float = 0.0


def check(runs: Sequence[Run], captures: set[str]) -> dict[str, Row]:
    rows = {fault: Row(codes=Counter()) for fault in FAULTS}
    for run in runs:
        row = rows[run.fault]
        assert row.codes is not None
        row.runs += 1
        row.codes[run.code if run.code is not None else -999] += 1
        row.seconds += run.seconds
        row.left_files += run.left_files
        report, layer = companions(run.output)
        present = [p.exists() for p in (run.output, report, layer)]
        if present[0]:
            row.kept += 1
            row.unledgered += sha256(run.source) not in captures
        row.incomplete += any(present) and not all(present)
        if run.fault == "none":
            row.unexpected += run.code not in (0, 5) or not present[0]
        elif run.fault == "enospc":
            row.unexpected += run.code != 8 or present[0]
        else:  # killed, or done before the kill came
            row.unexpected += run.code not in (-signal.SIGKILL, 0, 5)
    return rows


def leftovers(*folders: Path, key_dir: Path | None = None) -> list[str]:
    left = [p.name for folder in folders for p in folder.iterdir() if p.name.startswith(".")]
    if key_dir is not None and key_dir.is_dir():
        left += [f"{key_dir.name}/{p.name}" for p in key_dir.iterdir() if p.name.endswith(".tmp")]
    return sorted(left)


def render(rows: dict[str, Row], runs: int) -> Table:
    table = Table(title=f"veil redact soak: {runs} runs")
    for column in ("fault", "runs", "exit codes", "outputs kept", "no ledger entry", "incomplete set",
                   "unexpected", "killed mid-write", "s/run"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("fault", "exit codes") else "right")
    for fault, row in rows.items():
        codes = ", ".join(f"{code}: {n}" for code, n in sorted((row.codes or Counter()).items()))
        per_run = row.seconds / row.runs if row.runs else 0.0
        table.add_row(fault, str(row.runs), codes, str(row.kept), str(row.unledgered), str(row.incomplete),
                      str(row.unexpected), str(row.left_files), f"{per_run:.1f}")  # fmt: skip
    return table


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill", type=float, default=0.10, help="share of runs sent SIGKILL")
    parser.add_argument("--enospc", type=float, default=0.05, help="share of runs on a full disk")
    parser.add_argument("--videos", type=float, default=0.25, help="share of video inputs")
    parser.add_argument("--frames", type=int, default=2, help="frames per video (2 fps)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--minutes", type=float, help="start no new run after this long")
    parser.add_argument("--work", type=Path, help="folder for the soak's files (default: a new temp one)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    console = Console(stderr=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="veil-soak-"))
    home = work / "home"
    policy = work / "policy.yaml"
    work.mkdir(parents=True, exist_ok=True)
    policy.write_text("detect:\n  faces: false\n", encoding="utf-8")
    planned = plan(args, work)
    typical: dict[str, float] = {}
    started = time.monotonic()
    stop_at = started + 60 * args.minutes if args.minutes else None
    done: list[Run] = []
    lock = threading.Lock()

    def one(run: Run) -> None:
        if stop_at is not None and time.monotonic() > stop_at:
            return
        make_input(run, args.seed)
        execute(run, home, policy, np.random.default_rng([args.seed + 1, run.index]), typical)
        with lock:
            done.append(run)
            if len(done) % 20 == 0:
                console.print(f"{len(done)}/{len(planned)} runs, {time.monotonic() - started:.0f} s")

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one, planned))
    runs = sorted(done, key=lambda r: r.index)
    rng = np.random.default_rng(args.seed + 1)
    # One last clean run in the same folder: its start removes what the killed runs left.
    last = Run(len(runs), "image", "none", make_image(work / "inputs" / "last.png", len(runs), rng),
               work / "outputs" / "last_redacted.png", 6)  # fmt: skip
    execute(last, home, policy, rng, typical)
    runs.append(last)
    elapsed = time.monotonic() - started
    verified, size, captures = ledger_captures(home, work)
    rows = check(runs, captures)
    left = leftovers(work / "outputs", work / "inputs", key_dir=home / "ledger-keys")
    out = Console(width=140)
    if len(runs) < len(planned) + 1:
        out.print(f"stopped after --minutes: {len(runs) - 1} of {len(planned)} planned runs done")
    out.print(render(rows, len(runs)))
    out.print(f"ledger verify: {'ok' if verified else 'FAILED'} ({size} entries)")
    out.print(f"temporary/spool/lock files left: {len(left)}" + (f" {left[:5]}" if left else ""))
    out.print(f"wall time: {elapsed:.0f} s ({elapsed / len(runs):.1f} s per run); work folder: {work}")
    kept = sorted((work / "stderr").glob("*.txt")) if (work / "stderr").is_dir() else []
    if kept:
        out.print(f"stderr of the {len(kept)} runs that ended unexpectedly: {work / 'stderr'}")
    failed = (
        not verified or bool(left) or any(r.unledgered or r.incomplete or r.unexpected for r in rows.values())
    )
    out.print("RESULT: " + ("FAILED" if failed else "all checks passed"))
    if args.json is not None:
        figures = {
            "runs": len(runs),
            "planned": len(planned) + 1,
            "faults": {
                fault: {**asdict(row), "codes": {str(k): n for k, n in (row.codes or Counter()).items()}}
                for fault, row in rows.items()
            },
            "ledger_verified": verified,
            "ledger_entries": size,
            "files_left": len(left),
            "wall_seconds": round(elapsed, 1),
            "passed": not failed,
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
