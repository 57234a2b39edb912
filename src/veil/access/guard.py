"""The recording store's read guard: who may read which object, decided on every read.

    store = RecordingStore.open(guard=AccessGuard(directory))
    store.get(object_id, actor="a.kim")    # the store calls guard.authorize_read(actor, obj) first

- unknown or revoked account: NotAuthenticated, on the very next read after the revocation;
- a redacted object: the role needs REDACTED_OUTPUTS (employees see their own recordings' summaries
  through the portal, not through the store);
- a raw object: an approved, unexpired break-glass grant on that recording, held by that actor, whose
  approver is still an active account. The guard returns the grant id; the store unwraps the data key
  only then and records the read (`AccessGuard.raw_access_event`).

Every refusal is a ledger entry (`AccessRefusedEvent`), so attempts by revoked accounts raise alarms.
An actor name the directory does not know is recorded as "unknown-account": a mistyped login can be
anything, even a password.
"""

from __future__ import annotations

import logging
from typing import Protocol

from veil.access.breakglass import BreakGlass, Grant
from veil.access.directory import Directory
from veil.access.roles import Permission, allows
from veil.audit.events import AccessRefusedEvent, RawAccessEvent
from veil.exceptions import AccessDenied, InputError, LedgerError, NotAuthenticated

log = logging.getLogger(__name__)
UNKNOWN_ACCOUNT = "unknown-account"


class ReadableObject(Protocol):
    """What the guard reads of the store's `StoredObject`."""

    @property
    def object_id(self) -> str: ...
    @property
    def klass(self) -> str: ...  # ObjectClass: "raw" | "redacted"
    @property
    def owner(self) -> str: ...
    @property
    def recording_id(self) -> str: ...


class AccessGuard:
    """Implements the store's `ReadGuard` protocol over the directory and break-glass grants."""

    def __init__(self, directory: Directory, breakglass: BreakGlass | None = None) -> None:
        self.directory = directory
        self.breakglass = breakglass or BreakGlass(directory)

    def authorize_read(self, actor: str, obj: ReadableObject) -> str | None:
        """None for an allowed redacted read, the grant id for an allowed raw read; else raise."""
        user = self.directory.get(actor)
        if user is None or user.disabled:
            known = user is not None
            self._refuse(actor if known else UNKNOWN_ACCOUNT, obj, "not-authenticated")
            raise NotAuthenticated("unknown or revoked user")
        if obj.klass == "redacted":
            if not allows(user.role, Permission.REDACTED_OUTPUTS):
                self._refuse(actor, obj, "no-permission")
                raise AccessDenied(f"role {user.role.value} may not read redacted outputs")
            return None
        if obj.klass != "raw":  # fail closed on a class this guard does not know
            self._refuse(actor, obj, "no-permission")
            raise AccessDenied("unknown object class")
        if not allows(user.role, Permission.BREAK_GLASS_REQUEST):
            self._refuse(actor, obj, "no-permission")
            raise AccessDenied(f"role {user.role.value} may never read raw footage")
        grant = self.breakglass.active_grant(actor, obj.recording_id)
        if grant is None:
            self._refuse(actor, obj, "no-window")
            raise AccessDenied(
                "raw footage needs an approved, unexpired break-glass window on this recording"
            )
        approver = self.directory.get(grant.approver)
        if approver is None or approver.disabled:
            self._refuse(actor, obj, "no-window")
            raise AccessDenied("the break-glass window's approver has been revoked; ask again")
        return grant.grant_id

    def grant(self, grant_id: str) -> Grant:
        """The grant `authorize_read` returned (for the store's RawAccessEvent)."""
        req = self.breakglass.get(grant_id)
        if req is None or req.expires_at is None or req.decided_by is None:
            raise InputError("no such break-glass grant")
        return Grant(
            req.request_id, req.requester, req.recording_id, req.reason, req.decided_by, req.expires_at
        )

    def raw_access_event(self, grant_id: str) -> RawAccessEvent:
        return self.grant(grant_id).raw_access_event()

    def _refuse(self, who: str, obj: ReadableObject, cause: str) -> None:
        event = AccessRefusedEvent(
            who=who,
            object_id=obj.object_id,
            recording_id=obj.recording_id,
            owner=obj.owner,
            klass=str(obj.klass),
            cause=cause,
        )
        try:
            self.directory.record(event)
        except LedgerError as exc:  # the refusal stands; only its record is missing
            log.error("could not record a refused read in the ledger: %s", exc)
