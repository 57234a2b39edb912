"""A small stand-in for the recording store's read path (veil.store is another helper's branch):
the guard decides, then the store records the read, as the contract's RecordingStore.get does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from veil.access.guard import AccessGuard
from veil.audit.events import LedgerEvent
from veil.audit.store import Ledger


@dataclass(frozen=True, slots=True)
class ObjectRead(LedgerEvent):
    """The store's "object-read" entry, as the store branch defines it (no owner: the alarms ask
    the store for a recording's owner)."""

    kind: ClassVar[str] = "object-read"
    who: str
    object_id: str
    recording_id: str
    klass: str


@dataclass(frozen=True)
class FakeObject:
    object_id: str
    klass: str  # "raw" | "redacted", as ObjectClass (a StrEnum) compares
    owner: str
    recording_id: str


class FakeStore:
    def __init__(
        self, guard: AccessGuard, ledger: Ledger, read_event: type[LedgerEvent] | None = None
    ) -> None:
        self.guard, self.ledger, self.read_event = guard, ledger, read_event
        self.objects: dict[str, FakeObject] = {}

    def add(self, obj: FakeObject) -> FakeObject:
        self.objects[obj.object_id] = obj
        return obj

    def get(self, object_id: str, *, actor: str) -> bytes:
        obj = self.objects[object_id]
        grant_id = self.guard.authorize_read(actor, obj)
        if grant_id is not None:
            self.ledger.append(self.guard.raw_access_event(grant_id))
        elif self.read_event is not None:
            self.ledger.append(
                self.read_event(  # type: ignore[call-arg]
                    who=actor, object_id=obj.object_id, recording_id=obj.recording_id, klass=obj.klass
                )
            )
        return b"payload"
