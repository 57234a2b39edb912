"""One way to open a SQLAlchemy engine for Veil's databases (ledger, store catalog, access tables).

SQLite gets a 30 s busy timeout, WAL and foreign keys, and BEGIN issued by us: a transaction started
on a connection carrying the `immediate_option` execution option takes the write lock up front
(BEGIN IMMEDIATE), so two writers queue instead of one failing on a lock upgrade. An in-memory
SQLite URL shares one connection. A URL SQLAlchemy cannot use raises `error` naming `what`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from veil.exceptions import VeilError


def is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or url.startswith("sqlite:///:memory:")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the "begin" hook issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 30000")
    # WAL: one fsync per commit instead of journal + database, and readers never block the writer.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def make_engine(url: str, *, error: type[VeilError], what: str, immediate_option: str) -> Engine:
    try:
        if url.startswith("sqlite") and is_memory(url):
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            engine = create_engine(url)
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
