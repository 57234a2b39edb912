"""The gateway's own records, kept in the ledger's database (table `veil_gateway_sends`): one row per
send attempt with its frame and byte counts (for rate limits), its outcome, and the answer (for
idempotent replays). The ledger stays the proof of what left; this table is the gateway's memory.

Outcomes: NULL while in flight, "sent", "failed", or an operator's decision on an interrupted send,
"abandoned" (never send this payload to this destination again) or "resend-approved" (send it once
more; the new attempt's row names the old one in `supersedes`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, DateTime, Engine, String, Text, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from veil.audit._tables import WRITE_OPTION, make_engine
from veil.exceptions import LedgerError
from veil.gateway.base import ProviderAnswer
from veil.sqlengine import create_tables

SENT, FAILED, ABANDONED, RESEND_APPROVED = "sent", "failed", "abandoned", "resend-approved"


class _Base(DeclarativeBase):
    pass


class SendRow(_Base):
    __tablename__ = "veil_gateway_sends"

    intent_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    destination: Mapped[str] = mapped_column(String(40), index=True)
    payload_sha256: Mapped[str] = mapped_column(String(64), index=True)
    frames: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    supersedes: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ClaimRow(_Base):
    """One in-flight send per (destination, payload): a second process trying the same send at the
    same time fails to insert this row instead of sending a duplicate."""

    __tablename__ = "veil_gateway_claims"

    destination: Mapped[str] = mapped_column(String(40), primary_key=True)
    payload_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LimitRow(_Base):
    """One row per destination, written first in every reservation: the lock that makes "check the
    rate limits, then record the attempt" one step across processes (a row lock on PostgreSQL,
    the write lock on SQLite)."""

    __tablename__ = "veil_gateway_limits"

    destination: Mapped[str] = mapped_column(String(40), primary_key=True)
    reservations: Mapped[int] = mapped_column(BigInteger)


# Called under the destination's lock with (frames in the last hour, bytes in the last day);
# raises to refuse the attempt.
LimitCheck = Callable[[int, int], None]
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


class SendStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Every write takes the write lock first (BEGIN IMMEDIATE on SQLite): a transaction that
        # read before writing could not upgrade while another process writes ("database is locked").
        self._writer = engine.execution_options(**{WRITE_OPTION: True})

    @classmethod
    def open(cls, url: str) -> SendStore:
        """The store in the database at `url` (the ledger's, normally), tables made if missing."""
        try:
            engine = make_engine(url)
            create_tables(engine, _Base.metadata, immediate_option=WRITE_OPTION)
        except (SQLAlchemyError, ImportError, LedgerError) as exc:
            raise LedgerError(f"cannot open the gateway's send records: {type(exc).__name__}") from exc
        return cls(engine)

    def close(self) -> None:
        self._engine.dispose()

    def claim(self, destination: str, payload_sha256: str, stale_after: timedelta) -> bool:
        """Take the in-flight claim; False if another live send holds it. A claim older than
        `stale_after` is taken over (its holder died before it could send or release it)."""
        try:
            with Session(self._writer) as s, s.begin():
                old = s.get(ClaimRow, (destination, payload_sha256))
                if old is not None:
                    if _aware(old.claimed_at) > _now() - stale_after:
                        return False
                    s.delete(old)
                    s.flush()
                s.add(ClaimRow(destination=destination, payload_sha256=payload_sha256, claimed_at=_now()))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise LedgerError(f"cannot write the gateway's send records: {type(exc).__name__}") from exc
        return True

    def release(self, destination: str, payload_sha256: str) -> None:
        def delete(s: Session) -> None:
            row = s.get(ClaimRow, (destination, payload_sha256))
            if row is not None:
                s.delete(row)

        self._write(delete)

    def record_intent(
        self,
        intent_id: str,
        destination: str,
        payload_sha256: str,
        frames: int,
        size: int,
        supersedes: str | None = None,
    ) -> None:
        row = SendRow(
            intent_id=intent_id,
            destination=destination,
            payload_sha256=payload_sha256,
            frames=frames,
            size=size,
            started_at=_now(),
            supersedes=supersedes,
        )
        self._write(lambda s: s.add(row))

    def reserve(
        self,
        intent_id: str,
        destination: str,
        payload_sha256: str,
        frames: int,
        size: int,
        check: LimitCheck,
        supersedes: str | None = None,
    ) -> None:
        """Record an attempt only if `check` accepts the usage so far, both under the destination's
        lock: processes sending at once never pass the limits together."""

        def ensure(s: Session) -> None:
            if s.get(LimitRow, destination) is None:
                s.add(LimitRow(destination=destination, reservations=0))

        self._write(ensure, duplicate_ok=True)

        def take(s: Session) -> None:
            s.execute(
                update(LimitRow)
                .where(LimitRow.destination == destination)
                .values(reservations=LimitRow.reservations + 1)
            )  # first statement: takes the lock before anything is read
            check(self._usage(s, destination, HOUR)[0], self._usage(s, destination, DAY)[1])
            s.add(
                SendRow(
                    intent_id=intent_id,
                    destination=destination,
                    payload_sha256=payload_sha256,
                    frames=frames,
                    size=size,
                    started_at=_now(),
                    supersedes=supersedes,
                )
            )

        self._write(take)

    def finish(self, intent_id: str, outcome: str, answer: ProviderAnswer | None = None) -> None:
        def update(s: Session) -> None:
            row = s.get(SendRow, intent_id)
            if row is None:
                raise LedgerError(f"no gateway record of intent {intent_id}")
            row.outcome, row.finished_at = outcome, _now()
            if answer is not None:
                row.answer = json.dumps(answer.to_json(), ensure_ascii=False)
                row.answer_sha256 = answer.sha256()

        self._write(update)

    def get(self, intent_id: str) -> SendRow | None:
        with Session(self._engine, expire_on_commit=False) as s:
            return s.get(SendRow, intent_id)

    def sent_answer(self, destination: str, payload_sha256: str) -> ProviderAnswer | None:
        """The stored answer of a completed send of this payload to this destination."""
        query = select(SendRow).where(
            SendRow.destination == destination,
            SendRow.payload_sha256 == payload_sha256,
            SendRow.outcome == SENT,
        )
        with Session(self._engine) as s:
            row = s.scalars(query.order_by(SendRow.started_at)).first()
            return ProviderAnswer.from_json(json.loads(row.answer)) if row and row.answer else None

    def decisions(self, destination: str, payload_sha256: str) -> list[SendRow]:
        """Operator decisions on interrupted sends of this payload, newest first."""
        query = select(SendRow).where(
            SendRow.destination == destination,
            SendRow.payload_sha256 == payload_sha256,
            SendRow.outcome.in_((ABANDONED, RESEND_APPROVED)),
        )
        with Session(self._engine, expire_on_commit=False) as s:
            return list(s.scalars(query.order_by(SendRow.finished_at.desc())))

    def superseded(self, intent_id: str) -> bool:
        with Session(self._engine) as s:
            return s.scalar(select(func.count()).where(SendRow.supersedes == intent_id)) != 0

    def usage(self, destination: str, window: timedelta) -> tuple[int, int]:
        """Frames and bytes of every attempt (whatever its outcome) started within `window`."""
        with Session(self._engine) as s:
            return self._usage(s, destination, window)

    @staticmethod
    def _usage(s: Session, destination: str, window: timedelta) -> tuple[int, int]:
        since = _now() - window
        query = select(func.coalesce(func.sum(SendRow.frames), 0), func.coalesce(func.sum(SendRow.size), 0))
        query = query.where(SendRow.destination == destination, SendRow.started_at >= since)
        frames, size = s.execute(query).one()
        return int(frames), int(size)

    def _write(self, action: Callable[[Session], object], *, duplicate_ok: bool = False) -> None:
        try:
            with Session(self._writer) as s, s.begin():
                action(s)
        except IntegrityError:
            if not duplicate_ok:  # another process inserted the same row first: that is all we wanted
                raise LedgerError("cannot write the gateway's send records: IntegrityError") from None
        except SQLAlchemyError as exc:
            raise LedgerError(f"cannot write the gateway's send records: {type(exc).__name__}") from exc


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; everything here is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)
