"""Reading the ledger's entries back, to append each outbox entry exactly once, through the
ledger's verified reader (`Ledger.entries`: bodies checked against their leaf hashes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from veil.audit.store import Ledger


def ledger_events(ledger: Ledger, *, kind: str | None = None, since: int = 0) -> Iterator[dict[str, Any]]:
    """The event dicts of the entries from position `since` on, oldest first, of `kind` if given."""
    for entry in ledger.entries(None if kind is None else (kind,), after_seq=since - 1):
        yield dict(entry.event) | {"_kind": entry.kind, "_seq": entry.seq}


def in_ledger(ledger: Ledger, kind: str, event: dict[str, Any], since: int) -> bool:
    """Whether an entry of `kind` with exactly this event was appended at or after `since`."""
    for found in ledger_events(ledger, kind=kind, since=since):
        found.pop("_kind")
        found.pop("_seq")
        if found == event:
            return True
    return False
