"""Site loss on the two-site layout: recovery time and what was lost, synchronous vs asynchronous.

    python -m bench.sites [--runs 1] [--recordings 50] [--loss-after 30] [--no-async] [--partition]

Each run starts a fresh SeaweedFS cluster (dc1, dc2 and a tie-breaker master, replication 100)
and PostgreSQL pair on loopback and runs `veil.sites.drill` (the same drill as
tests/sites/test_site_loss.py): recordings stored through the store (both sites' S3 gateways)
while the whole of dc1 (S3 gateway, filer, volume server, master holding the Raft leadership) and
the PostgreSQL primary are lost after `--loss-after` of them; a new Raft leader elected, the
standby promoted, single-copy writes accepted on dc2, the application repointed. With
an asynchronous standby a commit acknowledged just before the loss can be missing on the standby:
the "lost" rows count acknowledged recordings and ledger entries the promoted standby lacks.
On loopback the standby is never behind by more than microseconds, so --partition forces the
case: the standby is cut off first (stopped), writes go on for a few seconds, then the primary's
site is lost and the standby, started again, is promoted.
Each run then brings dc1 back (`run_return`): objects copied to it, a new synchronous standby built
there, ten more recordings stored, and the other site, dc2, lost; every recording of both rounds
must read back through dc1.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from veil.sites import PgPair, SeaweedCluster, make_base_dir
from veil.sites.drill import DrillOptions, DrillReport, ReturnReport, run_drill, run_partition, run_return
from veil.store.backends import LocalFolderBackend


def one_run(synchronous: bool, options: DrillOptions) -> tuple[DrillReport, ReturnReport]:
    work = Path(tempfile.mkdtemp(prefix="veil-bench-sites-"))
    base = make_base_dir()
    try:
        with SeaweedCluster(work / "seaweed") as cluster, PgPair(base, synchronous=synchronous) as pg:
            first = run_drill(cluster, pg, work, options)
            return first, run_return(cluster, pg, work, first, options)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def figures(runs: list[tuple[DrillReport, ReturnReport]]) -> dict[str, str]:
    reports = [first for first, _ in runs]
    returns = [again for _, again in runs]

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.2f}" if values else "-"

    def total(values: list[int]) -> str:
        return str(sum(values))

    return {
        "runs": str(len(reports)),
        "recordings acknowledged": total([len(r.acked) for r in reports]),
        "  of them before the loss": total([len(r.acked_before_loss) for r in reports]),
        "acknowledged recordings lost": total([len(r.lost) for r in reports]),
        "acknowledged recordings unreadable": total([len(r.unreadable) for r in reports]),
        "ledger entries lost or changed": total(
            [sum(1 for s, b in r.entries_before.items() if r.entries_after.get(s) != b) for r in reports]
        ),
        "failed puts (retried)": total([len(r.failures) for r in reports]),
        "Raft leader elected after loss, s (median)": med([r.leader_elected_s for r in reports]),
        "standby writable after loss, s (median)": med([r.standby_writable_s for r in reports]),
        "first write after loss, s (median)": med([r.recovery_s for r in reports]),
        "first write after loss, s (min)": f"{min(r.recovery_s for r in reports):.2f}",
        "first write after loss, s (max)": f"{max(r.recovery_s for r in reports):.2f}",
        "first write begun after loss, s (median)": med([r.new_write_s for r in reports]),
        "first write begun after loss, s (max)": f"{max(r.new_write_s for r in reports):.2f}",
        "ledger verifies": f"{sum(r.ledger_ok for r in reports)}/{len(reports)}",
        "orphan objects removed by reconcile": total([r.orphans_deleted for r in reports]),
        "  of them completed by a gateway after the first reconcile": total(
            [r.late_orphans for r in reports]
        ),
        "writer on dc2's gateway at the end": f"{sum(r.endpoint_after == r.endpoints[-1] for r in reports)}/"
        f"{len(reports)}",
        "unexpected errors": total([r.unexpected is not None for r in reports]),
        "dc1 back: re-protected after, s (median)": med([r.reprotect_s for r in returns]),
        "  objects on both sites again, s (median)": med([r.objects_reprotect_s for r in returns]),
        "  new standby streaming, s (median)": med([r.database_reprotect_s for r in returns]),
        "then dc2 lost: recordings of both rounds read back": total(
            [sum(r.read_back.values()) for r in returns]
        )
        + f"/{sum(len(r.acked) for r in returns)}",
        "  ledger verifies": f"{sum(r.ledger_ok for r in returns)}/{len(returns)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--recordings", type=int, default=50)
    parser.add_argument("--loss-after", type=int, default=30)
    parser.add_argument("--no-async", action="store_true", help="only the synchronous standby")
    parser.add_argument("--partition", action="store_true", help="also cut the standby off first")
    args = parser.parse_args()
    options = DrillOptions(recordings=args.recordings, loss_after=args.loss_after)
    modes = [True] if args.no_async else [True, False]
    console = Console(width=110)
    columns: dict[bool, dict[str, str]] = {}
    for synchronous in modes:
        reports = []
        for n in range(args.runs):
            console.print(f"[dim]{'sync' if synchronous else 'async'} run {n + 1}/{args.runs}[/dim]")
            reports.append(one_run(synchronous, options))
        columns[synchronous] = figures(reports)
    table = Table(
        title=f"site loss: {args.recordings} recordings, dc1 + primary lost after {args.loss_after}"
    )
    table.add_column("figure")
    for synchronous in modes:
        table.add_column("synchronous standby" if synchronous else "asynchronous standby", justify="right")
    for key in columns[True]:
        table.add_row(key, *(columns[m][key] for m in modes))
    console.print(table)
    if args.partition:
        part = {m: partition_run(m) for m in modes}
        ptable = Table(title="standby cut off first, then the primary's site lost")
        ptable.add_column("figure")
        for synchronous in modes:
            ptable.add_column(
                "synchronous standby" if synchronous else "asynchronous standby", justify="right"
            )
        for key in part[True]:
            ptable.add_row(key, *(part[m][key] for m in modes))
        console.print(ptable)


def partition_run(synchronous: bool) -> dict[str, str]:
    """veil.sites.drill.run_partition on a fresh PostgreSQL pair (objects in a local folder)."""
    work = Path(tempfile.mkdtemp(prefix="veil-bench-sites-"))
    base = make_base_dir()
    try:
        with PgPair(base, synchronous=synchronous) as pg:
            r = run_partition(pg, LocalFolderBackend(work / "objects"), work, wait_s=5.0)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "acknowledged before the cut": str(len(r.acked_before_cut)),
        "acknowledged while cut off (5 s)": str(len(r.acked_while_cut)),
        "acknowledged recordings lost": str(len(r.lost)),
        "ledger verifies on the new primary": "yes"
        if r.ledger_ok
        else f"no: {r.ledger_reason.split(':')[0]}",
    }


if __name__ == "__main__":
    main()
