"""Reading the ledger's entries for the alarms: by kind, forward from a sequence number or backward
in time, through the ledger's verified reader (`Ledger.entries`: every body checked against its leaf
hash; a full check of the tree is `veil audit verify`). A body that does not match stops the
evaluation with LedgerError."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime

from veil.audit.store import Ledger, LedgerEntry

Entry = LedgerEntry


def forward(
    ledger: Ledger, kinds: Collection[str], after: int = -1, upto: int | None = None
) -> Iterator[Entry]:
    """Entries of `kinds` with after < seq (<= upto), oldest first."""
    return ledger.entries(kinds, after_seq=after, upto_seq=upto)


def backward(ledger: Ledger, kinds: Collection[str], upto: int, since: datetime) -> list[Entry]:
    """Entries of `kinds` with seq <= upto whose time is at or after `since`, oldest first."""
    out: list[Entry] = []
    for entry in ledger.entries(kinds, upto_seq=upto, newest_first=True):
        if entry.time < since:
            break
        out.append(entry)
    return out[::-1]


def last_seq(ledger: Ledger) -> int:
    """The highest sequence number in the ledger (-1 when empty)."""
    return ledger.size() - 1
