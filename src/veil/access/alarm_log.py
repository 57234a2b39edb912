"""Evaluating the access alarms incrementally, storing them, and logging each in the ledger once.

    log = AlarmLog(directory.engine, ledger, options.alarms, owner_of=...)
    new = log.evaluate()          # scans the entries appended since the last evaluation
    log.alarms(since=...)         # every alarm raised so far

An evaluation reads the entries after the stored cursor, rebuilds what the rules remember (account
status from the access-change entries, the reads still inside the window, the owners each account
has read, when each rule may fire again) and scans them. One transaction then moves the cursor
(compare-and-set, so two evaluators never both take the same entries), stores the alarms (unique per
rule, account and triggering entry) and what the rules learnt. Each stored alarm is then appended to
the ledger as an `AlarmEvent`, claimed first so two evaluators never both append it; a failed
append releases its claim (the next evaluation tries again), and a claim left by a crashed evaluator
is taken over after `CLAIM_TIMEOUT`, once the ledger shows no entry for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import BigInteger, Engine, Integer, String, Table, Text, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from veil.access import ledger_read
from veil.access._db import WRITE, Base, UtcDateTime, make_engine, utcnow
from veil.access._db import catalog_url as default_catalog_url
from veil.access.alarms import (
    ACCESS_KINDS,
    READ_KINDS,
    STATUS_KINDS,
    AlarmRules,
    OwnerOf,
    ScanState,
    Trigger,
    apply_status,
    compact,
)
from veil.audit.events import AlarmEvent
from veil.audit.store import Ledger
from veil.exceptions import LedgerError, StoreError
from veil.options import AlarmOptions
from veil.sqlengine import create_tables

if TYPE_CHECKING:
    from veil.store.store import RecordingStore

CLAIM_TIMEOUT = timedelta(minutes=2)


@dataclass(frozen=True)
class Alarm:
    alarm_id: str
    rule: str
    account: str
    window_start: datetime
    trigger_time: datetime
    trigger_seq: int
    seqs: tuple[int, ...]  # the ledger entries that raised it
    detail: str
    raised_at: datetime
    ledger_seq: int | None  # where the alarm itself is in the ledger

    def to_dict(self) -> dict[str, Any]:
        return {
            "alarm_id": self.alarm_id,
            "rule": self.rule,
            "account": self.account,
            "window_start": self.window_start.isoformat(),
            "trigger_time": self.trigger_time.isoformat(),
            "trigger_seq": self.trigger_seq,
            "entries": list(self.seqs),
            "detail": self.detail,
            "raised_at": self.raised_at.isoformat(),
            "ledger_seq": self.ledger_seq,
        }

    def event(self) -> AlarmEvent:
        return AlarmEvent(
            alarm_id=self.alarm_id,
            rule=self.rule,
            account=self.account,
            window_start=self.window_start,
            trigger_time=self.trigger_time,
            entry_count=len(self.seqs),
            first_seq=self.seqs[0],
            last_seq=self.seqs[-1],
            entries=compact(self.seqs),
            entries_sha256=hashlib.sha256(",".join(map(str, self.seqs)).encode()).hexdigest(),
            detail=self.detail,
        )


class AlarmRow(Base):
    __tablename__ = "access_alarms"

    alarm_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(32), index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger_time: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    trigger_seq: Mapped[int] = mapped_column(BigInteger)
    seqs: Mapped[str] = mapped_column(Text)  # JSON list
    detail: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def to_alarm(self) -> Alarm:
        return Alarm(
            self.alarm_id,
            self.rule,
            self.account,
            self.window_start,
            self.trigger_time,
            self.trigger_seq,
            tuple(json.loads(self.seqs)),
            self.detail,
            self.raised_at,
            self.ledger_seq,
        )


class CursorRow(Base):
    __tablename__ = "access_alarm_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)


class AreaRow(Base):
    __tablename__ = "access_alarm_areas"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)


class AccountRow(Base):
    __tablename__ = "access_alarm_accounts"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)


_TABLES: list[Table] = [cast(Table, row.__table__) for row in (AlarmRow, CursorRow, AreaRow, AccountRow)]


class AlarmLog:
    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        options: AlarmOptions | None = None,
        *,
        owner_of: OwnerOf | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine, self.ledger, self.clock = engine, ledger, clock
        self.rules = AlarmRules(options)
        self.owner_of = _cached(owner_of) if owner_of is not None else None
        try:
            create_tables(engine, Base.metadata, immediate_option=WRITE, tables=_TABLES)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the access catalog: {type(exc).__name__}") from exc
        try:
            with self._session() as s, s.begin():
                if s.get(CursorRow, 1) is None:
                    s.add(CursorRow(id=1, seq=-1))
        except IntegrityError:
            pass  # another process made the cursor row meanwhile
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # --- evaluating ----------------------------------------------------------------------------

    def evaluate(self, now: datetime | None = None) -> list[Alarm]:
        """Scan the entries appended since the last evaluation; the alarms it raised (each now in
        the ledger). Also logs stored alarms an earlier evaluation could not append."""
        now = now or self.clock()
        cursor, top = self.cursor(), ledger_read.last_seq(self.ledger)
        raised: list[Alarm] = []
        if top > cursor:
            new = list(ledger_read.forward(self.ledger, (*ACCESS_KINDS, *STATUS_KINDS), cursor, top))
            state = self._state(cursor, new)
            triggers = self.rules.scan(new, state, self.owner_of)
            raised = self._commit(cursor, top, triggers, state, now)
        logged = {a.alarm_id: a for a in self.flush(now)}
        return [logged.get(a.alarm_id, a) for a in raised]

    def cursor(self) -> int:
        with self._read() as s:
            row = s.get(CursorRow, 1)
            return row.seq if row is not None else -1

    def _state(self, cursor: int, new: list[ledger_read.Entry]) -> ScanState:
        state = ScanState()
        for entry in ledger_read.forward(self.ledger, STATUS_KINDS, upto=cursor):
            apply_status(state, entry)
        accesses = [e for e in new if e.kind in ACCESS_KINDS]
        if not accesses:
            return state
        since = accesses[0].time - self.rules.window
        self.rules.warm(ledger_read.backward(self.ledger, READ_KINDS, cursor, since), state, self.owner_of)
        accounts = {str(e.event.get("who") or e.event.get("requester") or "") for e in accesses}
        window = self.rules.window
        with self._read() as s:
            for area in s.scalars(select(AreaRow).where(AreaRow.account.in_(accounts))):
                state.areas.setdefault(area.account, set()).add(area.owner)
            for acc in s.scalars(select(AccountRow).where(AccountRow.account.in_(accounts))):
                state.first_seen[acc.account] = acc.first_seen
            last = (
                select(AlarmRow.rule, AlarmRow.account, func.max(AlarmRow.trigger_time))
                .where(AlarmRow.account.in_(accounts))
                .group_by(AlarmRow.rule, AlarmRow.account)
            )
            for rule, account, when in s.execute(last):
                state.quiet_until[(rule, account)] = when + window
        state.known_accounts = set(state.first_seen)
        return state

    def _commit(
        self, cursor: int, top: int, triggers: list[Trigger], state: ScanState, now: datetime
    ) -> list[Alarm]:
        alarms = [_alarm(t, now) for t in triggers]
        try:
            with self._session() as s, s.begin():
                moved = s.execute(
                    update(CursorRow).where(CursorRow.id == 1, CursorRow.seq == cursor).values(seq=top)
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    s.rollback()
                    return []  # another evaluator took these entries
                for a in alarms:
                    s.add(_row(a))
                for account, owner in sorted(state.new_areas):
                    s.add(AreaRow(account=account, owner=owner))
                for account, first in state.first_seen.items():
                    if account not in state.known_accounts:
                        s.add(AccountRow(account=account, first_seen=first))
        except IntegrityError:
            return []  # another evaluator committed the same entries first
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc
        return alarms

    # --- logging in the ledger -----------------------------------------------------------------

    def flush(self, now: datetime | None = None) -> list[Alarm]:
        """Append every stored alarm not yet in the ledger; those it appended."""
        now = now or self.clock()
        stale = now - CLAIM_TIMEOUT
        with self._read() as s:
            waiting = list(
                s.scalars(
                    select(AlarmRow)
                    .where(AlarmRow.ledger_seq.is_(None))
                    .where(or_(AlarmRow.claimed_at.is_(None), AlarmRow.claimed_at < stale))
                    .order_by(AlarmRow.trigger_seq, AlarmRow.rule)
                )
            )
        done: list[Alarm] = []
        for row in waiting:
            if not self._claim(row, now, stale):
                continue
            seq = self._logged_seq(row.alarm_id) if row.claimed_at is not None else None
            if seq is None:
                try:
                    seq = self.ledger.append(row.to_alarm().event()).seq
                except LedgerError:
                    self._release(row.alarm_id)  # the next evaluation tries again at once
                    raise
            with self._write() as s:
                s.execute(update(AlarmRow).where(AlarmRow.alarm_id == row.alarm_id).values(ledger_seq=seq))
            done.append(dataclasses.replace(row.to_alarm(), ledger_seq=seq))
        return done

    def _claim(self, row: AlarmRow, now: datetime, stale: datetime) -> bool:
        cond = AlarmRow.claimed_at.is_(None) if row.claimed_at is None else AlarmRow.claimed_at < stale
        with self._write() as s:
            got = s.execute(
                update(AlarmRow)
                .where(AlarmRow.alarm_id == row.alarm_id, AlarmRow.ledger_seq.is_(None), cond)
                .values(claimed_at=now)
            )
            return bool(got.rowcount == 1)  # type: ignore[attr-defined]

    def _release(self, alarm_id: str) -> None:
        with self._write() as s:
            s.execute(update(AlarmRow).where(AlarmRow.alarm_id == alarm_id).values(claimed_at=None))

    def _logged_seq(self, alarm_id: str) -> int | None:
        for entry in ledger_read.forward(self.ledger, ("alarm",)):
            if entry.event.get("alarm_id") == alarm_id:
                return entry.seq
        return None

    # --- reading -------------------------------------------------------------------------------

    def alarms(self, since: datetime | None = None) -> list[Alarm]:
        query = select(AlarmRow).order_by(AlarmRow.trigger_seq, AlarmRow.rule)
        if since is not None:
            query = query.where(AlarmRow.trigger_time >= since)
        with self._read() as s:
            return [r.to_alarm() for r in s.scalars(query)]

    def _read(self) -> Session:
        return self._session()

    def _write(self) -> _Tx:
        return _Tx(self._session())


class _Tx:
    def __init__(self, s: Session) -> None:
        self.s = s

    def __enter__(self) -> Session:
        self.s.begin()
        return self.s

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, _tb: object) -> None:
        try:
            if t is None:
                self.s.commit()
            else:
                self.s.rollback()
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc
        finally:
            self.s.close()


def _alarm(t: Trigger, now: datetime) -> Alarm:
    return Alarm(
        uuid.uuid4().hex,
        t.rule.value,
        t.account,
        t.window_start,
        t.trigger_time,
        t.trigger_seq,
        t.seqs,
        t.detail,
        now,
        None,
    )


def _row(a: Alarm) -> AlarmRow:
    return AlarmRow(
        alarm_id=a.alarm_id,
        dedupe_key=f"{a.rule}:{a.account}:{a.trigger_seq}",
        rule=a.rule,
        account=a.account,
        window_start=a.window_start,
        trigger_time=a.trigger_time,
        trigger_seq=a.trigger_seq,
        seqs=json.dumps(list(a.seqs)),
        detail=a.detail,
        raised_at=a.raised_at,
        ledger_seq=None,
        claimed_at=None,
    )


def _cached(owner_of: OwnerOf) -> OwnerOf:
    cache: dict[str, str | None] = {}

    def lookup(recording_id: str) -> str | None:
        if recording_id not in cache:
            cache[recording_id] = owner_of(recording_id)
        return cache[recording_id]

    return lookup


def evaluate(
    ledger: Ledger,
    now: datetime | None = None,
    *,
    catalog_url: str | None = None,
    options: AlarmOptions | None = None,
    owner_of: OwnerOf | None = None,
) -> list[Alarm]:
    """One evaluation against the catalog at `catalog_url` (default: VEIL_CATALOG_URL, else the
    Veil home folder's); the alarms it raised."""
    engine = make_engine(catalog_url or default_catalog_url())
    try:
        return AlarmLog(engine, ledger, options, owner_of=owner_of).evaluate(now)
    finally:
        engine.dispose()


def store_owners(store: RecordingStore) -> OwnerOf:
    """Who owns a recording, asked of the recording store (its read entries do not say)."""

    def owner_of(recording_id: str) -> str | None:
        found = store.list(recording_id=recording_id)
        return found[0].owner if found else None

    return owner_of


def catalog_owners(engine: Engine) -> OwnerOf:
    """Who owns a recording, read from the store's tables in the same catalog database (no store
    yet, or no such recording: None)."""
    from veil.store.catalog import ObjectRow

    def owner_of(recording_id: str) -> str | None:
        query = select(ObjectRow.owner).where(ObjectRow.recording_id == recording_id).limit(1)
        try:
            with Session(engine) as s:
                return s.scalars(query).first()
        except SQLAlchemyError:
            return None

    return owner_of
