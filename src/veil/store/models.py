"""What the store hands out and what it asks of its collaborators (the read guard, retention)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from veil.audit.events import RawAccessEvent
from veil.exceptions import AccessDenied, InputError


class SlotTaken(InputError):
    """A put of other bytes into a slot (recording, segment, class, policy version) that is stored."""

    http_status = 409


class ObjectClass(StrEnum):
    RAW = "raw"
    REDACTED = "redacted"


@dataclass(frozen=True)
class StoredObject:
    """One stored object as the catalog knows it; `size` and `sha256` are those of the ciphertext
    as stored in the backend (what an auditor can check without any key)."""

    object_id: str
    klass: ObjectClass
    owner: str
    recording_id: str
    segment: int
    policy_version: str
    size: int
    sha256: str
    created_at: datetime
    expires_at: datetime
    shredded: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "object_id": self.object_id,
            "class": self.klass.value,
            "owner": self.owner,
            "recording_id": self.recording_id,
            "segment": self.segment,
            "policy_version": self.policy_version,
            "size": self.size,
            "sha256": self.sha256,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "shredded": self.shredded,
        }


@runtime_checkable
class ReadGuard(Protocol):
    def authorize_read(self, actor: str, obj: StoredObject) -> str | None:
        """Raise AccessDenied/NotAuthenticated if `actor` may not read obj now; for RAW objects
        return the break-glass grant id (the store unwraps the data key only then)."""


@runtime_checkable
class RawAccessRecorder(Protocol):
    """Optional for a guard (veil.access's AccessGuard has it): the raw-access ledger entry of a
    grant it returned, with the grant's reason, approver and end. Without it the store's entry
    names the grant id only."""

    def raw_access_event(self, grant_id: str) -> RawAccessEvent: ...


class RedactedOnlyGuard:
    """The default guard: redacted objects to anyone, raw objects to nobody (no break-glass here)."""

    def authorize_read(self, actor: str, obj: StoredObject) -> str | None:
        if obj.klass is ObjectClass.RAW:
            raise AccessDenied(
                f"object {obj.object_id} is raw footage: it can only be read through a break-glass "
                "grant (a reason, a second approver, a time limit); see `veil access request`"
            )
        return None


@dataclass(frozen=True)
class Retention:
    """Days each class is kept; at the end its data key is destroyed (crypto-shredding)."""

    raw_days: int = 7
    redacted_days: int = 90

    def __post_init__(self) -> None:
        if self.raw_days < 0 or self.redacted_days < 0:
            raise ValueError("retention days must be >= 0")

    def days(self, klass: ObjectClass) -> int:
        return self.raw_days if klass is ObjectClass.RAW else self.redacted_days

    def expires(self, klass: ObjectClass, created: datetime) -> datetime:
        return created + timedelta(days=self.days(klass))
