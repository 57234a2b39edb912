"""`python -m veil.sites up [FOLDER]`: start the two-site layout on loopback and print where to
reach it, until Ctrl-C. `python -m veil.sites drill [--async]`: run the site-loss drill once.

Exit codes come from the exception tree (SiteError and StoreError: 12, LedgerError: 7).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from veil.exceptions import VeilError
from veil.sites.drill import DrillOptions, run_drill
from veil.sites.postgres import PgPair, make_base_dir
from veil.sites.seaweed import SeaweedCluster


def _up(folder: Path, synchronous: bool) -> None:
    base = make_base_dir()
    try:
        with SeaweedCluster(folder) as cluster, PgPair(base, synchronous=synchronous) as pg:
            s3 = cluster.s3
            out = sys.stdout
            for site, url in zip(cluster.sites, s3.urls, strict=True):
                out.write(f"S3 endpoint {site}:    {url} (bucket of your choice, region {s3.region})\n")
            out.write(f"S3 access key:      {s3.access_key} (secret in {folder / 's3-identities.json'})\n")
            out.write(f"SeaweedFS masters:  {cluster.masters()} (sites {', '.join(cluster.master_sites)})\n")
            out.write(f"Raft leader:        {cluster.master_url()} (/dir/status: copies per site)\n")
            out.write(f"PostgreSQL primary: {pg.primary.url()}\n")
            out.write(
                f"PostgreSQL standby: {pg.standby.url()} (streaming, {'sync' if synchronous else 'async'})\n"
            )
            out.write("Ctrl-C stops everything.\n")
            out.flush()
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _drill(synchronous: bool, options: DrillOptions) -> None:
    work = Path(tempfile.mkdtemp(prefix="veil-drill-"))
    base = make_base_dir()
    try:
        with SeaweedCluster(work / "seaweed") as cluster, PgPair(base, synchronous=synchronous) as pg:
            report = run_drill(cluster, pg, work, options)
        sys.stdout.write("\n".join(report.lines()) + "\n")
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m veil.sites", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the two-site layout and wait for Ctrl-C")
    up.add_argument("folder", type=Path, nargs="?", default=None, help="run folder (default: a new temp one)")
    drill = sub.add_parser("drill", help="run the site-loss drill once and print its figures")
    drill.add_argument("--recordings", type=int, default=50)
    drill.add_argument("--loss-after", type=int, default=30)
    for p in (up, drill):
        p.add_argument("--async", dest="asynchronous", action="store_true", help="asynchronous standby")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            _up(args.folder or Path(tempfile.mkdtemp(prefix="veil-sites-")), not args.asynchronous)
        else:
            options = DrillOptions(recordings=args.recordings, loss_after=args.loss_after)
            _drill(not args.asynchronous, options)
    except VeilError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
