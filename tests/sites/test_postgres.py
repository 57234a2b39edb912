"""The PostgreSQL launcher: the standby streams synchronously, survives the primary's loss with
every acknowledged commit, and takes writes once promoted."""

from __future__ import annotations

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
