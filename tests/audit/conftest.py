"""Ledger fixtures: every ledger test runs on SQLite and on a real, throwaway PostgreSQL cluster.

The cluster is made once per session with the Debian binaries (/usr/lib/postgresql/<ver>/bin or PATH;
the lookup, root handling and command runner are shared with veil.sites.postgres),
in a fresh temporary folder, on a free loopback port with its unix socket beside it. initdb refuses to
run as root, so as root the server runs as the `postgres` system user that Debian's package makes
(or a `veilpg` system user created here); the folder is given to that user, since pytest's own tmp
folders are private to root. If PostgreSQL cannot start, the postgres tests FAIL (never skip).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from veil.sites import SiteError
from veil.sites._proc import free_port
from veil.sites.postgres import make_base_dir, pg_bindir, run_as, server_user


def _pg_bindir() -> Path:
    try:
        return pg_bindir()
    except SiteError as exc:
        pytest.fail(str(exc))


def _run(cmd: list[str], user: str | None, log: Path | None = None) -> None:
    try:
        run_as(cmd, user, log)
    except SiteError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A running throwaway PostgreSQL; yields a server URL without database name."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed: pip install 'psycopg[binary]==3.3.9'")
    bindir, user = _pg_bindir(), server_user()
    base = make_base_dir()
    data, log, port = base / "data", base / "server.log", free_port()
    _run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "veil", "--auth=trust", "-E", "UTF8", "--no-sync"],
        user,
    )
    options = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    _run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
        user,
        log,
    )
    try:
        yield f"postgresql+psycopg://veil@127.0.0.1:{port}"
    finally:
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user, log)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh schema on the session's server (cheaper than a database), dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = pg_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield f"{pg_server}/postgres?options=-csearch_path%3D{name}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"
