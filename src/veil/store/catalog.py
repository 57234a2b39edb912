"""The store's catalog: objects, their wrapped data keys, retention classes and the ledger outbox.

SQLAlchemy 2; SQLite by default (`default_catalog_url()`), PostgreSQL in production. The unique
key (recording_id, segment, klass, policy_version) makes a put idempotent even when two processes
race: the second insert fails and that process returns the first object.

The outbox holds ledger entries decided in the same transaction as the catalog change they
describe ("object-stored" with the new row, "deletion" with the shredded key row). They are
appended to the ledger afterwards, exactly once (see `RecordingStore._flush`), so a crash between
the catalog commit and the ledger append loses no entry and duplicates none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from veil import sqlengine
from veil.exceptions import StoreError
from veil.store.models import ObjectClass, StoredObject

WRITE = "veil_store_write"


class Base(DeclarativeBase):
    pass


class ObjectRow(Base):
    __tablename__ = "veil_store_objects"
    __table_args__ = (
        UniqueConstraint("recording_id", "segment", "klass", "policy_version", name="uq_veil_store_slot"),
    )

    object_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    recording_id: Mapped[str] = mapped_column(String(200), index=True)
    segment: Mapped[int] = mapped_column(Integer)
    klass: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(200), index=True)
    backend_key: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    shredded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shred_reason: Mapped[str | None] = mapped_column(String(200))

    def to_model(self) -> StoredObject:
        return StoredObject(
            object_id=self.object_id,
            klass=ObjectClass(self.klass),
            owner=self.owner,
            recording_id=self.recording_id,
            segment=self.segment,
            policy_version=self.policy_version,
            size=self.size,
            sha256=self.sha256,
            created_at=as_utc(self.created_at),
            expires_at=as_utc(self.expires_at),
            shredded=self.shredded_at is not None,
        )


class DataKeyRow(Base):
    """An object's data key, wrapped by the key-encryption key `kek_id`. Deleting this row is
    the crypto-shred: without it the ciphertext is noise."""

    __tablename__ = "veil_store_data_keys"

    object_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("veil_store_objects.object_id"), primary_key=True
    )
    kek_id: Mapped[str] = mapped_column(String(200))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class RetentionRow(Base):
    """Days each class is kept, as last set (by the policy in force when the store was opened)."""

    __tablename__ = "veil_store_retention"

    klass: Mapped[str] = mapped_column(String(16), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """A ledger entry decided with a catalog change and not yet confirmed appended. `ledger_from`
    is the ledger size before the change committed: the entry, if appended, is at or after it."""

    __tablename__ = "veil_store_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    object_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(Text)
    ledger_from: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: everything the catalog stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def open_catalog(url: str) -> Engine:
    """An engine for `url` with the tables created; StoreError when it cannot be used."""
    engine = sqlengine.make_engine(url, error=StoreError, what="catalog", immediate_option=WRITE)
    try:
        sqlengine.create_tables(engine, Base.metadata, immediate_option=WRITE)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the catalog database ({type(exc).__name__})") from exc
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        Path(str(engine.url.database)).chmod(0o600)
    return engine
