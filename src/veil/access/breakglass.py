"""Break-glass: the only way to raw footage. A reason, a second person of another role, a time limit.

    bg = BreakGlass(directory, options)
    req = bg.request("a.kim", "rec-42", "customer complaint #118: check what was on screen")
    grant = bg.approve(req.request_id, "p.officer")     # another person, another role, BREAK_GLASS_APPROVE
    bg.active_grant("a.kim", "rec-42")                 # the Grant until it expires, else None

Every step is a ledger entry: the request, the approval, denial or cancellation (and, on each raw read,
the store's RawAccessEvent built with `Grant.raw_access_event`). Approving is recorded first and
applied after (nobody holds a window the ledger does not show); denying and cancelling are applied
first and recorded after (a ledger outage never keeps a window open).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Integer, String, Table, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from veil.access._db import WRITE, Base, UtcDateTime
from veil.access.directory import Directory, check_name, check_reason
from veil.access.roles import Permission
from veil.audit.events import MAX_TEXT, BreakGlassDecisionEvent, BreakGlassRequestEvent, RawAccessEvent
from veil.exceptions import AccessDenied, InputError, StoreError
from veil.options import AccessOptions
from veil.sqlengine import create_tables


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Request:
    request_id: str
    requester: str
    recording_id: str
    reason: str
    minutes: int
    status: Status
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    expires_at: datetime | None = None  # approved: the end of the window


@dataclass(frozen=True)
class Grant:
    """An approved, open window: `holder` may read `recording_id`'s raw footage until `expires_at`."""

    grant_id: str
    holder: str
    recording_id: str
    reason: str
    approver: str
    expires_at: datetime

    def raw_access_event(self) -> RawAccessEvent:
        """The ledger entry for one raw read under this grant."""
        return RawAccessEvent(
            recording_id=self.recording_id,
            who=self.holder,
            why=self.reason,
            approver=self.approver,
            expires=self.expires_at,
        )


class RequestRow(Base):
    __tablename__ = "access_breakglass"

    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requester: Mapped[str] = mapped_column(String(64), index=True)
    recording_id: Mapped[str] = mapped_column(String(128), index=True)
    reason: Mapped[str] = mapped_column(String(MAX_TEXT))
    minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def to_request(self) -> Request:
        return Request(
            self.request_id,
            self.requester,
            self.recording_id,
            self.reason,
            self.minutes,
            Status(self.status),
            self.requested_at,
            self.decided_by,
            self.decided_at,
            self.expires_at,
        )


class BreakGlass:
    """Break-glass requests and grants in the directory's catalog, recorded in its ledger."""

    def __init__(self, directory: Directory, options: AccessOptions | None = None) -> None:
        self.directory = directory
        self.options = options or AccessOptions()
        try:
            table = cast(Table, RequestRow.__table__)
            create_tables(directory.engine, Base.metadata, immediate_option=WRITE, tables=[table])
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the access catalog: {type(exc).__name__}") from exc

    def _now(self) -> datetime:
        return self.directory.clock()

    def _session(self) -> Session:
        return Session(self.directory.engine, expire_on_commit=False)

    # --- the steps -----------------------------------------------------------------------------

    def request(self, requester: str, recording_id: str, reason: str, minutes: int | None = None) -> Request:
        """Ask for a window on `recording_id` (default length from the policy, capped by it)."""
        self.directory.require(requester, Permission.BREAK_GLASS_REQUEST)
        check_name(recording_id, "recording id")
        reason = check_reason(reason)
        if not reason:
            raise InputError("a break-glass request needs a reason")
        wanted = self.options.break_glass_minutes if minutes is None else minutes
        if wanted < 1:
            raise InputError("a break-glass window lasts at least one minute")
        minutes = min(wanted, self.options.break_glass_max_minutes)
        row = RequestRow(
            request_id=uuid.uuid4().hex,
            requester=requester,
            recording_id=recording_id,
            reason=reason,
            minutes=minutes,
            status=Status.PENDING.value,
            requested_at=self._now(),
        )
        self.directory.record(
            BreakGlassRequestEvent(row.request_id, recording_id, requester, reason, minutes)
        )
        with self._write() as s:
            s.add(row)
        return row.to_request()

    def approve(self, request_id: str, approver: str, *, reason: str = "") -> Grant:
        """Open the window: `approver` holds BREAK_GLASS_APPROVE, is not the requester and does not
        share their role; the request is pending and not lapsed; the requester may still ask and
        is not leaving (a leaver's request is recorded, and raises an alarm, but never opens)."""
        reason = check_reason(reason)
        req = self._pending(request_id)
        judge = self.directory.require(approver, Permission.BREAK_GLASS_APPROVE)
        if approver == req.requester:
            raise AccessDenied("a break-glass request needs a second person to approve it")
        asker = self.directory.require(req.requester, Permission.BREAK_GLASS_REQUEST)
        if asker.leaving:
            raise AccessDenied("the requester is leaving: no new window on raw footage")
        if judge.role is asker.role:
            raise AccessDenied(f"the approver must hold another role than the requester ({asker.role.value})")
        now = self._now()
        expires = now + timedelta(minutes=req.minutes)
        self.directory.record(
            BreakGlassDecisionEvent(
                request_id, req.recording_id, req.requester, approver, Status.APPROVED.value, expires, reason
            )
        )
        self._decide(request_id, Status.APPROVED, approver, now, expires)
        return Grant(request_id, req.requester, req.recording_id, req.reason, approver, expires)

    def deny(self, request_id: str, by: str, *, reason: str = "") -> Request:
        reason = check_reason(reason)
        req = self._pending(request_id)
        self.directory.require(by, Permission.BREAK_GLASS_APPROVE)
        if by == req.requester:
            raise AccessDenied("a requester cannot decide their own break-glass request")
        return self._close(req, Status.DENIED, by, reason)

    def cancel(self, request_id: str, by: str, *, reason: str = "") -> Request:
        """Withdraw a pending request or end an open window early: the requester, or any approver."""
        reason = check_reason(reason)
        req = self.get(request_id)
        if req is None:
            raise InputError("no such break-glass request")
        if by != req.requester:
            self.directory.require(by, Permission.BREAK_GLASS_APPROVE)
        if req.status is Status.APPROVED and req.expires_at is not None and req.expires_at > self._now():
            return self._close(req, Status.CANCELLED, by, reason)
        if req.status is not Status.PENDING:
            raise InputError(f"the request is {req.status.value} already; nothing to cancel")
        return self._close(req, Status.CANCELLED, by, reason)

    # --- reading -------------------------------------------------------------------------------

    def get(self, request_id: str) -> Request | None:
        try:
            with self._session() as s:
                row = s.get(RequestRow, request_id)
                return row.to_request() if row is not None else None
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc

    def requests(self, *, status: Status | None = None, requester: str | None = None) -> list[Request]:
        query = select(RequestRow).order_by(RequestRow.requested_at, RequestRow.request_id)
        if status is not None:
            query = query.where(RequestRow.status == status.value)
        if requester is not None:
            query = query.where(RequestRow.requester == requester)
        try:
            with self._session() as s:
                return [r.to_request() for r in s.scalars(query)]
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc

    def active_grant(self, holder: str, recording_id: str, now: datetime | None = None) -> Grant | None:
        """The open window `holder` has on `recording_id` at `now` (read from the database)."""
        now = now or self._now()
        query = (
            select(RequestRow)
            .where(
                RequestRow.requester == holder,
                RequestRow.recording_id == recording_id,
                RequestRow.status == Status.APPROVED.value,
            )
            .order_by(RequestRow.expires_at.desc())
        )
        try:
            with self._session() as s:
                for row in s.scalars(query):
                    if row.decided_at and row.expires_at and row.decided_at <= now < row.expires_at:
                        return Grant(
                            row.request_id,
                            row.requester,
                            row.recording_id,
                            row.reason,
                            row.decided_by or "",
                            row.expires_at,
                        )
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc
        return None

    # --- helpers -------------------------------------------------------------------------------

    def _pending(self, request_id: str) -> Request:
        req = self.get(request_id)
        if req is None:
            raise InputError("no such break-glass request")
        if req.status is not Status.PENDING:
            raise InputError(f"the request is {req.status.value} already")
        if self._now() - req.requested_at > timedelta(hours=self.options.request_valid_hours):
            raise InputError(
                f"the request lapsed (not approved within {self.options.request_valid_hours} h); ask again"
            )
        return req

    def _close(self, req: Request, status: Status, by: str, reason: str) -> Request:
        now = self._now()
        self._decide(req.request_id, status, by, now, now, expect=req.status)
        self.directory.record(
            BreakGlassDecisionEvent(
                req.request_id, req.recording_id, req.requester, by, status.value, now, reason
            )
        )
        closed = self.get(req.request_id)
        assert closed is not None
        return closed

    def _decide(
        self,
        request_id: str,
        status: Status,
        by: str,
        now: datetime,
        expires: datetime,
        expect: Status = Status.PENDING,
    ) -> None:
        with self._write() as s:
            done = s.execute(
                update(RequestRow)
                .where(RequestRow.request_id == request_id, RequestRow.status == expect.value)
                .values(status=status.value, decided_by=by, decided_at=now, expires_at=expires)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise InputError("the request was decided by someone else meanwhile")

    def _write(self) -> _Write:
        return _Write(self._session())


class _Write:
    """A write transaction whose database errors become StoreError (InputError passes through)."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def __enter__(self) -> Session:
        self._s.begin()
        return self._s

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, _tb: object) -> None:
        try:
            if t is None:
                self._s.commit()
            else:
                self._s.rollback()
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc
        finally:
            self._s.close()
        if isinstance(e, SQLAlchemyError):
            raise StoreError(f"access catalog unavailable: {type(e).__name__}") from e
