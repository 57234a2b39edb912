"""SQLAlchemy 2 tables of the ledger and the engine set-up that makes appends single-writer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Engine, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from veil import sqlengine
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


def make_engine(url: str) -> Engine:
    """An engine for `url`; LedgerError for a URL SQLAlchemy cannot use."""
    return sqlengine.make_engine(url, error=LedgerError, what="ledger", immediate_option=WRITE_OPTION)


def _is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")
