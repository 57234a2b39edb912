"""Where segment bytes go: the recording store (`veil.store`, encrypted, guarded, logged).

A segment is stored as one REDACTED object (the verified zip as received), so the store's
idempotency key (recording, segment, class, policy version) is exactly the segment's. Every read
goes through the store's guard (`veil.access.guard.AccessGuard`): the reader's role is checked
again and the read is logged. `LocalSink` (plain files) is for tests of the server alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from veil.exceptions import InputError, StoreError
from veil.store.models import ObjectClass
from veil.store.store import RecordingStore

_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")


class SegmentSink(Protocol):
    def put(
        self, data: bytes | BinaryIO, *, owner: str, recording_id: str, segment: int, policy_version: str
    ) -> str:
        """Store one verified segment (bytes, or a file open for reading); its object id. Idempotent."""
        ...

    def get(self, object_id: str, *, actor: str, on_behalf_of: str = "") -> bytes: ...

    def raw_objects(self, recording_id: str) -> list[tuple[str, int]]:
        """(object id, segment) of the raw footage kept for a recording (break-glass only)."""
        ...

    def shred(self, recording_id: str, *, actor: str, reason: str) -> int:
        """Destroy every object of a recording now (raw and redacted); how many."""
        ...

    def expire(self, now: datetime) -> int:
        """Destroy every object past its own retention date; how many."""
        ...


class StoreSink:
    """The recording store behind the SegmentSink interface (one lock: the store is not thread-safe)."""

    def __init__(self, store: RecordingStore) -> None:
        self.store = store
        self._lock = threading.Lock()

    def put(
        self, data: bytes | BinaryIO, *, owner: str, recording_id: str, segment: int, policy_version: str
    ) -> str:
        with self._lock:
            stored = self.store.put(
                data,
                klass=ObjectClass.REDACTED,
                owner=owner,
                recording_id=recording_id,
                segment=segment,
                policy_version=policy_version,
            )
        return stored.object_id

    def get(self, object_id: str, *, actor: str, on_behalf_of: str = "") -> bytes:
        with self._lock:
            return self.store.get(object_id, actor=actor, on_behalf_of=on_behalf_of)

    def raw_objects(self, recording_id: str) -> list[tuple[str, int]]:
        with self._lock:
            found = self.store.list(recording_id=recording_id, klass=ObjectClass.RAW)
        return [(o.object_id, o.segment) for o in found if not o.shredded]

    def shred(self, recording_id: str, *, actor: str, reason: str) -> int:
        with self._lock:
            found = [o for o in self.store.list(recording_id=recording_id) if not o.shredded]
            for obj in found:
                self.store.delete(obj.object_id, actor=actor, reason=reason)
        return len(found)

    def expire(self, now: datetime) -> int:
        with self._lock:
            return len(self.store.expire(now))

    def close(self) -> None:
        self.store.close()


class LocalSink:
    """Segments as files under `root` (written whole, then renamed). A stand-in for the store."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(
        self, data: bytes | BinaryIO, *, owner: str, recording_id: str, segment: int, policy_version: str
    ) -> str:
        data = data if isinstance(data, bytes) else data.read()
        if not _SAFE.fullmatch(recording_id):
            raise InputError("recording id must be 1-64 letters, digits, '.', '_' or '-'")
        object_id = f"{recording_id}/{segment:08d}-{hashlib.sha256(data).hexdigest()[:16]}.zip"
        path = self.root / object_id
        if path.exists():
            return object_id
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as exc:
            raise StoreError(f"cannot store segment: {type(exc).__name__}") from exc
        return object_id

    def get(self, object_id: str, *, actor: str, on_behalf_of: str = "") -> bytes:
        path = (self.root / object_id).resolve()
        if self.root.resolve() not in path.parents:
            raise InputError("object id outside the store")
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise StoreError("segment object missing from the store") from exc
        except OSError as exc:
            raise StoreError(f"cannot read segment: {type(exc).__name__}") from exc

    def raw_objects(self, recording_id: str) -> list[tuple[str, int]]:
        return []  # a folder of redacted segments holds no raw footage

    def shred(self, recording_id: str, *, actor: str, reason: str) -> int:
        folder = self.root / recording_id
        files = list(folder.glob("*.zip")) if _SAFE.fullmatch(recording_id) else []
        for path in files:
            path.unlink()
        return len(files)

    def expire(self, now: datetime) -> int:
        return 0  # no dates of its own: the server's sweep shreds its recordings by their date
