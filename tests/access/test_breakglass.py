"""Raw footage only by break-glass: a reason, a second approver of another role, a time limit, every
step in the ledger; the store's guard decides on every read, so a revocation holds at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.access.conftest import Clock, entries
from tests.access.fakes import FakeObject, FakeStore
from veil.access.breakglass import BreakGlass, Status
from veil.access.directory import Directory
from veil.access.guard import AccessGuard
from veil.access.roles import Role
from veil.audit.store import Ledger
from veil.exceptions import AccessDenied, InputError, NotAuthenticated
from veil.options import AccessOptions

RAW = FakeObject("obj-raw-1", "raw", "e.lee", "rec-1")
RAW_OTHER = FakeObject("obj-raw-2", "raw", "e.lee", "rec-2")
REDACTED = FakeObject("obj-red-1", "redacted", "e.lee", "rec-1")


@pytest.fixture
def people(directory: Directory) -> Directory:
    directory.add_user("a.kim", Role.ANALYST, by="root")
    directory.add_user("a.two", Role.ANALYST, by="root")
    directory.add_user("p.one", Role.PRIVACY_OFFICER, by="root")
    directory.add_user("p.two", Role.PRIVACY_OFFICER, by="root")
    directory.add_user("adm", Role.ADMIN, by="root")
    directory.add_user("e.lee", Role.EMPLOYEE, by="root")
    return directory


@pytest.fixture
def bg(people: Directory) -> BreakGlass:
    return BreakGlass(people, AccessOptions(break_glass_max_minutes=240))


@pytest.fixture
def store(people: Directory, bg: BreakGlass, ledger: Ledger) -> FakeStore:
    s = FakeStore(AccessGuard(people, bg), ledger)
    for obj in (RAW, RAW_OTHER, REDACTED):
        s.add(obj)
    return s


def test_raw_read_needs_an_approved_window_and_every_step_is_recorded(
    bg: BreakGlass, store: FakeStore, ledger: Ledger, clock: Clock
) -> None:
    with pytest.raises(AccessDenied, match="break-glass"):
        store.get(RAW.object_id, actor="a.kim")
    req = bg.request("a.kim", "rec-1", "complaint 118: what was on screen at 10:02")
    assert req.minutes == 60 and req.status is Status.PENDING
    with pytest.raises(AccessDenied):  # asked, not yet approved
        store.get(RAW.object_id, actor="a.kim")
    grant = bg.approve(req.request_id, "p.one")
    assert grant.expires_at == clock.now + timedelta(minutes=60)
    assert store.get(RAW.object_id, actor="a.kim") == b"payload"
    assert store.get(RAW.object_id, actor="a.kim") == b"payload"
    kinds = [e["kind"] for e in entries(ledger) if e["kind"] != "access-change"]
    assert kinds == [
        "access-refused",
        "break-glass-request",
        "access-refused",
        "break-glass-decision",
        "raw-access",
        "raw-access",
    ]
    raw = entries(ledger, "raw-access")[0]["event"]
    assert raw["who"] == "a.kim" and raw["approver"] == "p.one" and raw["recording_id"] == "rec-1"
    assert raw["why"] == req.reason
    decision = entries(ledger, "break-glass-decision")[0]["event"]
    assert decision["decision"] == "approved" and decision["decided_by"] == "p.one"
    ledger.verify().raise_for_failure()


def test_the_window_covers_one_recording_one_holder_and_ends(
    bg: BreakGlass, store: FakeStore, clock: Clock
) -> None:
    bg.approve(bg.request("a.kim", "rec-1", "audit sample").request_id, "adm")
    store.get(RAW.object_id, actor="a.kim")
    with pytest.raises(AccessDenied):
        store.get(RAW_OTHER.object_id, actor="a.kim")  # another recording
    with pytest.raises(AccessDenied):
        store.get(RAW.object_id, actor="a.two")  # another person
    clock.advance(minutes=59, seconds=59)
    store.get(RAW.object_id, actor="a.kim")
    clock.advance(seconds=1)
    with pytest.raises(AccessDenied):
        store.get(RAW.object_id, actor="a.kim")


def test_the_approver_is_a_second_person_of_another_role(bg: BreakGlass, people: Directory) -> None:
    req = bg.request("p.one", "rec-1", "incident review")
    with pytest.raises(AccessDenied, match="second person"):
        bg.approve(req.request_id, "p.one")
    with pytest.raises(AccessDenied, match="another role"):
        bg.approve(req.request_id, "p.two")
    for unable in ("a.kim", "e.lee"):  # no BREAK_GLASS_APPROVE
        with pytest.raises(AccessDenied):
            bg.approve(req.request_id, unable)
    with pytest.raises(NotAuthenticated):
        bg.approve(req.request_id, "nobody")
    assert bg.approve(req.request_id, "adm").approver == "adm"
    with pytest.raises(InputError, match="approved already"):
        bg.approve(req.request_id, "adm")
    with pytest.raises(AccessDenied):  # employees and admins may not even ask
        bg.request("e.lee", "rec-1", "curious")
    with pytest.raises(AccessDenied):
        bg.request("adm", "rec-1", "curious")


def test_length_is_capped_reason_required_and_requests_lapse(bg: BreakGlass, clock: Clock) -> None:
    assert bg.request("a.kim", "rec-1", "long investigation", minutes=10_000).minutes == 240
    with pytest.raises(InputError, match="reason"):
        bg.request("a.kim", "rec-1", "   ")
    with pytest.raises(InputError, match="one line"):
        bg.request("a.kim", "rec-1", "line one\nline two")
    with pytest.raises(InputError, match="recording id"):
        bg.request("a.kim", "../../etc", "why")
    late = bg.request("a.kim", "rec-1", "weekend ticket")
    clock.advance(hours=24, seconds=1)
    with pytest.raises(InputError, match="lapsed"):
        bg.approve(late.request_id, "p.one")


def test_deny_and_cancel_close_the_window(
    bg: BreakGlass, store: FakeStore, ledger: Ledger, clock: Clock
) -> None:
    denied = bg.request("a.kim", "rec-1", "ticket 7")
    with pytest.raises(AccessDenied):
        bg.deny(denied.request_id, "a.kim")
    assert bg.deny(denied.request_id, "p.one", reason="no ticket").status is Status.DENIED
    with pytest.raises(InputError, match="denied already"):
        bg.approve(denied.request_id, "adm")
    clock.advance(minutes=1)
    req = bg.request("a.kim", "rec-1", "ticket 8")
    bg.approve(req.request_id, "p.one")
    store.get(RAW.object_id, actor="a.kim")
    assert bg.cancel(req.request_id, "a.kim", reason="done").status is Status.CANCELLED
    with pytest.raises(AccessDenied):
        store.get(RAW.object_id, actor="a.kim")
    decisions = [e["event"]["decision"] for e in entries(ledger, "break-glass-decision")]
    assert decisions == ["denied", "approved", "cancelled"]
    assert [r.status for r in bg.requests(requester="a.kim")] == [Status.DENIED, Status.CANCELLED]


def test_revocation_mid_session_stops_the_next_read(
    people: Directory, bg: BreakGlass, store: FakeStore, ledger: Ledger
) -> None:
    bg.approve(bg.request("a.kim", "rec-1", "ticket 9").request_id, "p.one")
    assert store.get(REDACTED.object_id, actor="a.kim") == b"payload"
    assert store.get(RAW.object_id, actor="a.kim") == b"payload"
    # Another process (the admin's CLI) revokes, between two reads of the same session.
    with Directory(people.engine, ledger) as admin:
        admin.revoke("a.kim", by="adm", reason="left")
    with pytest.raises(NotAuthenticated):
        store.get(REDACTED.object_id, actor="a.kim")
    with pytest.raises(NotAuthenticated):
        store.get(RAW.object_id, actor="a.kim")
    refused = [e["event"] for e in entries(ledger, "access-refused")]
    assert [(r["who"], r["cause"], r["klass"]) for r in refused] == [
        ("a.kim", "not-authenticated", "redacted"),
        ("a.kim", "not-authenticated", "raw"),
    ]


def test_a_revoked_approver_or_a_demoted_holder_closes_the_window(
    people: Directory, bg: BreakGlass, store: FakeStore
) -> None:
    bg.approve(bg.request("a.kim", "rec-1", "ticket 10").request_id, "p.one")
    store.get(RAW.object_id, actor="a.kim")
    people.revoke("p.one", by="adm", reason="suspended")
    with pytest.raises(AccessDenied, match="approver"):
        store.get(RAW.object_id, actor="a.kim")
    bg.approve(bg.request("a.two", "rec-1", "ticket 11").request_id, "p.two")
    store.get(RAW.object_id, actor="a.two")
    people.grant_role("a.two", Role.EMPLOYEE, by="adm", reason="moved")
    with pytest.raises(AccessDenied):
        store.get(RAW.object_id, actor="a.two")


def test_redacted_reads_need_the_permission_and_strangers_stay_anonymous(
    store: FakeStore, ledger: Ledger
) -> None:
    store.get(REDACTED.object_id, actor="a.kim")
    for role_without in ("e.lee", "p.one", "adm"):
        with pytest.raises(AccessDenied):
            store.get(REDACTED.object_id, actor=role_without)
    typed = "hunter2-typed-in-the-login-box"
    with pytest.raises(NotAuthenticated):
        store.get(REDACTED.object_id, actor=typed)
    assert typed not in str(entries(ledger))
    assert entries(ledger, "access-refused")[-1]["event"]["who"] == "unknown-account"
