"""The access guard in the real recording store: redacted reads by role, raw reads only inside a
break-glass window (the data key is unwrapped only then), a revocation between two reads, and the
alarms reading the store's own entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.access.conftest import Clock, entries
from veil.access.alarm_log import AlarmLog, store_owners
from veil.access.breakglass import BreakGlass
from veil.access.directory import Directory
from veil.access.guard import AccessGuard
from veil.access.roles import Role
from veil.audit.store import Ledger
from veil.exceptions import AccessDenied, NotAuthenticated
from veil.options import AlarmOptions
from veil.store.backends import LocalFolderBackend
from veil.store.kek import FileKek
from veil.store.models import ObjectClass, RawAccessRecorder, ReadGuard, StoredObject
from veil.store.store import RecordingStore

RAW = b"raw-frames-of-a-synthetic-recording"
RED = b"redacted-frames"


@pytest.fixture
def directory(sqlite_directory: Directory) -> Directory:
    """SQLite only: the PostgreSQL runs are in test_directory, test_breakglass and test_alarm_log."""
    return sqlite_directory


@pytest.fixture
def people(directory: Directory) -> Directory:
    directory.add_user("a.kim", Role.ANALYST, by="root")
    directory.add_user("p.one", Role.PRIVACY_OFFICER, by="root")
    directory.add_user("e.lee", Role.EMPLOYEE, by="root")
    return directory


@pytest.fixture
def store(people: Directory, ledger: Ledger, sqlite_catalog: str, tmp_path: Path) -> Iterator[RecordingStore]:
    with RecordingStore.open(
        catalog_url=sqlite_catalog,
        backend=LocalFolderBackend(tmp_path / "objects"),
        kek=FileKek(tmp_path / "kek-home"),
        ledger=ledger,
        guard=AccessGuard(people),
    ) as s:
        yield s


def put(
    store: RecordingStore, data: bytes, klass: ObjectClass, rid: str = "rec-1", owner: str = "e.lee"
) -> StoredObject:
    return store.put(data, klass=klass, owner=owner, recording_id=rid, segment=0, policy_version="1")


def test_the_guard_is_the_stores_read_guard(people: Directory) -> None:
    guard = AccessGuard(people)
    assert isinstance(guard, ReadGuard) and isinstance(guard, RawAccessRecorder)


def test_raw_only_in_the_window_and_revocation_between_two_reads(
    store: RecordingStore, people: Directory, ledger: Ledger, clock: Clock
) -> None:
    raw, red = put(store, RAW, ObjectClass.RAW), put(store, RED, ObjectClass.REDACTED)
    assert store.get(red.object_id, actor="a.kim") == RED
    with pytest.raises(AccessDenied):
        store.get(red.object_id, actor="e.lee")  # employees: summaries in the portal, not outputs
    with pytest.raises(AccessDenied) as denied:
        store.get(raw.object_id, actor="a.kim")
    assert denied.value.exit_code == 11
    bg = BreakGlass(people)
    grant = bg.approve(bg.request("a.kim", "rec-1", "complaint 118").request_id, "p.one")
    assert store.get(raw.object_id, actor="a.kim") == RAW
    (event,) = entries(ledger, "raw-access")
    assert event["event"]["approver"] == "p.one" and event["event"]["why"] == "complaint 118"
    assert event["event"]["expires"] == grant.expires_at.isoformat()
    people.revoke("a.kim", by="root", reason="left")  # between two reads of one session
    with pytest.raises(NotAuthenticated):
        store.get(raw.object_id, actor="a.kim")
    with pytest.raises(NotAuthenticated):
        store.get(red.object_id, actor="a.kim")
    assert len(entries(ledger, "raw-access")) == 1
    ledger.verify().raise_for_failure()


def test_the_window_ends_on_time(store: RecordingStore, people: Directory, clock: Clock) -> None:
    raw = put(store, RAW, ObjectClass.RAW)
    bg = BreakGlass(people)
    bg.approve(bg.request("a.kim", "rec-1", "ticket 5", minutes=5).request_id, "p.one")
    assert store.get(raw.object_id, actor="a.kim") == RAW
    clock.advance(minutes=5)
    with pytest.raises(AccessDenied):
        store.get(raw.object_id, actor="a.kim")


def test_alarms_read_the_stores_entries_and_ask_it_for_owners(
    store: RecordingStore, people: Directory, ledger: Ledger, ledger_clock: Clock
) -> None:
    objs = [put(store, RED, ObjectClass.REDACTED, f"rec-{i}", f"emp-{i % 6}") for i in range(8)]
    log = AlarmLog(
        people.engine,
        ledger,
        AlarmOptions(max_recordings=6, max_owners=5, new_area=False),
        owner_of=store_owners(store),
    )
    for obj in objs:
        ledger_clock.advance(seconds=2)
        store.get(obj.object_id, actor="a.kim")
    got = {(a.rule, a.account) for a in log.evaluate()}
    assert got == {("bulk-recordings", "a.kim"), ("bulk-owners", "a.kim")}
