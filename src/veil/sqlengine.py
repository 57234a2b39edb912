"""One way to open a SQLAlchemy engine for Veil's databases (ledger, store catalog, access tables).

SQLite gets a 30 s busy timeout, WAL and foreign keys, and BEGIN issued by us: a transaction started
on a connection carrying the `immediate_option` execution option takes the write lock up front
(BEGIN IMMEDIATE), so two writers queue instead of one failing on a lock upgrade. An in-memory
SQLite URL shares one connection. A URL SQLAlchemy cannot use raises `error` naming `what`.

`create_tables` makes missing tables with several processes starting at once: on PostgreSQL two
`CREATE TABLE IF NOT EXISTS` racing each other fail on the catalog's unique index (pg_type), so the
check and the creation run in one transaction under an advisory lock; on SQLite under the write lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from veil.exceptions import VeilError

_BUSY_TIMEOUT_S = 30.0


def is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or url.startswith("sqlite:///:memory:")


def _set_wal(cursor: Any) -> None:
    """Switch to WAL. The switch takes an exclusive lock and SQLite does not run the busy handler
    for it: connections opening a brand-new file at once get "database is locked" at once. Retry
    for as long as the busy timeout would have waited."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the "begin" hook issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
    # WAL: one fsync per commit instead of journal + database, and readers never block the writer.
    _set_wal(cursor)
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def make_engine(url: str, *, error: type[VeilError], what: str, immediate_option: str) -> Engine:
    try:
        if url.startswith("sqlite") and is_memory(url):
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        elif url.startswith("sqlite"):
            engine = create_engine(url)
        else:  # a server: a connection it dropped (restart, failover) is replaced, not handed out
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise error(
            f"cannot use {what} database URL ({type(exc).__name__}); expected e.g. sqlite:///path "
            "or postgresql+psycopg://user@host/db"
        ) from exc
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and not is_memory(url):
            Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)

        def begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get(immediate_option, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", begin)
    return engine


# Any fixed 64-bit key: the lock serialises table creation across every Veil database user.
_DDL_LOCK_KEY = 0x7665696C_00DD1


def create_tables(
    engine: Engine, metadata: MetaData, *, immediate_option: str, tables: Sequence[Table] | None = None
) -> None:
    """Create the missing tables of `metadata` (or only `tables`), safe against other processes
    doing the same at the same moment. Raises SQLAlchemyError as `create_all` does."""
    with engine.execution_options(**{immediate_option: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK_KEY})
        metadata.create_all(conn, tables=tables)
