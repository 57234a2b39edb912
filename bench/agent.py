"""Capture agent benchmark: CPU and memory of `veil record` on one core, and upload bytes per hour.

    python -m bench.agent [--seconds 60] [--fps 5] [--size 1920x1080] [--cpu-share 0.5] [--json PATH]

A scripted office scene under Xvfb: Debian's chromium shows a CRM page (a customer table of
invented people and a notes field); xdotool types into the notes, scrolls the table and back, and
pauses between bursts, as someone working would. `veil record --offline` runs for `--seconds`,
pinned to one core (sched_setaffinity) with one OCR thread; its CPU time and peak RSS come from
the kernel (wait4 rusage of the agent process). Bytes per recorded hour are the outbox's segment
sizes over the seconds they cover. "Drain" is how long the agent needed after capture stopped to
finish the frame it had waiting: small means it kept up in real time. "Still screens kept": of the
screens the script left still for a second or more, those the agent kept a frame of.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
FIRST = ["Amelia", "Bastien", "Chloé", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ines", "Jonas"]
LAST = ["Whitcombe", "Marchetti", "Okonkwo", "Lindqvist", "Duvernay", "Castellano", "Brandt", "Kowalczyk"]


def page(rows: int, rng: random.Random) -> str:
    body = []
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        phone = f"+1 415 555 {rng.randrange(1000, 9999)}"
        email = f"{first.lower()}.{last.lower()}@example.com"
        sku = f"SKU-{rng.randrange(10000, 99999)}"
        body.append(f"<tr><td>C-{10000 + i}</td><td>{first} {last}</td><td>{email}</td><td>{phone}</td>"
                    f"<td>{sku}</td></tr>")  # fmt: skip
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Acme CRM - Accounts</title><style>"
        "body{font-family:sans-serif;font-size:16px;margin:20px}td,th{padding:4px 12px;text-align:left}"
        "textarea{width:900px;height:90px;font-size:16px}</style></head><body><h2>Accounts</h2>"
        "<p>Notes:<br><textarea id='n' autofocus></textarea></p><table><tr><th>ID</th><th>Name</th>"
        "<th>Email</th><th>Phone</th><th>Last order</th></tr>" + "".join(body) + "</table></body></html>"
    )


def xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, check=False,
                   capture_output=True, timeout=30)  # fmt: skip


def office_work(display: str, window: str, until: float, rng: random.Random, scroll: bool = True,
                shown: list[tuple[float, float]] | None = None) -> None:  # fmt: skip
    """Type a sentence, scroll down and up (unless not `scroll`), think; again until `until`.
    `shown` gets (from, to) in epoch seconds of each screen left still for a second or more."""
    sentences = ["Called back about the late delivery, customer agreed to a new date. ",
                 "Refund approved for order SKU-48213, see ticket 5512. ",
                 "Updated the billing address as requested. "]  # fmt: skip

    def still(seconds: float) -> None:
        started = time.time()
        time.sleep(seconds)
        if shown is not None:
            shown.append((started, time.time()))

    while time.monotonic() < until:
        xdotool(display, "windowfocus", "--sync", window)
        xdotool(display, "type", "--delay", "90", rng.choice(sentences))
        for direction in ("5", "4") if scroll else ():  # wheel down, then up
            xdotool(display, "click", "--repeat", "6", "--delay", "150", direction)
            still(1.0)
        still(rng.uniform(2.0, 5.0))


def read_outbox(segments: list[Path]) -> tuple[float, list[float]]:
    """Seconds the outbox's segments cover, and the epoch seconds of every frame in them."""
    from datetime import datetime

    def epoch(stamp: str) -> float:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    covered, times = 0.0, []
    for path in segments:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            layer = archive.read("textlayer.jsonl").decode("utf-8").splitlines()
        start = epoch(manifest["started_at"])
        covered += epoch(manifest["ended_at"]) - start
        times += [start + float(json.loads(line)["t"]) for line in layer if line.strip()]
    return covered, times


def start_desktop(
    size: str, folder: Path, rng: random.Random
) -> tuple[str, list[subprocess.Popen[bytes]], str]:
    from tests.agent.conftest import _taken

    number = next(n for n in (rng.randrange(200, 900) for _ in range(50)) if not _taken(n))
    display = f":{number}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.1)
    (folder / "crm.html").write_text(page(60, rng), encoding="utf-8")
    width, height = size.split("x")
    chromium = subprocess.Popen(
        ["/usr/bin/chromium", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--window-position=0,0",
         f"--window-size={width},{height}", f"--user-data-dir={folder / 'profile'}",
         f"--app=file://{folder / 'crm.html'}"],
        env={**os.environ, "DISPLAY": display}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    window = ""
    for _ in range(100):
        found = subprocess.run(["xdotool", "search", "--name", "Acme CRM"], capture_output=True, text=True,
                               env={**os.environ, "DISPLAY": display}, check=False)  # fmt: skip
        window = found.stdout.strip().split("\n")[-1]
        if window:
            break
        time.sleep(0.2)
    if not window:
        raise SystemExit("chromium did not show the page")
    return display, [chromium, xvfb], window


def run(seconds: float, fps: float, size: str, scroll: bool = True, cpu_share: float = 0.5) -> dict[str, Any]:
    rng = random.Random(11)
    folder = Path(tempfile.mkdtemp(prefix="veil-bench-agent-"))
    display, procs, window = start_desktop(size, folder, rng)
    try:
        time.sleep(2.0)
        policy = folder / "policy.yaml"
        policy.write_text(
            f"ocr:\n  threads: 1\nagent:\n  fps_cap: {fps}\n  segment_seconds: 20\n  cpu_share: {cpu_share}\n"
        )
        env = {**os.environ, "DISPLAY": display, "OMP_NUM_THREADS": "1", "VEIL_HOME": str(folder / "home"),
               "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}  # fmt: skip
        command = [sys.executable, "-m", "veil", "record", "--offline", "--duration", str(seconds),
                   "--policy", str(policy), "--agent-dir", str(folder / "agent"), "--json", "-q"]  # fmt: skip
        started, started_epoch = time.monotonic(), time.time()
        agent = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
        os.sched_setaffinity(agent.pid, {0})  # one core, before it has loaded anything
        shown: list[tuple[float, float]] = []
        worker = threading.Thread(target=office_work,
                                  args=(display, window, started + seconds, rng, scroll, shown))  # fmt: skip
        worker.start()
        assert agent.stdout is not None
        out = agent.stdout.read()
        _, status, usage = os.wait4(agent.pid, 0)
        wall = time.monotonic() - started
        worker.join()
        summary = json.loads(out) if out.strip() else {}
        segments = sorted((folder / "agent" / "outbox" / "segments").glob("*.zip"))
        size_bytes = sum(p.stat().st_size for p in segments)
        covered, times = read_outbox(segments)
        # A still screen counts as kept when a frame was grabbed while it stood (the grab follows
        # its settling by up to a look and the settle test's two looks).
        seen = sum(any(a <= t <= b + 0.1 for t in times) for a, b in shown)
        cpu = usage.ru_utime + usage.ru_stime
        startup = float(summary.get("startup_cpu_seconds") or 0)
        kept = max(int(summary.get("frames") or 0), 1)
        return {
            "scene": "typing and scrolling" if scroll else "typing", "size": size, "fps_cap": fps,
            "cpu_share_allowed": cpu_share,
            "seconds_recorded": seconds, "wall_seconds": round(wall, 1),
            "exit_status": os.waitstatus_to_exitcode(status),
            "cpu_seconds": round(cpu, 1), "cpu_share_of_one_core": round(cpu / wall, 3),
            "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "frames_kept": summary.get("frames"), "skipped": summary.get("skipped"),
            "startup_cpu_seconds": startup,
            "cpu_seconds_per_kept_frame_after_startup": round((cpu - startup) / kept, 2),
            "pipeline": summary.get("pipeline"),
            "segments": len(segments), "segment_bytes": size_bytes, "seconds_covered": round(covered, 1),
            "bytes_per_recorded_hour": round(size_bytes / covered * 3600) if covered else None,
            "drain_seconds": round(max(wall - seconds, 0.0), 1),
            "still_screens_kept": f"{seen}/{len(shown)}",
            "longest_seconds_without_a_frame": round(max(np.diff([started_epoch, *times]), default=0.0), 1),
        }  # fmt: skip
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-scroll", action="store_true", help="Only type (no scrolling).")
    parser.add_argument("--cpu-share", type=float, default=0.5, help="the policy's agent.cpu_share")
    args = parser.parse_args()
    result = run(args.seconds, args.fps, args.size, scroll=not args.no_scroll, cpu_share=args.cpu_share)
    table = Table(title=f"veil record: {args.size} at up to {args.fps:g} fps, {args.seconds:g} s, one core")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
