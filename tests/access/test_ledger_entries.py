"""`Ledger.entries`, the public verified reader the alarms and the store read through: filters by
kind and position in both directions, and refuses a body or a column changed behind its back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from veil.access import ledger_read
from veil.audit._tables import EntryRow
from veil.audit.events import AccessChangeEvent, ObjectReadEvent
from veil.audit.store import Ledger
from veil.exceptions import LedgerError
from veil.store.ledgerio import in_ledger


def _fill(ledger: Ledger, n: int) -> None:
    for i in range(n):
        if i % 3 == 0:
            ledger.append(AccessChangeEvent(user=f"u{i}", action="user-added", role="analyst", by="root"))
        else:
            ledger.append(
                ObjectReadEvent(who="a.kim", object_id=f"o{i}", recording_id=f"r{i}", klass="redacted")
            )


def test_entries_filter_by_kind_and_position_across_batches(ledger: Ledger) -> None:
    _fill(ledger, 12)
    reads = list(ledger.entries(["object-read"], after_seq=3, batch=2))
    assert [e.seq for e in reads] == [4, 5, 7, 8, 10, 11]
    assert all(e.kind == "object-read" and e.event["who"] == "a.kim" for e in reads)
    assert reads[0].time.tzinfo is not None
    newest = list(ledger.entries(None, upto_seq=7, newest_first=True, batch=3))
    assert [e.seq for e in newest] == [7, 6, 5, 4, 3, 2, 1, 0]
    upto = list(ledger.entries(["access-change"], upto_seq=6))
    assert [e.seq for e in upto] == [0, 3, 6]


def test_alarm_reader_goes_backward_in_time(ledger: Ledger) -> None:
    _fill(ledger, 6)
    since = datetime.now(UTC) - timedelta(hours=1)
    back = ledger_read.backward(ledger, ["object-read"], upto=4, since=since)
    assert [e.seq for e in back] == [1, 2, 4]
    assert ledger_read.backward(ledger, ["object-read"], upto=4, since=datetime.now(UTC) + timedelta(1)) == []


def test_store_finds_its_entry_through_the_reader(ledger: Ledger) -> None:
    _fill(ledger, 3)
    event = ObjectReadEvent(who="a.kim", object_id="o2", recording_id="r2", klass="redacted").to_dict()
    assert in_ledger(ledger, "object-read", event, since=0)
    assert not in_ledger(ledger, "object-read", event, since=3)


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"event":{},"id":"x","kind":"object-read","seq":1,"time":"2026-01-01T00:00:00+00:00"}'},
        {"kind": "access-change"},
    ],
    ids=["body", "kind-column"],
)
def test_a_changed_body_or_column_is_refused(ledger: Ledger, change: dict[str, object]) -> None:
    _fill(ledger, 3)
    with Session(ledger._engine) as s, s.begin():
        s.execute(update(EntryRow).where(EntryRow.seq == 1).values(**change))
    with pytest.raises(LedgerError, match="entry 1 does not match"):
        list(ledger.entries())
    assert [e.seq for e in ledger.entries(after_seq=1)] == [2]
