"""Reading the ledger's entries for the alarms: by kind, forward from a sequence number or backward
in time. Bodies are read as stored and checked against their leaf hash (a full check of the tree is
`veil audit verify`); a body that does not match stops the evaluation with LedgerError."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from veil.audit._tables import EntryRow
from veil.audit.merkle import leaf_hash
from veil.audit.store import Ledger
from veil.exceptions import LedgerError

BATCH = 1000


@dataclass(frozen=True)
class Entry:
    seq: int
    time: datetime  # the ledger's time of the append (UTC)
    kind: str
    event: dict[str, Any]


def _engine(ledger: Ledger) -> Engine:
    # The ledger exposes no entry reader; its engine is the one place the entries live.
    return ledger._engine


def _decode(row: EntryRow) -> Entry:
    if leaf_hash(row.body) != row.leaf_hash:
        raise LedgerError(f"ledger entry {row.seq} does not match its leaf hash; run `veil audit verify`")
    try:
        data = json.loads(row.body)
        time = datetime.fromisoformat(data["time"])
        return Entry(int(data["seq"]), time.astimezone(UTC), str(data["kind"]), dict(data["event"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"ledger entry {row.seq} is not a valid entry") from exc


def forward(
    ledger: Ledger, kinds: Collection[str], after: int = -1, upto: int | None = None
) -> Iterator[Entry]:
    """Entries of `kinds` with after < seq (<= upto), oldest first."""
    last = after
    while True:
        query = select(EntryRow).where(EntryRow.seq > last, EntryRow.kind.in_(list(kinds)))
        if upto is not None:
            query = query.where(EntryRow.seq <= upto)
        rows = _fetch(ledger, query.order_by(EntryRow.seq).limit(BATCH))
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1].seq


def backward(ledger: Ledger, kinds: Collection[str], upto: int, since: datetime) -> list[Entry]:
    """Entries of `kinds` with seq <= upto whose time is at or after `since`, oldest first."""
    out: list[Entry] = []
    last = upto + 1
    while True:
        query = select(EntryRow).where(EntryRow.seq < last, EntryRow.kind.in_(list(kinds)))
        rows = _fetch(ledger, query.order_by(EntryRow.seq.desc()).limit(BATCH))
        for entry in rows:
            if entry.time < since:
                return out[::-1]
            out.append(entry)
        if len(rows) < BATCH:
            return out[::-1]
        last = rows[-1].seq


def last_seq(ledger: Ledger) -> int:
    """The highest sequence number in the ledger (-1 when empty)."""
    return ledger.size() - 1


def _fetch(ledger: Ledger, query: Any) -> list[Entry]:
    try:
        with Session(_engine(ledger)) as s:
            return [_decode(row) for row in s.scalars(query)]
    except SQLAlchemyError as exc:
        raise LedgerError(f"cannot read the ledger: {type(exc).__name__}") from exc
