"""Why the standby is synchronous: cut it off, keep writing, then lose the primary's site.

Asynchronous, the primary acknowledges the puts alone and they are gone after the promotion; the
ledger notices (its signed state file, kept with the key, is ahead of the promoted log) instead of
carrying on silently. Synchronous, the same puts stall and nothing acknowledged is lost. The
objects sit in a local folder: the point here is the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from veil.sites import PgPair
from veil.sites.drill import run_partition
from veil.store.backends import LocalFolderBackend

pytestmark = [pytest.mark.sites, pytest.mark.postgres]


def test_async_standby_loses_acknowledged_commits_and_the_ledger_says_so(
    make_pg_pair: Callable[[bool], PgPair], tmp_path: Path
) -> None:
    pg = make_pg_pair(False)
    report = run_partition(pg, LocalFolderBackend(tmp_path / "objects"), tmp_path, wait_s=4.0)
    assert len(report.acked_before_cut) == 10
    # Acknowledged by the primary alone (as many as the wait allowed: fewer on a loaded machine)...
    acked = len(report.acked_while_cut)
    assert acked >= 1
    assert report.lost == report.acked_while_cut  # ... and gone with it
    assert not report.ledger_ok
    assert f"signed state file records {10 + acked} entries but the log holds 10" in report.ledger_reason


def test_sync_standby_stalls_writes_instead_of_losing_them(
    make_pg_pair: Callable[[bool], PgPair], tmp_path: Path
) -> None:
    pg = make_pg_pair(True)
    report = run_partition(pg, LocalFolderBackend(tmp_path / "objects"), tmp_path, wait_s=4.0)
    assert len(report.acked_before_cut) == 10
    assert report.acked_while_cut == []  # every commit waited for the standby
    assert report.lost == []
    assert report.ledger_ok, report.ledger_reason
