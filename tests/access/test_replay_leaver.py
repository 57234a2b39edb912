"""Replays on a clock the test drives: a leaver downloads everything (the alarm must be raised within
one minute of the first bulk read), and a quiet analyst's ordinary day (no alarm at all).

The evaluator runs every EVERY seconds of replayed time, as `veil serve` or a cron `veil alarms`
would; latency is the time from the first bulk read to the evaluation that raised the alarm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.access.conftest import Clock, entries
from tests.access.fakes import FakeObject, FakeStore
from veil.access.alarm_log import Alarm, AlarmLog
from veil.access.directory import Directory
from veil.access.guard import AccessGuard
from veil.access.roles import Role
from veil.audit.events import ObjectReadEvent
from veil.audit.store import Ledger
from veil.exceptions import NotAuthenticated
from veil.options import AlarmOptions

EVERY = timedelta(seconds=15)
OWNERS = [f"emp-{i:02d}" for i in range(40)]
RECORDINGS = {f"rec-{i:03d}": OWNERS[i % len(OWNERS)] for i in range(200)}
DAY = datetime(2026, 3, 17, tzinfo=UTC)  # a Tuesday


class Replay:
    """The store, the directory and an evaluator ticking every EVERY seconds of the test's clock."""

    def __init__(self, directory: Directory, ledger: Ledger, clock: Clock) -> None:
        self.directory, self.ledger, self.clock = directory, ledger, clock
        self.store = FakeStore(AccessGuard(directory), ledger, ObjectReadEvent)
        for rid, owner in RECORDINGS.items():
            self.store.add(FakeObject(f"obj-{rid}", "redacted", owner, rid))
        self.log = AlarmLog(directory.engine, ledger, AlarmOptions(), owner_of=RECORDINGS.get, clock=clock)
        self.next_eval = clock.now
        self.seen = ledger.size()
        self.raised: list[Alarm] = []

    def at(self, when: datetime) -> None:
        """Move the clock to `when`, evaluating at every tick on the way (a tick with no new entry
        is skipped: its evaluation would find nothing)."""
        while self.next_eval <= when:
            if self.ledger.size() != self.seen:
                self.clock.now = max(self.clock.now, self.next_eval)
                self.raised += self.log.evaluate()
                self.seen = self.ledger.size()
                self.next_eval += EVERY
            else:
                self.next_eval += EVERY * max(1, (when - self.next_eval) // EVERY)
        self.clock.now = when

    def read(self, who: str, rid: str, when: datetime) -> None:
        self.at(when)
        self.store.get(f"obj-{rid}", actor=who)

    def history(self, who: str, owners: list[str], days: int = 14) -> None:
        """`days` of ordinary weekday reads before DAY: 4 a day, 10:00-13:00, of `owners` only."""
        mine = [rid for rid, owner in RECORDINGS.items() if owner in owners]
        for d in range(days, 0, -1):
            day = DAY - timedelta(days=d)
            if day.isoweekday() > 5:
                continue
            for k in range(4):
                self.read(who, mine[(d + k) % len(mine)], day + timedelta(hours=10 + k, minutes=7 * len(who)))


@pytest.fixture
def directory(sqlite_directory: Directory) -> Directory:
    """SQLite only: the PostgreSQL runs are in test_directory, test_breakglass and test_alarm_log."""
    return sqlite_directory


@pytest.fixture
def replay(directory: Directory, ledger: Ledger, ledger_clock: Clock) -> Replay:
    ledger_clock.now = DAY - timedelta(days=15)
    for name in ("l.park", "q.sato"):
        directory.add_user(name, Role.ANALYST, by="root")
    directory.add_user("hr.ops", Role.ADMIN, by="root")
    r = Replay(directory, ledger, ledger_clock)
    r.history("l.park", OWNERS[:4])
    r.history("q.sato", OWNERS[4:7])
    r.at(DAY + timedelta(hours=9))
    return r


def latency(r: Replay, rule: str, first_bulk: datetime) -> timedelta:
    (alarm,) = [a for a in r.raised if a.rule == rule and a.account == "l.park"]
    return alarm.raised_at - first_bulk


@pytest.mark.parametrize("marked_leaving", [True, False], ids=["marked-leaving", "not-marked"])
def test_leaver_downloads_everything(replay: Replay, ledger: Ledger, marked_leaving: bool) -> None:
    r = replay
    assert r.raised == []  # two weeks of ordinary work raised nothing
    if marked_leaving:
        r.at(DAY + timedelta(hours=14))
        r.directory.mark_leaving("l.park", by="hr.ops", reason="notice given")
    first_bulk = DAY + timedelta(hours=14, minutes=5, seconds=0.4)
    for i, rid in enumerate(RECORDINGS):  # 200 recordings in 3 minutes (one each 0.9 s)
        r.read("l.park", rid, first_bulk + timedelta(seconds=0.9 * i))
    r.at(first_bulk + timedelta(minutes=4))
    rules = sorted({a.rule for a in r.raised})
    expected = {"bulk-owners", "bulk-recordings", "new-data-area"} | (
        {"inactive-account"} if marked_leaving else set()
    )
    assert set(rules) == expected
    assert {a.account for a in r.raised} == {"l.park"}
    figures = {rule: latency(r, rule, first_bulk) for rule in rules}
    print(
        f"\nalarm latency after the first bulk read ({'marked' if marked_leaving else 'not marked'}):",
        {k: f"{v.total_seconds():.1f} s" for k, v in figures.items()},
    )
    assert max(figures.values()) <= timedelta(minutes=1)
    bulk = next(a for a in r.raised if a.rule == "bulk-recordings")
    assert len(bulk.seqs) == 31  # the 31 reads that made "more than 30" in the window
    logged = entries(ledger, "alarm")
    assert sorted(e["event"]["alarm_id"] for e in logged) == sorted(a.alarm_id for a in r.raised)
    assert all(a.ledger_seq is not None for a in r.raised)
    ledger.verify().raise_for_failure()


def test_a_revoked_leaver_is_refused_and_flagged(replay: Replay, ledger: Ledger) -> None:
    r = replay
    start = DAY + timedelta(hours=15)
    r.read("l.park", "rec-000", start)
    r.at(start + timedelta(seconds=20))
    r.directory.revoke("l.park", by="hr.ops", reason="last day")
    with pytest.raises(NotAuthenticated):
        r.read("l.park", "rec-001", start + timedelta(seconds=21))
    r.at(start + timedelta(minutes=1))
    (alarm,) = [a for a in r.raised if a.rule == "inactive-account"]
    assert entries(ledger)[alarm.trigger_seq]["kind"] == "access-refused"
    assert alarm.detail == "account is revoked"


def test_a_quiet_analysts_day_raises_nothing(replay: Replay) -> None:
    r = replay
    mine = [rid for rid, owner in RECORDINGS.items() if owner in OWNERS[4:7]]
    day = DAY + timedelta(hours=8, minutes=30)
    # 45 reads over 8 hours: clusters of 3 (a case looked at from three angles), of her own teams.
    for i in range(45):
        r.read("q.sato", mine[i % len(mine)], day + timedelta(minutes=10 * i + (i % 3)))
    r.at(day + timedelta(hours=9))
    assert r.raised == []
    assert r.log.cursor() == r.ledger.size() - 1


def test_the_replay_is_sensitive(replay: Replay) -> None:
    """Control for the false-alarm test: the same quiet day, once outside hours, does raise."""
    r = replay
    evening: Callable[[int], datetime] = lambda i: DAY + timedelta(hours=21, minutes=i)  # noqa: E731
    r.read("q.sato", "rec-004", evening(0))
    r.at(evening(1))
    assert [a.rule for a in r.raised] == ["off-hours"]
