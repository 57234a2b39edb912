"""Several processes opening a brand-new database at once (#14): on PostgreSQL, two racing
`CREATE TABLE IF NOT EXISTS` fail on the catalog's unique index (pg_type_typname_nsp_index). Every
Veil database user creates its tables through `veil.sqlengine.create_tables`, which serialises them."""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect
from tests.audit.conftest import pg_server  # noqa: F401 - fixture

from veil.access.directory import Directory
from veil.audit.store import Ledger
from veil.gateway.state import SendStore
from veil.server.db import make_engine as server_engine
from veil.store.catalog import open_catalog

OPENERS = 6  # concurrent openers per round


def _fresh_schema(pg_server: str) -> str:  # noqa: F811
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = pg_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{pg_server}/postgres?options=-csearch_path%3D{name}"


def _race(open_one: Callable[[], None]) -> list[Exception]:
    barrier, errors = threading.Barrier(OPENERS), list[Exception]()

    def run() -> None:
        barrier.wait()
        try:
            open_one()
        except Exception as exc:  # noqa: BLE001 - collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(OPENERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def _ledger(url: str, keys: Path) -> None:
    Ledger.open(url, keys).close()


def _send_store(url: str, _keys: Path) -> None:
    SendStore.open(url).close()


def _store_catalog(url: str, _keys: Path) -> None:
    open_catalog(url).dispose()


def _server(url: str, _keys: Path) -> None:
    server_engine(url).dispose()


def _directory(url: str, keys: Path) -> None:
    Directory.open(url, ledger=Ledger.open(f"sqlite:///{keys / 'ledger.sqlite3'}", keys)).close()


@pytest.mark.postgres
@pytest.mark.parametrize("opener", [_ledger, _send_store, _store_catalog, _server, _directory])
def test_opening_a_new_database_at_once(
    pg_server: str,  # noqa: F811
    tmp_path: Path,
    opener: Callable[[str, Path], None],
) -> None:
    for round_ in range(4):  # the race needs a fresh schema each time
        url = _fresh_schema(pg_server)
        keys = tmp_path / f"keys{round_}"
        errors = _race(functools.partial(opener, url, keys))
        assert errors == [], [f"{type(e).__name__}: {e}"[:300] for e in errors]
        # and the tables are really there
        from sqlalchemy import create_engine

        engine = create_engine(url)
        try:
            assert inspect(engine).get_table_names()
        finally:
            engine.dispose()
