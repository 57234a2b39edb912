"""The PostgreSQL launcher: the standby streams synchronously, survives the primary's loss with
every acknowledged commit, and takes writes once promoted."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from veil.sites import PgPair, SiteError

pytestmark = [pytest.mark.sites, pytest.mark.postgres]


def test_standby_is_synchronous_and_takes_over_with_every_commit(pg_pair: PgPair) -> None:
    with psycopg.connect(pg_pair.primary.conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT state, sync_state FROM pg_stat_replication").fetchone()
        assert row == ("streaming", "sync")
        conn.execute("CREATE TABLE probe (n int PRIMARY KEY)")
        for n in range(20):
            conn.execute("INSERT INTO probe VALUES (%s)", (n,))
    with psycopg.connect(pg_pair.standby.conninfo(), autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute("INSERT INTO probe VALUES (100)")  # read-only while a standby

    pg_pair.stop_primary()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg_pair.primary.conninfo())
    pg_pair.promote()
    assert pg_pair.url == pg_pair.standby.url()
    with psycopg.connect(pg_pair.standby.conninfo(), autocommit=True) as conn:
        conn.execute("INSERT INTO probe VALUES (100)")
        got = [r[0] for r in conn.execute("SELECT n FROM probe ORDER BY n")]
    assert got == [*range(20), 100]


def test_a_failing_server_command_names_itself(pg_pair: PgPair) -> None:
    from veil.sites.postgres import run_as

    with pytest.raises(SiteError, match="PostgreSQL command failed"):
        run_as([str(pg_pair.bindir / "pg_ctl"), "-D", "/nonexistent-veil", "status"], pg_pair.user)


def test_a_new_standby_on_the_returned_site_protects_against_losing_the_other(
    make_pg_pair: Callable[[bool], PgPair],
) -> None:
    pair = make_pg_pair(True)

    def insert(first: int, count: int) -> None:
        with psycopg.connect(pair.active.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS probe (n int PRIMARY KEY)")
            for n in range(first, first + count):
                conn.execute("INSERT INTO probe VALUES (%s)", (n,))

    insert(0, 10)
    first_primary = pair.primary
    pair.stop_primary()
    pair.promote()
    insert(10, 10)  # on the promoted standby, with no second copy yet
    seconds = pair.reprotect()
    assert seconds < 60
    assert pair.primary is not first_primary and not first_primary.data.exists()
    # The promoted node now waits for the new standby on every commit, as the first primary did.
    with psycopg.connect(pair.primary.conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT state, sync_state FROM pg_stat_replication").fetchone()
        assert row == ("streaming", "sync")
    insert(20, 10)
    # The second site is lost now: the new standby holds every acknowledged commit of both rounds.
    pair.stop_primary()
    pair.promote()
    assert pair.url == pair.standby.url()
    insert(30, 1)
    with psycopg.connect(pair.active.conninfo(), autocommit=True) as conn:
        got = [r[0] for r in conn.execute("SELECT n FROM probe ORDER BY n")]
    assert got == list(range(31))


def test_reprotect_refuses_while_the_first_primary_runs(make_pg_pair: Callable[[bool], PgPair]) -> None:
    pair = make_pg_pair(True)
    with pytest.raises(SiteError, match="promoted standby"):
        pair.reprotect()  # two primaries would split the history
