"""A catalog transaction that reads and then writes must not fail because another connection
wrote in between: on SQLite in WAL mode that upgrade fails at once with "database is locked" (no
busy wait), which is how a pause from the portal failed while an agent's segment was stored."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from veil.server.context import Context
from veil.server.db import PauseRow
from veil.server.portal import set_paused


def test_a_read_then_write_transaction_survives_a_write_in_between(ctx: Context) -> None:
    reading = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        reading.wait(10)
        try:
            set_paused(ctx, "emp.two", True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=other_writer)
    thread.start()
    with ctx.session() as s:
        assert s.get(PauseRow, "emp.one") is None  # the read that starts the transaction
        reading.set()
        time.sleep(0.5)  # the other writer commits here, or waits for this transaction
        s.add(PauseRow(owner="emp.one", paused=True, changed_at=datetime.now(UTC)))
    thread.join(30)
    assert errors == []
    with ctx.session() as s:
        assert {r.owner for r in s.query(PauseRow)} == {"emp.one", "emp.two"}
