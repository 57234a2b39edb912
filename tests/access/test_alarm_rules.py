"""The alarm rules on scripted entries (no database): each rule fires when it should, names the
entries that made it fire, stays quiet for the rest of its window, and never fires on a normal day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from veil.access.alarms import AlarmRules, Rule, ScanState, Trigger, compact
from veil.access.ledger_read import Entry
from veil.options import AlarmOptions

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Seoul


class Script:
    """Ledger entries with consecutive seqs, at times the test chooses."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, at: datetime, kind: str, **event: str) -> Entry:
        entry = Entry(len(self.entries), at, kind, dict(event))
        self.entries.append(entry)
        return entry

    def read(self, at: datetime, who: str, recording: str, owner: str) -> Entry:
        return self.add(at, "object-read", who=who, recording_id=recording, owner=owner, klass="redacted")


def rules(**kw: object) -> AlarmRules:
    base: dict[str, object] = {"timezone": "Asia/Seoul", "new_area_learning_days": 0, "new_area": False}
    return AlarmRules(AlarmOptions.model_validate({**base, **kw}))


def fired(triggers: list[Trigger], rule: Rule) -> list[Trigger]:
    return [t for t in triggers if t.rule is rule]


def test_bulk_recordings_fires_once_per_window_and_names_its_entries() -> None:
    s = Script()
    for i in range(12):
        s.read(T0 + timedelta(seconds=10 * i), "a.kim", f"rec-{i}", "team-a")
    got = fired(rules(max_recordings=10, window_minutes=5).scan(s.entries, ScanState()), Rule.BULK_RECORDINGS)
    assert len(got) == 1
    assert got[0].trigger_seq == 10 and got[0].seqs == tuple(range(11))
    assert got[0].window_start == T0 and got[0].account == "a.kim"
    # Ten reads of one recording are not ten recordings.
    s2 = Script()
    for i in range(30):
        s2.read(T0 + timedelta(seconds=i), "a.kim", "rec-1", "team-a")
    assert rules(max_recordings=10).scan(s2.entries, ScanState()) == []


def test_bulk_window_slides_and_quiet_period_ends() -> None:
    s = Script()
    for i in range(6):  # 6 recordings, one every 2 minutes: never more than 3 in 5 minutes
        s.read(T0 + timedelta(minutes=2 * i), "a.kim", f"rec-{i}", "team-a")
    assert rules(max_recordings=3, window_minutes=5).scan(s.entries, ScanState()) == []
    s2 = Script()
    for i in range(8):  # burst, then again 6 minutes later
        s2.read(T0 + timedelta(seconds=i), "a.kim", f"rec-{i}", "team-a")
    for i in range(8):
        s2.read(T0 + timedelta(minutes=6, seconds=i), "a.kim", f"rec-b{i}", "team-a")
    got = fired(rules(max_recordings=3, window_minutes=5).scan(s2.entries, ScanState()), Rule.BULK_RECORDINGS)
    assert [t.trigger_seq for t in got] == [3, 11]


def test_bulk_owners_counts_distinct_owners() -> None:
    s = Script()
    for i in range(5):
        s.read(T0 + timedelta(seconds=i), "a.kim", f"rec-{i}", f"owner-{i % 4}")
    got = rules(max_owners=3, max_recordings=100).scan(s.entries, ScanState())
    assert [(t.rule, t.trigger_seq) for t in got] == [(Rule.BULK_OWNERS, 3)]


def test_new_data_area_after_the_learning_period() -> None:
    s = Script()
    s.read(T0, "a.kim", "rec-1", "team-a")
    s.read(T0 + timedelta(days=1), "a.kim", "rec-2", "team-b")  # still learning
    s.read(T0 + timedelta(days=8), "a.kim", "rec-3", "team-a")  # known
    s.read(T0 + timedelta(days=8, minutes=1), "a.kim", "rec-4", "team-c")  # new
    s.read(T0 + timedelta(days=8, minutes=2), "b.lee", "rec-4", "team-c")  # b.lee's first read ever
    got = rules(new_area=True, new_area_learning_days=7).scan(s.entries, ScanState())
    assert [(t.rule, t.account, t.seqs) for t in got] == [(Rule.NEW_DATA_AREA, "a.kim", (3,))]


def test_off_hours_in_the_policy_time_zone() -> None:
    s = Script()
    s.read(T0, "a.kim", "rec-1", "t")  # Tue 10:00 KST
    s.read(datetime(2026, 3, 3, 14, 30, tzinfo=UTC), "b.lee", "rec-2", "t")  # Tue 23:30 KST
    s.read(datetime(2026, 3, 7, 2, 0, tzinfo=UTC), "c.roux", "rec-3", "t")  # Sat 11:00 KST
    s.read(datetime(2026, 3, 2, 22, 30, tzinfo=UTC), "d.ito", "rec-4", "t")  # Tue 07:30 KST
    got = rules(working_hours=(8, 19)).scan(s.entries, ScanState())
    assert [(t.rule, t.account) for t in got] == [
        (Rule.OFF_HOURS, "b.lee"),
        (Rule.OFF_HOURS, "c.roux"),
        (Rule.OFF_HOURS, "d.ito"),
    ]
    assert "23:30" in got[0].detail


def test_leaving_and_revoked_accounts_follow_the_ledger() -> None:
    s = Script()
    m = lambda n: T0 + timedelta(minutes=n)  # noqa: E731
    s.read(m(0), "a.kim", "rec-1", "t")  # 0: before the notice: nothing
    s.add(m(1), "access-change", user="a.kim", action="leaving", role="analyst", by="hr")
    s.read(m(2), "a.kim", "rec-2", "t")  # 2: fires
    s.read(m(3), "a.kim", "rec-3", "t")  # 3: same window: quiet
    s.add(m(5), "break-glass-request", requester="a.kim", recording_id="rec-3")  # 4: fires again
    s.add(m(6), "access-change", user="b.lee", action="revoked", role="analyst", by="root")
    s.add(m(7), "access-refused", who="b.lee", recording_id="rec-4", owner="t")  # 6: fires
    s.add(m(8), "access-refused", who="unknown-account", recording_id="rec-4", owner="t")  # no account
    s.add(m(9), "access-change", user="a.kim", action="staying", role="analyst", by="hr")
    s.read(m(20), "a.kim", "rec-5", "t")  # 9: staying after all: nothing
    got = rules(window_minutes=2).scan(s.entries, ScanState())
    assert [(t.rule, t.account, t.seqs, t.detail) for t in got] == [
        (Rule.INACTIVE_ACCOUNT, "a.kim", (2,), "account is leaving"),
        (Rule.INACTIVE_ACCOUNT, "a.kim", (4,), "account is leaving"),
        (Rule.INACTIVE_ACCOUNT, "b.lee", (6,), "account is revoked"),
    ]


def test_a_quiet_day_raises_nothing() -> None:
    s = Script()
    start = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 09:00 KST
    for i in range(40):  # one read every 12 minutes, over 8 hours, of the analyst's own three teams
        s.read(start + timedelta(minutes=12 * i), "a.kim", f"rec-{i % 15}", f"team-{i % 3}")
    state = ScanState(
        first_seen={"a.kim": start - timedelta(days=30)}, areas={"a.kim": {"team-0", "team-1", "team-2"}}
    )
    assert AlarmRules(AlarmOptions(timezone="Asia/Seoul")).scan(s.entries, state) == []


def test_compact_ranges() -> None:
    assert compact([5, 1, 2, 3, 9, 10]) == "1-3,5,9-10"
    long = compact(range(0, 400, 2), limit=40)
    assert long.endswith(",...") and len(long) <= 40


def test_mining_runs_of_the_service_account_are_exempt_but_no_one_else() -> None:
    from veil.access.roles import MINING_SERVICE

    def burst(who: str, **extra: str) -> list[Trigger]:
        s = Script()
        for i in range(12):
            s.add(
                T0 + timedelta(seconds=i),
                "object-read",
                who=who,
                recording_id=f"rec-{i}",
                owner=f"owner-{i}",
                klass="redacted",
                **extra,
            )
        return rules(max_recordings=5, max_owners=5, new_area=True).scan(s.entries, ScanState())

    assert burst(MINING_SERVICE, on_behalf_of="a.kim") == []
    read_rules = {Rule.BULK_RECORDINGS, Rule.BULK_OWNERS, Rule.NEW_DATA_AREA}
    assert {t.rule for t in burst(MINING_SERVICE)} == read_rules
    assert {t.rule for t in burst("a.kim", on_behalf_of="a.kim")} == read_rules


def test_owner_from_the_entry_else_asked_for_older_entries() -> None:
    s = Script()
    for i in range(6):  # three entries naming their owner, three older ones that do not
        event = {"who": "a.kim", "recording_id": f"rec-{i}", "klass": "redacted"}
        s.add(T0 + timedelta(seconds=i), "object-read", **(event | ({"owner": f"o-{i}"} if i < 3 else {})))
    asked: list[str] = []

    def owner_of(recording_id: str) -> str:
        asked.append(recording_id)
        return f"o-{recording_id}"

    got = rules(max_owners=5, max_recordings=100).scan(s.entries, ScanState(), owner_of)
    assert asked == ["rec-3", "rec-4", "rec-5"]
    assert [(t.rule, t.trigger_seq) for t in got] == [(Rule.BULK_OWNERS, 5)]
