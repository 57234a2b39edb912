"""The server's own tables in the catalog database (SQLite by default, PostgreSQL by URL).

Only metadata lives here: devices and their public keys, the uplink's nonce book, what each stored
segment holds (counts by type, never values), the portal's pause switches and requests, the
deployment gate, policy versions, mining runs and batch redaction jobs. Segment bytes go to the
store (`sink.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    Float,
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


class Base(DeclarativeBase):
    pass


class DeviceRow(Base):
    __tablename__ = "veil_srv_devices"

    device_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    public_key: Mapped[str] = mapped_column(Text)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NonceRow(Base):
    __tablename__ = "veil_srv_nonces"

    device_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)


class SegmentRow(Base):
    __tablename__ = "veil_srv_segments"
    __table_args__ = (UniqueConstraint("recording_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(200), index=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    frames: Mapped[int] = mapped_column(Integer)
    frames_masked_whole: Mapped[int] = mapped_column(Integer)
    counts: Mapped[str] = mapped_column(Text)  # JSON {type: count}
    policy_version: Mapped[str] = mapped_column(String(200))
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecordingRow(Base):
    """One line per recording, kept up to date with each segment so the list is one indexed query."""

    __tablename__ = "veil_srv_recordings"

    recording_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    device_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    segments: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    frames_masked_whole: Mapped[int] = mapped_column(Integer)
    counts: Mapped[str] = mapped_column(Text)
    policy_version: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PauseRow(Base):
    __tablename__ = "veil_srv_pauses"

    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RequestRow(Base):
    """An employee's objection, export or deletion request, with its deadline."""

    __tablename__ = "veil_srv_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="open")
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class GateRow(Base):
    """One recorded step of the deployment gate (notice, consultation, purpose, impact assessment)."""

    __tablename__ = "veil_srv_gate"

    step: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class PolicyRow(Base):
    __tablename__ = "veil_srv_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(200), unique=True)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MiningRunRow(Base):
    __tablename__ = "veil_srv_mining_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # running | done | failed
    result: Mapped[str] = mapped_column(Text, default="")  # JSON summary of the candidates
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class RedactionJobRow(Base):
    """A batch redaction job: a recording made elsewhere, uploaded, redacted, stored. Its upload
    lives in `folder` (under the data folder) only while the job is queued or running, encrypted
    under a key of its own that `wrapped_key` holds wrapped by the store's key-encryption key and
    that is destroyed (set to NULL) when the job ends; no file name is kept, only the extension
    the decoder needs."""

    __tablename__ = "veil_srv_redaction_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    folder: Mapped[str] = mapped_column(String(64), unique=True)  # random name of the job's folder
    suffix: Mapped[str] = mapped_column(String(8))  # .mp4 | .mkv | .mov | .webm
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    kek_id: Mapped[str] = mapped_column(String(64), default="")
    recording_id: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str] = mapped_column(String(200))
    submitted_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(200))
    policy_version: Mapped[str] = mapped_column(String(200))
    engine: Mapped[str] = mapped_column(String(20))
    input_sha256: Mapped[str] = mapped_column(String(64))
    input_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued | running | done | failed
    error: Mapped[str] = mapped_column(Text, default="")
    frames: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class EgressLinkRow(Base):
    """Which recordings an egress intent's payload came from (for the employee portal)."""

    __tablename__ = "veil_srv_egress_links"

    intent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recording_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class SessionRow(Base):
    """A logged-in browser: the session id's SHA-256 (the cookie holds the id), whose, until when.
    Logout deletes the row, so a copied cookie stops working at once."""

    __tablename__ = "veil_srv_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailureRow(Base):
    """A failed login, under keyed hashes of the account name and the client address (a name typed
    at the login can be anything, even a password: it is never stored in clear)."""

    __tablename__ = "veil_srv_login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), index=True)  # HMAC-SHA256 of "account:..." / "address:..."
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PayloadLinkRow(Base):
    """Which recordings a payload (by its SHA-256, as the gateway's egress intents name it) was
    built from; written before the send, so every attempt's intent is linkable even when the
    server dies before it learns the intent id."""

    __tablename__ = "veil_srv_payload_links"

    payload_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    recording_id: Mapped[str] = mapped_column(String(64), primary_key=True)


def utc(dt: datetime) -> datetime:
    """A stored time in UTC: SQLite gives them back without a zone (they were written in UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


WRITE = "veil_server_write"


def make_engine(url: str) -> Engine:
    """An engine for the catalog at `url` with the tables created; StoreError when unusable."""
    engine = sqlengine.make_engine(url, error=StoreError, what="catalog", immediate_option=WRITE)
    try:
        sqlengine.create_tables(engine, Base.metadata, immediate_option=WRITE)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the catalog database: {type(exc).__name__}") from exc
    return engine
