"""Task-mining scale bench: import, segment and rank up to a million UI events on one core, and
run the whole of `veil mine` on them.

The log is built from the real streams of `bench.uilog_streams` (three task types interleaved,
10 % noise) repeated for as many users as it takes, each user's copy shifted in time, and written
as one Action Logger CSV. Each size runs in fresh processes (one thread), so each peak memory is
its own:
- *analysis*: events per second of the import (`read_action_logger`), of the segmentation
  (`segment`) and of the ranking (`rank_candidates`), and the peak resident memory (VmHWM);
- *veil mine*: `mine()` end to end without XES (import, segmentation, ranking, events.csv and
  report.html), its events per second and peak resident memory; on an Action Logger CSV without
  XES this is the bounded path (`veil.mining.bounded`), which the analysis stages above do not
  time. XES is left out: pm4py builds its log from a table of the whole log (about 77 s and
  360 MB over the rest at 100,000 events).

`--before REV` also runs the same measurements on the code of commit REV (its `src`, taken with
`git archive` into a temporary folder; the measuring code is this file's), one after the other
in the same command, so the table compares before and after on one machine under one load.

Run: `.venv/bin/python -m bench.mining_scale [--sizes 100000 1000000] [--before REV]`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.rss import own_peak_rss_mb
from bench.uilog_streams import LABELLED, Kind, StreamSpec, build

ROOT = Path(__file__).resolve().parent.parent


def write_log(path: Path, events: int) -> None:
    frame = build(StreamSpec(types=LABELLED, kind=Kind.INTERLEAVED, seed=1, noise=0.1)).frame()
    stamps = pd.to_datetime(frame["timeStamp"], utc=True)
    copies = []
    for user in range(events // len(frame) + 1):
        copy = frame.copy()
        copy["userID"] = f"u-{user}"
        shifted = stamps + pd.Timedelta(minutes=7 * (user % 60))
        copy["timeStamp"] = shifted.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        copies.append(copy)
    pd.concat(copies).iloc[:events].to_csv(path, index=False)


def measure(path: Path) -> dict[str, float]:
    """The analysis stages, one after the other, in this process."""
    from veil.mining.actionlogger import read_action_logger
    from veil.mining.routines import rank_candidates
    from veil.mining.segment import segment

    t0 = time.perf_counter()
    events = read_action_logger(path)
    t1 = time.perf_counter()
    seg = segment(events)
    t2 = time.perf_counter()
    candidates = rank_candidates(events, seg)
    t3 = time.perf_counter()
    n = len(events)
    return {
        "events": n,
        "import_per_s": n / (t1 - t0),
        "segment_per_s": n / (t2 - t1),
        "rank_per_s": n / (t3 - t2),
        "total_per_s": n / (t3 - t0),
        "candidates": len(candidates),
        "peak_rss_mb": own_peak_rss_mb(),
    }


def measure_mine(path: Path) -> dict[str, float]:
    """`veil mine` end to end (no XES) in this process, into a temporary folder."""
    from veil.mining.cli import MineOptions, mine

    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        summary = mine([path], Path(out), MineOptions(xes=False))
        took = time.perf_counter() - t0
    return {"mine_per_s": summary.events / took, "mine_peak_rss_mb": own_peak_rss_mb()}


def _child(path: Path, mode: str, src: Path | None) -> dict[str, float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    # The measured `veil` comes first on the path: this tree's, or the `--before` commit's.
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (src or ROOT / "src", ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "bench.mining_scale", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _checkout(rev: str, into: Path) -> Path:
    """The `src` folder of commit `rev`, extracted into `into`."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--before", help="also measure this commit's code (e.g. main)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mine", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    if args.mine:
        print(json.dumps(measure_mine(args.mine)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        codes: list[tuple[str, Path | None]] = [("after", None)]
        if args.before:
            codes.insert(0, (f"before ({args.before})", _checkout(args.before, Path(tmp) / "before")))
        for size in args.sizes:
            path = Path(tmp) / f"log-{size}.csv"
            write_log(path, size)
            for label, src in codes:
                row = {"code": label, **_child(path, "--one", src), **_child(path, "--mine", src)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
            path.unlink()
    print(
        "| events | code | import events/s | segment events/s | rank events/s | analysis events/s "
        "| analysis peak RSS | `veil mine` events/s | `veil mine` peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['events']:,.0f} | {r['code']} | {r['import_per_s']:,.0f} | {r['segment_per_s']:,.0f} "
            f"| {r['rank_per_s']:,.0f} | {r['total_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} MB "
            f"| {r['mine_per_s']:,.0f} | {r['mine_peak_rss_mb']:,.0f} MB |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
