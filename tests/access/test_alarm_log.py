"""Alarms evaluated incrementally from the ledger: the cursor moves, every alarm lands in the ledger
exactly once (two evaluators, a failed append, a crashed evaluator), and cutting the entries into
evaluations differently gives the same alarms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.access.conftest import Clock, entries
from tests.access.fakes import ObjectRead
from veil.access.alarm_log import CLAIM_TIMEOUT, AlarmLog, AlarmRow, evaluate
from veil.access.directory import Directory
from veil.access.roles import Role
from veil.audit.events import LedgerEvent
from veil.audit.store import EntryRef, Ledger
from veil.exceptions import LedgerError
from veil.options import AlarmOptions

OPTIONS = AlarmOptions(max_recordings=5, max_owners=100, window_minutes=5, new_area=False)


def read(ledger: Ledger, who: str, i: int) -> int:
    return ledger.append(
        ObjectRead(who=who, object_id=f"o{i}", recording_id=f"rec-{i}", klass="redacted")
    ).seq


def burst(ledger: Ledger, clock: Clock, who: str, n: int, first: int = 0) -> list[int]:
    seqs = []
    for i in range(first, first + n):
        clock.advance(seconds=1)
        seqs.append(read(ledger, who, i))
    return seqs


@pytest.fixture
def log(directory: Directory, ledger: Ledger, ledger_clock: Clock) -> AlarmLog:
    return AlarmLog(directory.engine, ledger, OPTIONS, clock=ledger_clock)


def test_incremental_evaluation_logs_each_alarm_once(
    log: AlarmLog, ledger: Ledger, ledger_clock: Clock
) -> None:
    seqs = burst(ledger, ledger_clock, "a.kim", 4)
    assert log.evaluate() == [] and log.cursor() == seqs[-1]
    seqs += burst(ledger, ledger_clock, "a.kim", 3, first=4)  # 5th distinct recording is not "more than 5"
    (alarm,) = log.evaluate()
    assert alarm.rule == "bulk-recordings" and alarm.account == "a.kim"
    assert alarm.seqs == tuple(seqs[:6]) and alarm.trigger_seq == seqs[5]
    assert alarm.ledger_seq is not None
    assert log.evaluate() == []  # nothing new: nothing raised, nothing appended
    burst(ledger, ledger_clock, "a.kim", 5, first=10)  # same window: folded into the alarm
    assert log.evaluate() == []
    logged = entries(ledger, "alarm")
    assert len(logged) == 1 and logged[0]["seq"] == alarm.ledger_seq
    ev = logged[0]["event"]
    assert ev["rule"] == "bulk-recordings" and ev["entry_count"] == 6
    assert ev["first_seq"] == seqs[0] and ev["last_seq"] == seqs[5]
    assert ev["entries"] == f"{seqs[0]}-{seqs[5]}"
    ledger_clock.advance(minutes=6)
    burst(ledger, ledger_clock, "a.kim", 6, first=20)  # a new window: a new alarm
    assert [a.rule for a in log.evaluate()] == ["bulk-recordings"]
    assert len(entries(ledger, "alarm")) == 2
    ledger.verify().raise_for_failure()
    assert [a.alarm_id for a in log.alarms()] == [e["event"]["alarm_id"] for e in entries(ledger, "alarm")]


def test_the_same_entries_cut_differently_give_the_same_alarms(
    directory: Directory, ledger: Ledger, ledger_clock: Clock, tmp_path: object
) -> None:
    every = AlarmLog(directory.engine, ledger, OPTIONS)
    other = Directory.open(f"sqlite:///{tmp_path}/other.sqlite3", ledger=ledger)
    once = AlarmLog(other.engine, ledger, OPTIONS)
    for k in range(4):
        burst(ledger, ledger_clock, "a.kim", 4, first=10 * k)
        ledger_clock.advance(minutes=2)
        every.evaluate()
    burst(ledger, ledger_clock, "b.lee", 12)
    every.evaluate()
    once.evaluate()
    key = [(a.rule, a.account, a.trigger_seq, a.seqs) for a in every.alarms()]
    assert key == [(a.rule, a.account, a.trigger_seq, a.seqs) for a in once.alarms()]
    assert [k[:2] for k in key] == [("bulk-recordings", "a.kim"), ("bulk-recordings", "b.lee")]
    other.close()


def test_two_evaluators_never_double_an_alarm(
    directory: Directory, ledger: Ledger, ledger_clock: Clock
) -> None:
    server = AlarmLog(directory.engine, ledger, OPTIONS)
    cron = AlarmLog(directory.engine, ledger, OPTIONS)
    burst(ledger, ledger_clock, "a.kim", 8)
    first, second = server.evaluate(), cron.evaluate()
    assert len(first) == 1 and second == []
    assert len(entries(ledger, "alarm")) == 1
    # Both read the same cursor, then race to commit: the loser takes nothing.
    burst(ledger, ledger_clock, "b.lee", 8)
    cursor = cron.cursor()
    cron.cursor = lambda: cursor  # type: ignore[method-assign]
    server.evaluate()
    assert cron.evaluate() == []
    assert [e["event"]["account"] for e in entries(ledger, "alarm")] == ["a.kim", "b.lee"]


class FlakyLedger(Ledger):
    """Fails the next alarm append, as when the ledger database is briefly down."""

    def __init__(self, real: Ledger) -> None:
        self.__dict__.update(real.__dict__)
        self.fail = True

    def append(self, event: LedgerEvent) -> EntryRef:
        if event.kind == "alarm" and self.fail:
            self.fail = False
            raise LedgerError("ledger append failed: OperationalError")
        return super().append(event)


def test_an_alarm_the_ledger_refused_is_logged_later_once(
    directory: Directory, ledger: Ledger, ledger_clock: Clock
) -> None:
    flaky = FlakyLedger(ledger)
    log = AlarmLog(directory.engine, flaky, OPTIONS, clock=ledger_clock)
    burst(ledger, ledger_clock, "a.kim", 8)
    with pytest.raises(LedgerError):
        log.evaluate()
    assert entries(ledger, "alarm") == [] and len(log.alarms()) == 1
    assert log.evaluate() == []  # claimed by the failed run: waits for the claim to go stale
    ledger_clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
    log.evaluate()
    assert len(entries(ledger, "alarm")) == 1
    assert log.alarms()[0].ledger_seq == entries(ledger, "alarm")[0]["seq"]
    # A crash after the append but before noting it: the take-over finds the entry, appends nothing.
    with log.engine.begin() as conn:
        conn.execute(
            update(AlarmRow).values(ledger_seq=None, claimed_at=ledger_clock.now - timedelta(hours=1))
        )
    log.flush()
    assert len(entries(ledger, "alarm")) == 1 and log.alarms()[0].ledger_seq is not None


def test_module_evaluate_uses_the_default_catalog(
    ledger: Ledger, ledger_clock: Clock, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VEIL_CATALOG_URL", f"sqlite:///{tmp_path}/env-catalog.sqlite3")
    burst(ledger, ledger_clock, "a.kim", 8)
    assert [a.rule for a in evaluate(ledger, options=OPTIONS)] == ["bulk-recordings"]
    assert evaluate(ledger, options=OPTIONS) == []
    with Directory.open(ledger=ledger) as d:
        d.add_user("x.y", Role.EMPLOYEE)  # same catalog, shared with the directory
        assert AlarmLog(d.engine, ledger, OPTIONS).cursor() >= 7
