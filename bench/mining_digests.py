"""Digests of `veil mine`'s outputs, to show that a change leaves them byte for byte the same.

For each log, `mine()` runs into a fresh folder and the sha256 of each output is printed as one
JSON object per line: events.csv, report.html without its "Generated" minute, the candidates as
`veil mine --json` prints them (without the folder's path) and, on the real streams (mined with
and without XES: without, `veil mine` takes the bounded path), events.xes.
The logs: 16 streams built from the real UI logs of `bench.uilog_streams` (every pair and the
triple of labelled logs, each kind, 10 % noise, seed 1, and the four streams the tests mine) and,
with `--sizes`, the generated logs of `bench.mining_scale`. Run it on two commits (`--src` takes
another tree's `src`) and under two hash seeds, then compare the lines.

Run: `.venv/bin/python -m bench.mining_digests [--sizes 100000 1000000] [--no-streams] [--src DIR]`
(`PYTHONHASHSEED` is passed on to each run).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.uilog_streams import LABELLED, Kind, StreamSpec, build

ROOT = Path(__file__).resolve().parent.parent
_GENERATED = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def streams() -> dict[str, StreamSpec]:
    combos = [c for n in (2, 3) for c in itertools.combinations(LABELLED, n)]
    out = {
        f"{'+'.join(c)} {kind.name.lower()}": StreamSpec(types=c, kind=kind, seed=1, noise=0.1)
        for c in combos
        for kind in Kind
    }
    out["test interleaved-noise"] = StreamSpec(
        types=("StudentRecord", "CopyPaste"), kind=Kind.INTERLEAVED, seed=4, instances=8, noise=0.1
    )
    out["test three-sequential"] = StreamSpec(types=tuple(LABELLED), kind=Kind.SEQUENTIAL, seed=1)
    out["test outputs"] = StreamSpec(
        types=("Reimbursement", "StudentRecord"), kind=Kind.INTERLEAVED, seed=2, instances=6
    )
    out["test strong"] = StreamSpec(
        types=("Reimbursement", "StudentRecord"), kind=Kind.STRONG, seed=4, instances=8, noise=0.1
    )
    return out


def digest(log: Path, xes: bool) -> dict[str, str]:
    from veil.mining.cli import MineOptions, _summary_json, mine

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        summary = mine([log], out, MineOptions(xes=xes))
        found = {
            "events.csv": (out / "events.csv").read_bytes(),
            "report.html": _GENERATED.sub(b"", (out / "report.html").read_bytes()),
            "candidates": json.dumps(_summary_json(summary)["candidates"]).encode(),
        }
        if xes:
            found["events.xes"] = (out / "events.xes").read_bytes()
    return {k: hashlib.sha256(v).hexdigest()[:16] for k, v in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[])
    parser.add_argument("--no-streams", action="store_true")
    parser.add_argument("--no-xes-streams", action="store_true", help="mine the streams without XES only")
    parser.add_argument("--src", type=Path, help="another tree's src folder to measure")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(digest(Path(args.one[0]), args.one[1] == "xes")))
        return
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (args.src or ROOT / "src", ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        logs: list[tuple[str, Path, bool]] = []
        if not args.no_streams:
            for number, (name, spec) in enumerate(streams().items()):
                path = Path(tmp) / f"{number}.csv"  # the name is in events.csv and the report
                build(spec).frame().to_csv(path, index=False)
                if not args.no_xes_streams:
                    logs.append((name, path, True))
                logs.append((f"{name}, no XES", path, False))
        for size in args.sizes:
            from bench.mining_scale import write_log

            path = Path(tmp) / f"log-{size}.csv"
            write_log(path, size)
            logs.append((f"generated {size}", path, False))
        for name, path, xes in logs:
            done = subprocess.run(
                [sys.executable, "-m", "bench.mining_digests", "--one", str(path), "xes" if xes else "-"],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            print(json.dumps({"log": name, **json.loads(done.stdout.strip().splitlines()[-1])}), flush=True)


if __name__ == "__main__":
    main()
