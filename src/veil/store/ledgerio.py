"""Reading the ledger's entries back, to append each outbox entry exactly once.

The ledger has no entry reader yet; this reads its table directly, decoding the hashed bodies
(never the queryable columns), and is the only place in the store that does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from veil.audit import Ledger
from veil.audit._tables import EntryRow


def _engine(ledger: Ledger) -> Engine:
    engine: Engine = ledger._engine
    return engine


def ledger_events(ledger: Ledger, *, kind: str | None = None, since: int = 0) -> Iterator[dict[str, Any]]:
    """The event dicts of the entries from position `since` on, oldest first, of `kind` if given."""
    with Session(_engine(ledger)) as s:
        for body in s.scalars(select(EntryRow.body).where(EntryRow.seq >= since).order_by(EntryRow.seq)):
            entry = json.loads(body)
            if kind is None or entry.get("kind") == kind:
                yield dict(entry["event"]) | {"_kind": entry["kind"], "_seq": entry["seq"]}


def in_ledger(ledger: Ledger, kind: str, event: dict[str, Any], since: int) -> bool:
    """Whether an entry of `kind` with exactly this event was appended at or after `since`."""
    for found in ledger_events(ledger, kind=kind, since=since):
        found.pop("_kind")
        found.pop("_seq")
        if found == event:
            return True
    return False
