"""Task-mining scale bench: import, segment and rank up to a million UI events on one core.

The log is built from the real streams of `bench.uilog_streams` (three task types interleaved,
10 % noise) repeated for as many users as it takes, each user's copy shifted in time, and written
as one Action Logger CSV. Each size runs in a fresh process (one thread), so its peak memory is
its own. Reports events per second of the import (`read_action_logger`), of the segmentation
(`segment`) and of the ranking (`rank_candidates`), and the peak resident memory.

Run: `.venv/bin/python -m bench.mining_scale [--sizes 100000 1000000]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.rss import own_peak_rss_mb
from bench.uilog_streams import LABELLED, Kind, StreamSpec, build


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"log-{size}.csv"
            write_log(path, size)
            out = subprocess.run(
                [sys.executable, "-m", "bench.mining_scale", "--one", str(path)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            path.unlink()
    print("| events | import events/s | segment events/s | rank events/s | end to end events/s | peak RSS |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['events']:,.0f} | {r['import_per_s']:,.0f} | {r['segment_per_s']:,.0f} "
            f"| {r['rank_per_s']:,.0f} | {r['total_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} MB |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
