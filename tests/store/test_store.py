"""RecordingStore: round trip, idempotent put, the ledger entries, the read guard, shredding,
and no plaintext of a raw object anywhere on disk."""

from __future__ import annotations

import os
import sqlite3
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from veil.audit import Ledger
from veil.audit.events import RawAccessEvent
from veil.exceptions import AccessDenied, InputError, LedgerError, StoreError, StoreIntegrityError
from veil.store.kek import FileKms
from veil.store.ledgerio import ledger_events
from veil.store.models import ObjectClass, Retention, StoredObject
from veil.store.store import RecordingStore, backend_key

from .conftest import StoreFactory

MARKER = b"MARKER-7f3c9e-plaintext-of-a-raw-object"


def put(
    store: RecordingStore, data: bytes, klass: ObjectClass = ObjectClass.REDACTED, seg: int = 0
) -> StoredObject:
    return store.put(data, klass=klass, owner="u17", recording_id="rec-1", segment=seg, policy_version="3")


def kinds(ledger: Ledger, kind: str) -> list[dict[str, object]]:
    return list(ledger_events(ledger, kind=kind))


def catalog(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "catalog.sqlite3")


class BreakGlassGuard:
    """A stand-in for veil.access's guard: raw reads allowed to `holder` with grant g-1."""

    def __init__(self, holder: str) -> None:
        self.holder = holder

    def authorize_read(self, actor: str, obj: StoredObject) -> str | None:
        if obj.klass is ObjectClass.RAW:
            if actor != self.holder:
                raise AccessDenied("no break-glass grant")
            return "g-1"
        return None

    def raw_access_event(self, grant_id: str) -> RawAccessEvent:
        expires = datetime(2030, 1, 1, tzinfo=UTC)
        return RawAccessEvent("rec-1", self.holder, f"grant {grant_id}: incident 42", "officer-b", expires)


def test_round_trip_and_catalog(store: RecordingStore, ledger: Ledger, home: Path) -> None:
    data = os.urandom(5000)
    obj = put(store, data)
    assert store.get(obj.object_id, actor="analyst-2") == data
    assert store.stat(obj.object_id) == obj
    assert obj.size == (home / "objects" / backend_key(obj.object_id)).stat().st_size
    assert obj.expires_at - obj.created_at == timedelta(days=90)
    [stored] = kinds(ledger, "object-stored")
    assert stored["object_id"] == obj.object_id and stored["sha256"] == obj.sha256
    assert stored["size"] == obj.size and stored["klass"] == "redacted"
    [read] = kinds(ledger, "object-read")
    assert read["who"] == "analyst-2" and read["object_id"] == obj.object_id
    ledger.verify().raise_for_failure()


def test_streamed_put_from_a_file(store: RecordingStore, tmp_path: Path) -> None:
    src = tmp_path / "segment.bin"
    src.write_bytes(os.urandom(10_000))
    with src.open("rb") as fh:
        obj = put(store, fh)  # type: ignore[arg-type]
    assert store.get(obj.object_id, actor="a") == src.read_bytes()


def test_put_is_idempotent(store: RecordingStore, ledger: Ledger, home: Path) -> None:
    import io

    from veil.store.models import SlotTaken

    first = put(store, b"one")
    assert put(store, b"one") == first
    assert put(store, io.BytesIO(b"one")) == first  # type: ignore[arg-type]
    for other in (b"something else entirely", b"onE", io.BytesIO(b"one!")):
        with pytest.raises(SlotTaken, match=r"already stored as object .* with other bytes"):
            put(store, other)  # type: ignore[arg-type]
    assert store.get(first.object_id, actor="a") == b"one"
    assert len(kinds(ledger, "object-stored")) == 1
    assert [p.name for p in (home / "objects").rglob("*") if p.is_file()] == [first.object_id]
    other_policy = store.put(b"two", klass="redacted", owner="u17", recording_id="rec-1", segment=0,
                             policy_version="4")  # fmt: skip
    assert other_policy.object_id != first.object_id


def test_list_filters(store: RecordingStore) -> None:
    a = put(store, b"a", ObjectClass.REDACTED, 0)
    b = put(store, b"b", ObjectClass.RAW, 0)
    c = store.put(b"c", klass="redacted", owner="u9", recording_id="rec-2", segment=0, policy_version="3")
    assert [o.object_id for o in store.list()] == [a.object_id, b.object_id, c.object_id]
    assert store.list(klass=ObjectClass.RAW) == [b]
    assert store.list(owner="u9") == [c]
    assert {o.object_id for o in store.list(recording_id="rec-1")} == {a.object_id, b.object_id}


def test_bad_names_are_refused_before_anything_is_written(store: RecordingStore, home: Path) -> None:
    with pytest.raises(InputError, match="recording id"):
        store.put(b"x", klass="redacted", owner="u", recording_id="a\nb", segment=0, policy_version="1")
    with pytest.raises(InputError, match="object class"):
        store.put(b"x", klass="secret", owner="u", recording_id="r", segment=0, policy_version="1")
    assert not [p for p in (home / "objects").rglob("*") if p.is_file()]


def test_unknown_object(store: RecordingStore) -> None:
    with pytest.raises(StoreError, match="no object"):
        store.get("f" * 32, actor="a")


# --- raw footage ---------------------------------------------------------------------------------


def test_raw_read_refused_without_break_glass(store: RecordingStore, ledger: Ledger) -> None:
    obj = put(store, b"raw pixels", ObjectClass.RAW)
    with pytest.raises(AccessDenied, match="break-glass"):
        store.get(obj.object_id, actor="analyst-2")
    assert kinds(ledger, "raw-access") == [] and kinds(ledger, "object-read") == []


def test_raw_read_with_a_grant_is_a_raw_access_entry(make_store: StoreFactory, ledger: Ledger) -> None:
    store = make_store(guard=BreakGlassGuard("analyst-2"))
    obj = put(store, b"raw pixels", ObjectClass.RAW)
    with pytest.raises(AccessDenied):
        store.get(obj.object_id, actor="analyst-3")
    assert store.get(obj.object_id, actor="analyst-2") == b"raw pixels"
    [entry] = kinds(ledger, "raw-access")
    assert entry["who"] == "analyst-2" and entry["approver"] == "officer-b"
    assert entry["why"] == "grant g-1: incident 42" and entry["recording_id"] == "rec-1"


def test_no_plaintext_of_a_raw_object_on_disk(make_store: StoreFactory, home: Path) -> None:
    store = make_store(guard=BreakGlassGuard("analyst-2"))
    data = MARKER * 300 + os.urandom(3000) + MARKER
    obj = put(store, data, ObjectClass.RAW)
    assert store.get(obj.object_id, actor="analyst-2") == data
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files) and any(obj.object_id in p.name for p in files)
    for path in files:
        assert MARKER not in path.read_bytes(), path.name
        assert MARKER.hex().encode() not in path.read_bytes(), path.name


# --- shredding -----------------------------------------------------------------------------------


def test_expire_shreds_past_retention(make_store: StoreFactory, ledger: Ledger, home: Path) -> None:
    store = make_store(retention=Retention(raw_days=7, redacted_days=90))
    raw = put(store, b"raw", ObjectClass.RAW)
    red = put(store, b"red", ObjectClass.REDACTED)
    assert store.expire(raw.created_at + timedelta(days=6)) == []
    [gone] = store.expire(raw.created_at + timedelta(days=8))
    assert gone.object_id == raw.object_id and gone.shredded
    with pytest.raises(StoreIntegrityError, match="data key destroyed"):
        store.get(raw.object_id, actor="a")
    assert store.get(red.object_id, actor="a") == b"red"  # not yet due
    assert not (home / "objects" / backend_key(raw.object_id)).exists()
    with catalog(home) as db:
        keys = {r[0] for r in db.execute("SELECT object_id FROM veil_store_data_keys")}
    assert keys == {red.object_id}
    [deletion] = kinds(ledger, "deletion")
    assert deletion["what"] == f"raw-object {raw.object_id}" and deletion["reason"] == "retention"
    assert deletion["method"] == "crypto-shred"
    assert store.expire(raw.created_at + timedelta(days=8)) == []  # once
    assert len(kinds(ledger, "deletion")) == 1
    ledger.verify().raise_for_failure()


def test_delete_on_request(store: RecordingStore, ledger: Ledger) -> None:
    obj = put(store, b"data")
    assert store.delete(obj.object_id, actor="officer-b", reason="employee request 12").shredded
    with pytest.raises(StoreIntegrityError, match="data key destroyed"):
        store.get(obj.object_id, actor="a")
    [deletion] = kinds(ledger, "deletion")
    assert deletion["reason"] == "request by officer-b: employee request 12"
    assert put(store, b"again") == store.stat(obj.object_id)  # the slot stays taken: no re-store


def test_retention_recorded_for_later_opens(make_store: StoreFactory) -> None:
    make_store(retention=Retention(raw_days=2, redacted_days=30))
    later = make_store(retention=None)
    assert later.retention == Retention(raw_days=2, redacted_days=30)


def test_a_grant_of_someone_else_is_refused(make_store: StoreFactory, ledger: Ledger) -> None:
    guard = BreakGlassGuard("analyst-2")
    store = make_store(guard=guard)
    obj = put(store, b"raw pixels", ObjectClass.RAW)
    guard.holder = "analyst-3"  # the guard lets analyst-3 in, but its grant names analyst-2
    guard.raw_access_event = lambda grant_id: RawAccessEvent(  # type: ignore[method-assign]
        "rec-1", "analyst-2", "grant g-1: incident 42", "officer-b", datetime(2030, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(AccessDenied, match="not analyst-3's grant"):
        store.get(obj.object_id, actor="analyst-3")
    assert kinds(ledger, "raw-access") == []


def test_put_and_read_stream_in_bounded_memory(make_store: StoreFactory, tmp_path: Path) -> None:
    """A 48 MiB object goes in and out through files with a few 1 MiB chunks in memory; `get`
    holds the plaintext once (not twice)."""
    size = 48 << 20
    store = make_store(chunk_size=1 << 20)
    src, back = tmp_path / "big.bin", tmp_path / "back.bin"
    with src.open("wb") as fh:
        for i in range(48):
            fh.write(bytes([i]) * (1 << 20))
    tracemalloc.start()
    try:
        with src.open("rb") as fh:
            obj = put(store, fh)  # type: ignore[arg-type]
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with back.open("wb") as fh:
            store.read_into(obj.object_id, fh, actor="a")  # type: ignore[arg-type]
        _, read_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        data = store.get(obj.object_id, actor="a")
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert put_peak < 8 << 20 and read_peak < 8 << 20, (put_peak, read_peak)
    assert len(data) == size and get_peak < 1.5 * size, get_peak
    assert back.read_bytes() == src.read_bytes() == data


def test_rewrap_moves_every_data_key_to_another_kek(make_store: StoreFactory, home: Path) -> None:
    store = make_store()
    objs = [put(store, bytes([i]) * 3000, seg=i) for i in range(3)]
    kms = FileKms(home / "kms.json")
    assert store.rewrap(kms) == 3
    assert store.rewrap(kms) == 0  # nothing left under the old key
    with catalog(home) as db:
        assert {r[0] for r in db.execute("SELECT kek_id FROM veil_store_data_keys")} == {kms.key_id}
    fresh = make_store(kek=FileKms(home / "kms.json"))
    assert [fresh.get(o.object_id, actor="a") for o in objs] == [bytes([i]) * 3000 for i in range(3)]
    with pytest.raises(StoreIntegrityError, match="unwrapped"):
        make_store().get(objs[0].object_id, actor="a")  # the key file no longer unwraps them


def test_ledger_outage_fails_closed_and_the_rerun_completes(
    store: RecordingStore, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(_event: object) -> None:
        raise LedgerError("ledger append failed: OperationalError")

    monkeypatch.setattr(ledger, "append", down)
    with pytest.raises(LedgerError):
        put(store, b"segment")  # stored, but its entry could not be appended: the put fails
    monkeypatch.undo()
    obj = put(store, b"segment")  # the rerun finds the object and appends its pending entry
    assert [e["object_id"] for e in kinds(ledger, "object-stored")] == [obj.object_id]
    assert put(store, b"segment") == obj and len(kinds(ledger, "object-stored")) == 1
    monkeypatch.setattr(ledger, "append", down)
    with pytest.raises(LedgerError):
        store.get(obj.object_id, actor="a")  # no read without its entry
    monkeypatch.undo()
    assert store.get(obj.object_id, actor="a") == b"segment"
    assert len(kinds(ledger, "object-read")) == 1


def test_a_deletion_reason_with_personal_data_is_refused(store: RecordingStore, ledger: Ledger) -> None:
    obj = put(store, b"data")
    value = "jane.doe@example.com"
    with pytest.raises(InputError, match="email") as info:
        store.delete(obj.object_id, actor="officer-b", reason=f"asked by {value}")
    assert value not in str(info.value)
    assert not store.stat(obj.object_id).shredded and kinds(ledger, "deletion") == []
