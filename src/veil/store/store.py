"""The recording store: encrypted objects, their catalog, retention by key destruction, and a
ledger entry for every store, read and deletion.

    store = RecordingStore.open()                       # defaults under the Veil home folder
    obj = store.put(data, klass=ObjectClass.REDACTED, owner="u17", recording_id="r1",
                    segment=0, policy_version="3")      # idempotent per (recording, segment, class, policy)
    data = store.get(obj.object_id, actor="analyst-2")  # guard first, then a ledger entry, then decrypt
    store.expire()                                      # crypto-shred what is past its retention

Crash safety (the order of writes):
1. put encrypts the object under a fresh data key and writes the ciphertext to the backend
   (atomically: it is there whole or not at all);
2. one catalog transaction inserts the object row, its wrapped data key and an outbox row holding
   the "object-stored" ledger entry;
3. the outbox entry is appended to the ledger and the outbox row deleted, under a lock; an entry
   already in the ledger (the process died between its append and the outbox delete) is found by
   reading the ledger from the size noted in the outbox row, and not appended twice.
A crash after 1 leaves an object without a row: `reconcile()` deletes it (objects older than
`older_than` with no row). A crash after 2 leaves a row whose entry is pending: the next put of the
same slot, any get of it, or `reconcile()` appends it. So after a restart and a reconcile there is
never an object without its entry nor an entry without its object. Shredding runs the same way:
delete the key row and mark the object shredded with a "deletion" outbox entry in one
transaction, then delete the ciphertext, then append the entry.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from sqlalchemy import Engine, exists, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from veil import faults
from veil.audit import Ledger, default_key_dir, default_ledger_url
from veil.audit.events import (
    DeletionEvent,
    LedgerEvent,
    ObjectReadEvent,
    ObjectStoredEvent,
    RawAccessEvent,
    event_from_dict,
)
from veil.exceptions import AccessDenied, InputError, LedgerError, StoreError, StoreIntegrityError
from veil.store.backends import PARTIAL, Backend, LocalFolderBackend
from veil.store.catalog import WRITE, DataKeyRow, ObjectRow, OutboxRow, RetentionRow, open_catalog
from veil.store.crypto import DEFAULT_CHUNK, decrypt_stream, encrypt_stream, new_data_key
from veil.store.home import default_catalog_url, veil_home
from veil.store.kek import FileKek, KeyProvider
from veil.store.ledgerio import in_ledger
from veil.store.models import (
    ObjectClass,
    RawAccessRecorder,
    ReadGuard,
    RedactedOnlyGuard,
    Retention,
    SlotTaken,
    StoredObject,
)

OBJECTS = "objects"
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
REASON_MAX = 120


@dataclass(frozen=True)
class ReconcileReport:
    ledger_entries_appended: int
    orphans_deleted: int
    shredded_leftovers_deleted: int


def _now() -> datetime:
    return datetime.now(UTC)


def _check_name(what: str, value: str, limit: int = 200) -> str:
    if not _NAME.fullmatch(value) or len(value) > limit:
        raise InputError(f"{what} must be 1 to {limit} characters without control characters")
    return value


def open_default_ledger(attempts: int = 5) -> Ledger:
    """The Veil home's ledger. Two processes opening a new SQLite ledger at once can find it
    locked while the other creates its tables: that is retried, briefly. (Root cause, in
    veil.audit: `Ledger.open` runs `create_all` in a deferred transaction, so both processes read
    the empty schema, then each CREATE TABLE needs a lock upgrade, which SQLite refuses at once
    with SQLITE_BUSY instead of waiting; running it on the ledger's writer engine, BEGIN
    IMMEDIATE, makes the second process wait. Drop these retries once that is in.)"""
    for attempt in range(attempts):
        try:
            return Ledger.open(default_ledger_url(), default_key_dir())
        except LedgerError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _check_put(
    klass: ObjectClass | str, owner: str, recording_id: str, segment: int, policy_version: str
) -> ObjectClass:
    if klass not in {c.value for c in ObjectClass}:
        raise InputError(f"object class must be one of {', '.join(c.value for c in ObjectClass)}")
    _check_name("owner", owner)
    _check_name("recording id", recording_id)
    _check_name("policy version", policy_version, 64)
    if segment < 0:
        raise InputError("segment must be >= 0")
    return ObjectClass(klass)


def _check_reason(reason: str) -> None:
    """A deletion reason stays in the ledger for good: one short line, and nothing Veil's own
    detectors find personal in it (refused naming the type and position only)."""
    _check_name("reason", reason, REASON_MAX)
    from veil.detect.registry import default_analyzer

    found = default_analyzer().analyze(reason)
    if found:
        where = ", ".join(f"{f.type} at {f.start}-{f.end}" for f in found)
        raise InputError(
            f"the reason looks like it holds personal data ({where}); it would stay in the ledger "
            "for good: refer to a ticket or case number instead"
        )


def backend_key(object_id: str) -> str:
    return f"{OBJECTS}/{object_id[:2]}/{object_id}"


class RecordingStore:
    """Use `RecordingStore.open`. Thread-compatible, not thread-safe; one per process is enough."""

    def __init__(
        self,
        engine: Engine,
        backend: Backend,
        kek: KeyProvider,
        ledger: Ledger,
        guard: ReadGuard,
        retention: Retention,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        owns_ledger: bool = False,
    ) -> None:
        self._engine, self._writer = engine, engine.execution_options(**{WRITE: True})
        self.backend, self.kek, self.ledger, self.guard = backend, kek, ledger, guard
        self.retention, self.chunk_size = retention, chunk_size
        self._owns_ledger = owns_ledger

    @classmethod
    def open(
        cls,
        *,
        catalog_url: str | None = None,
        backend: Backend | None = None,
        kek: KeyProvider | None = None,
        ledger: Ledger | None = None,
        guard: ReadGuard | None = None,
        retention: Retention | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> RecordingStore:
        """Defaults: VEIL_CATALOG_URL or SQLite under the Veil home; objects in its objects/ folder;
        the key file keys/store-kek.key; the default ledger; a guard that lets anyone read
        redacted objects and nobody raw ones; the retention last recorded in the catalog (else 7
        days raw, 90 days redacted). A `retention` given here is recorded for later opens."""
        engine = open_catalog(catalog_url or default_catalog_url())
        try:
            kept = _retention(engine, retention)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"catalog unavailable ({type(exc).__name__}); retry later") from exc
        return cls(
            engine,
            backend or LocalFolderBackend(veil_home() / "objects"),
            kek or FileKek(),
            ledger or open_default_ledger(),
            guard or RedactedOnlyGuard(),
            kept,
            chunk_size=chunk_size,
            owns_ledger=ledger is None,
        )

    def close(self) -> None:
        self._engine.dispose()
        if self._owns_ledger:
            self.ledger.close()

    def __enter__(self) -> RecordingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with Session(self._writer, expire_on_commit=False) as s, s.begin():
                yield s
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"catalog write failed ({type(exc).__name__}); retry later") from exc

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._engine) as s:
                yield s
        except SQLAlchemyError as exc:
            raise StoreError(f"catalog read failed ({type(exc).__name__}); retry later") from exc

    # --- put -------------------------------------------------------------------------------------

    def put(
        self,
        data: bytes | BinaryIO,
        *,
        klass: ObjectClass | str,
        owner: str,
        recording_id: str,
        segment: int,
        policy_version: str,
    ) -> StoredObject:
        """Store `data` encrypted; the stored object when this (recording, segment, class, policy
        version) already holds the same bytes (then nothing is written or logged); SlotTaken
        when it holds other bytes (a shredded slot cannot be compared: it is returned as is)."""
        klass = _check_put(klass, owner, recording_id, segment, policy_version)
        slot = (recording_id, segment, klass, policy_version)
        found = self._find_slot(*slot)
        if found is not None:
            self._check_same(found, data, rewind=False)
            self._flush(found.object_id)
            return found
        object_id = uuid.uuid4().hex
        wrapped, size, sha256 = self._seal(object_id, data)
        now = _now()
        obj = StoredObject(
            object_id, klass, owner, recording_id, segment, policy_version, size, sha256,
            now, self.retention.expires(klass, now), False,
        )  # fmt: skip
        stored = ObjectStoredEvent(
            object_id, recording_id, klass.value, segment, size, sha256, policy_version, obj.expires_at
        )
        try:
            with self._write() as s:
                s.add(_row(obj, backend_key(object_id)))
                s.flush()  # the key row's foreign key needs the object row first
                s.add(DataKeyRow(object_id=object_id, kek_id=self.kek.key_id, wrapped=wrapped))
                s.add(self._outbox(object_id, stored))
        except IntegrityError:
            # Another process stored this slot first: ours goes, theirs is the object.
            self.backend.delete(backend_key(object_id))
            found = self._find_slot(*slot)
            if found is None:
                raise StoreError("catalog refused the object but holds no object in its slot") from None
            self._check_same(found, data, rewind=True)
            self._flush(found.object_id)
            return found
        faults.check("store-catalog-committed")
        self._flush(object_id)
        return obj

    def _check_same(self, found: StoredObject, data: bytes | BinaryIO, *, rewind: bool) -> None:
        """SlotTaken unless `data` is the plaintext of `found` (compared by SHA-256 inside the
        store: nothing is returned nor logged as a read)."""
        if found.shredded:
            return
        mine = hashlib.sha256()
        if isinstance(data, bytes | bytearray | memoryview):
            mine.update(data)
        else:
            if rewind and not data.seekable():
                raise StoreError(
                    f"object {found.object_id} was stored in this slot meanwhile and the input cannot "
                    "be read again to compare: rerun the put"
                )
            if rewind:
                data.seek(0)
            while chunk := data.read(self.chunk_size):
                mine.update(chunk)
        with self._read() as s:
            key_row = s.get(DataKeyRow, found.object_id)
            wrapped = key_row.wrapped if key_row else None
        if wrapped is None:
            return  # shredded meanwhile
        theirs = hashlib.sha256()
        dek = self.kek.unwrap(wrapped, found.object_id.encode())
        with self.backend.reader(backend_key(found.object_id)) as read:
            for chunk in decrypt_stream(dek, found.object_id, read):
                theirs.update(chunk)
        if mine.digest() != theirs.digest():
            raise SlotTaken(
                f"recording {found.recording_id} segment {found.segment} ({found.klass.value}, policy "
                f"version {found.policy_version}) is already stored as object {found.object_id} with "
                "other bytes; a stored object is never replaced: store it under a new policy version "
                "or segment, or delete the old object first"
            )

    def _seal(self, object_id: str, data: bytes | BinaryIO) -> tuple[bytes, int, str]:
        """Encrypt `data` under a fresh data key into the backend: (wrapped key, size, sha256)."""
        dek = new_data_key()
        wrapped = self.kek.wrap(dek, object_id.encode())
        digest, size = hashlib.sha256(), 0

        def sealed() -> Iterator[bytes]:
            nonlocal size
            for chunk in encrypt_stream(dek, object_id, data, self.chunk_size):
                digest.update(chunk)
                size += len(chunk)
                yield chunk
                faults.check("store-chunk-written")

        self.backend.put(backend_key(object_id), sealed())
        faults.check("store-object-written")
        return wrapped, size, digest.hexdigest()

    def _find_slot(
        self, recording_id: str, segment: int, klass: ObjectClass, policy_version: str
    ) -> StoredObject | None:
        with self._read() as s:
            row = s.scalars(
                select(ObjectRow).where(
                    ObjectRow.recording_id == recording_id,
                    ObjectRow.segment == segment,
                    ObjectRow.klass == klass.value,
                    ObjectRow.policy_version == policy_version,
                )
            ).one_or_none()
            return row.to_model() if row else None

    def _outbox(self, object_id: str, event: LedgerEvent) -> OutboxRow:
        # The ledger's size now, before the catalog commit: the entry can only land after it.
        return OutboxRow(
            object_id=object_id,
            kind=event.kind,
            event=json.dumps(event.to_dict(), sort_keys=True),
            ledger_from=self.ledger.size(),
            created_at=_now(),
        )

    def _flush(self, object_id: str | None = None) -> int:
        """Append pending outbox entries (of `object_id`, or all) to the ledger, each once."""
        with self._read() as s:
            pending = select(OutboxRow.id)
            if object_id is not None:
                pending = pending.where(OutboxRow.object_id == object_id)
            if not s.execute(select(exists(pending))).scalar():
                return 0
        appended = 0
        with self._write() as s:
            query = select(OutboxRow).order_by(OutboxRow.id).with_for_update()
            if object_id is not None:
                query = query.where(OutboxRow.object_id == object_id)
            for row in s.scalars(query):
                data = json.loads(row.event)
                if not in_ledger(self.ledger, row.kind, data, row.ledger_from):
                    self.ledger.append(event_from_dict(row.kind, data))
                    appended += 1
                    faults.check("store-ledger-appended")
                s.delete(row)
        return appended

    # --- get -------------------------------------------------------------------------------------

    def get(self, object_id: str, *, actor: str, on_behalf_of: str = "") -> bytes:
        """The plaintext, after the guard allowed it and the read is in the ledger."""
        out = io.BytesIO()
        self.read_into(object_id, out, actor=actor, on_behalf_of=on_behalf_of)
        return out.getvalue()

    def read_into(
        self, object_id: str, sink: BinaryIO, *, actor: str, on_behalf_of: str = ""
    ) -> StoredObject:
        """Stream the plaintext into `sink`, chunk by authenticated chunk. On StoreIntegrityError
        `sink` may hold a prefix: the caller discards it (the CLI writes a temp file). A service
        account's read names the person who started its job in `on_behalf_of` (in the entry)."""
        _check_name("actor", actor)
        if on_behalf_of:
            _check_name("on_behalf_of", on_behalf_of)
        obj = self.stat(object_id)
        self._flush(object_id)
        if obj.shredded:
            raise StoreIntegrityError(f"object {object_id}: data key destroyed (shredded); it cannot be read")
        grant = self.guard.authorize_read(actor, obj)
        if obj.klass is ObjectClass.RAW:
            if not grant:
                raise AccessDenied(f"object {object_id} is raw footage: a break-glass grant is required")
            self.ledger.append(self._raw_event(actor, obj, grant))
        else:
            self.ledger.append(
                ObjectReadEvent(actor, object_id, obj.recording_id, obj.klass.value, obj.owner, on_behalf_of)
            )
        with self._read() as s:
            key_row = s.get(DataKeyRow, object_id)
            wrapped = key_row.wrapped if key_row else None
        if wrapped is None:
            raise StoreIntegrityError(f"object {object_id}: data key destroyed; it cannot be read")
        dek = self.kek.unwrap(wrapped, object_id.encode())
        digest = hashlib.sha256()
        with self.backend.reader(backend_key(object_id)) as read:

            def hashed(n: int) -> bytes:
                part = read(n)
                digest.update(part)
                return part

            for chunk in decrypt_stream(dek, object_id, hashed):
                sink.write(chunk)
        if digest.hexdigest() != obj.sha256:
            raise StoreIntegrityError(f"object {object_id}: ciphertext differs from the catalog's hash")
        return obj

    def _raw_event(self, actor: str, obj: StoredObject, grant: str) -> RawAccessEvent:
        if isinstance(self.guard, RawAccessRecorder):
            event = self.guard.raw_access_event(grant)
            if event.who != actor or event.recording_id != obj.recording_id:
                raise AccessDenied(f"grant {grant} is not {actor}'s grant on this recording")
            return event
        return RawAccessEvent(obj.recording_id, actor, f"break-glass grant {grant}", f"grant {grant}", _now())

    # --- listing ---------------------------------------------------------------------------------

    def stat(self, object_id: str) -> StoredObject:
        with self._read() as s:
            row = s.get(ObjectRow, object_id)
            if row is None:
                raise StoreError(f"no object {object_id} in the store")
            return row.to_model()

    def list(
        self,
        *,
        owner: str | None = None,
        klass: ObjectClass | None = None,
        recording_id: str | None = None,
    ) -> list[StoredObject]:
        self._flush()
        query = select(ObjectRow).order_by(ObjectRow.created_at, ObjectRow.object_id)
        if owner is not None:
            query = query.where(ObjectRow.owner == owner)
        if klass is not None:
            query = query.where(ObjectRow.klass == ObjectClass(klass).value)
        if recording_id is not None:
            query = query.where(ObjectRow.recording_id == recording_id)
        with self._read() as s:
            return [row.to_model() for row in s.scalars(query)]

    # --- shredding -------------------------------------------------------------------------------

    def expire(self, now: datetime | None = None) -> builtins.list[StoredObject]:
        """Crypto-shred every object past its retention: a "deletion" ledger entry each."""
        when = (now or _now()).astimezone(UTC)
        with self._read() as s:
            due = list(
                s.scalars(
                    select(ObjectRow.object_id).where(
                        ObjectRow.expires_at <= when, ObjectRow.shredded_at.is_(None)
                    )
                )
            )
        return [self._shred(object_id, "retention", when) for object_id in due]

    def delete(self, object_id: str, *, actor: str, reason: str) -> StoredObject:
        """Crypto-shred one object now (e.g. an employee's deletion request)."""
        _check_name("actor", actor)
        _check_reason(reason)
        return self._shred(object_id, f"request by {actor}: {reason}", _now())

    def _shred(self, object_id: str, reason: str, when: datetime) -> StoredObject:
        with self._write() as s:
            row = s.get(ObjectRow, object_id, with_for_update=True)
            if row is None:
                raise StoreError(f"no object {object_id} in the store")
            if row.shredded_at is None:
                key_row = s.get(DataKeyRow, object_id)
                if key_row is not None:
                    s.delete(key_row)
                row.shredded_at, row.shred_reason = when, reason
                what = f"{row.klass}-object {object_id}"
                s.add(self._outbox(object_id, DeletionEvent(row.recording_id, what, reason)))
            obj = row.to_model()
        faults.check("store-key-destroyed")
        self.backend.delete(backend_key(object_id))
        self._flush(object_id)
        return obj

    # --- key-encryption keys ---------------------------------------------------------------------

    def rewrap(self, new_kek: KeyProvider) -> int:
        """Re-wrap every live data key under `new_kek` (e.g. from the key file to a KMS); the
        objects are not touched. Returns how many keys moved; the store then uses `new_kek`."""
        moved = 0
        with self._write() as s:
            for row in s.scalars(select(DataKeyRow).where(DataKeyRow.kek_id != new_kek.key_id)):
                aad = row.object_id.encode()
                row.wrapped = new_kek.wrap(self.kek.unwrap(row.wrapped, aad), aad)
                row.kek_id = new_kek.key_id
                moved += 1
        self.kek = new_kek
        return moved

    # --- recovery --------------------------------------------------------------------------------

    def reconcile(self, older_than: timedelta = timedelta(hours=1)) -> ReconcileReport:
        """After a crash: append pending ledger entries, delete backend objects that have no
        catalog row and are older than `older_than` (longer than any put takes: younger ones may
        be a put still running), and the ciphertext of shredded objects still present."""
        appended = self._flush()
        with self._read() as s:
            rows = s.execute(select(ObjectRow.object_id, ObjectRow.shredded_at)).all()
        live = {backend_key(oid) for oid, shredded in rows if shredded is None}
        shredded = {backend_key(oid) for oid, when in rows if when is not None}
        cutoff, orphans, leftovers = _now() - older_than, 0, 0
        # Only the store's own prefixes: a bucket may hold other things.
        found = [*self.backend.list(f"{OBJECTS}/"), *self.backend.list(f"{PARTIAL}/")]
        for key, modified in found:
            if key in live:
                continue
            if key in shredded:
                self.backend.delete(key)
                leftovers += 1
            elif modified <= cutoff:
                self.backend.delete(key)
                orphans += 1
        return ReconcileReport(appended, orphans, leftovers)


def _row(obj: StoredObject, key: str) -> ObjectRow:
    return ObjectRow(
        object_id=obj.object_id,
        recording_id=obj.recording_id,
        segment=obj.segment,
        klass=obj.klass.value,
        policy_version=obj.policy_version,
        owner=obj.owner,
        backend_key=key,
        size=obj.size,
        sha256=obj.sha256,
        created_at=obj.created_at,
        expires_at=obj.expires_at,
    )


def _retention(engine: Engine, given: Retention | None) -> Retention:
    """`given`, recorded in the catalog; else what the catalog recorded; else the defaults."""
    writer = engine.execution_options(**{WRITE: True})
    for attempt in range(3):
        try:
            with Session(writer) as s, s.begin():
                rows = {r.klass: r for r in s.scalars(select(RetentionRow))}
                if given is None:
                    default = Retention()
                    return Retention(
                        rows["raw"].days if "raw" in rows else default.raw_days,
                        rows["redacted"].days if "redacted" in rows else default.redacted_days,
                    )
                for klass in ObjectClass:
                    row = rows.get(klass.value) or RetentionRow(klass=klass.value)
                    row.days, row.updated_at = given.days(klass), _now()
                    s.add(row)
                return given
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
