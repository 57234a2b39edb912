"""SQLAlchemy 2 tables of the ledger and the engine set-up that makes appends single-writer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, LargeBinary, String, Text, create_engine, event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from veil.exceptions import LedgerError

WRITE_OPTION = "veil_ledger_write"


class Base(DeclarativeBase):
    pass


class EntryRow(Base):
    """One appended event. `body` is the exact leaf data; the other columns repeat parts of it for
    queries, and `verify` checks that they agree. `head_sig` signs the checkpoint of size seq + 1."""

    __tablename__ = "veil_ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    head_sig: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CheckpointRow(Base):
    __tablename__ = "veil_ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StateRow(Base):
    """The single row every append locks: tree size, compact range and the signing key's origin."""

    __tablename__ = "veil_ledger_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    origin: Mapped[str | None] = mapped_column(String(200))


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let the "begin" hook below issue BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 30000")
    # WAL: one fsync per commit instead of journal + database, and readers never block the writer.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front, so two appenders queue instead of forking the tree.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for `url`; LedgerError for a URL SQLAlchemy cannot use."""
    try:
        if url.startswith("sqlite") and _is_memory(url):
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise LedgerError(
            f"cannot use ledger database URL ({type(exc).__name__}); expected e.g. sqlite:///path "
            "or postgresql+psycopg://user@host/db"
        ) from exc
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and not _is_memory(url):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")
