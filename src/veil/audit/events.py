"""What the ledger records: one frozen dataclass per kind of event (Datasette's `Event` shape).

An entry's leaf data is the canonical serialisation of {"seq", "time", "kind", "event"}: sorted-key,
compact JSON in UTF-8 (`canonical_json`). Those exact bytes are stored and hashed, so an auditor hashes
what they read. Events hold counts, hashes, identifiers and names of people acting in their role; never
a recognised value. A guard refuses strings that look like pasted content (too long or multi-line).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from veil.exceptions import LedgerError

MAX_TEXT = 200  # longer strings are content, not metadata
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def canonical_json(obj: object) -> bytes:
    """The one serialisation that gets hashed: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def _check_text(kind: str, name: str, value: str) -> None:
    if len(value) > MAX_TEXT or _CONTROL.search(value):
        raise LedgerError(
            f"{kind} event field '{name}' looks like content, not metadata "
            f"(over {MAX_TEXT} characters or has control characters); refused"
        )


def _check_sha256(kind: str, name: str, value: str) -> None:
    if not _SHA256.fullmatch(value):
        raise LedgerError(f"{kind} event field '{name}' must be 64 lowercase hex digits (a SHA-256)")


def _check_counts(kind: str, name: str, counts: Mapping[str, int]) -> None:
    for key, count in counts.items():
        _check_text(kind, f"{name} key", key)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise LedgerError(f"{kind} event field '{name}' must map names to counts >= 0")


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """Base of every event. Subclasses set `kind`; fields must be str, int, float, datetime or counts."""

    kind: ClassVar[str] = ""
    sha256_fields: ClassVar[tuple[str, ...]] = ()
    sha256_maps: ClassVar[tuple[str, ...]] = ()  # fields mapping names to SHA-256 hex digests

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                _check_text(self.kind, f.name, value)
            elif isinstance(value, Mapping):
                if f.name in self.sha256_maps:
                    for key, digest in value.items():
                        _check_text(self.kind, f"{f.name} key", key)
                        _check_sha256(
                            self.kind, f"{f.name}[{key}]", digest if isinstance(digest, str) else ""
                        )
                else:
                    _check_counts(self.kind, f.name, value)
                object.__setattr__(self, f.name, dict(sorted(value.items())))
            elif isinstance(value, datetime) and value.tzinfo is None:
                raise LedgerError(f"{self.kind} event field '{f.name}' needs a timezone")
            elif isinstance(value, int) and not isinstance(value, bool) and value < 0:
                raise LedgerError(f"{self.kind} event field '{f.name}' must be >= 0")
        for name in self.sha256_fields:
            _check_sha256(self.kind, name, getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True, slots=True)
class CaptureEvent(LedgerEvent):
    """A recording entered the system: its hash, size and source kind (not its file name)."""

    kind: ClassVar[str] = "capture"
    sha256_fields: ClassVar[tuple[str, ...]] = ("sha256",)
    recording_id: str
    source_kind: str  # video-file | image-folder | screen
    sha256: str
    frames: int
    duration_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class RedactionSummaryEvent(LedgerEvent):
    """What redaction did to a recording: counts per finding type and per mask reason, never values;
    and the SHA-256 of each file the run published ("output", "report", "text-layer"), so anyone
    can check a file against the ledger (`veil audit verify-output`)."""

    kind: ClassVar[str] = "redaction-summary"
    sha256_maps: ClassVar[tuple[str, ...]] = ("outputs",)
    recording_id: str
    policy_version: str
    frames_total: int
    frames_masked_whole: int
    counts: Mapping[str, int] = field(default_factory=dict)
    mask_reasons: Mapping[str, int] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EgressIntentEvent(LedgerEvent):
    """Written before a sanitized payload is sent; a send without a completion shows as pending."""

    kind: ClassVar[str] = "egress-intent"
    sha256_fields: ClassVar[tuple[str, ...]] = ("payload_sha256",)
    intent_id: str
    destination: str
    policy_version: str
    payload_sha256: str
    size: int
    model: str


@dataclass(frozen=True, slots=True)
class EgressCompletedEvent(LedgerEvent):
    """Written after the send returned (outcome "sent" or "failed"); repeats the intent's facts."""

    kind: ClassVar[str] = "egress-completed"
    sha256_fields: ClassVar[tuple[str, ...]] = ("payload_sha256",)
    intent_id: str
    destination: str
    policy_version: str
    payload_sha256: str
    size: int
    model: str
    outcome: str = "sent"


@dataclass(frozen=True, slots=True)
class RawAccessEvent(LedgerEvent):
    """Someone opened raw footage: who, why, the second person who approved, and until when."""

    kind: ClassVar[str] = "raw-access"
    recording_id: str
    who: str
    why: str
    approver: str
    expires: datetime

    def __post_init__(self) -> None:
        LedgerEvent.__post_init__(self)
        if not self.why.strip():
            raise LedgerError("raw-access event needs a reason ('why')")
        if self.approver == self.who:
            raise LedgerError("raw-access event needs a second person as approver")


@dataclass(frozen=True, slots=True)
class DeletionEvent(LedgerEvent):
    """Data was destroyed, e.g. a recording key shredded at the end of retention."""

    kind: ClassVar[str] = "deletion"
    recording_id: str
    what: str  # raw-recording | redacted-output | ...
    reason: str  # retention | request | ...
    method: str = "crypto-shred"


@dataclass(frozen=True, slots=True)
class PolicyChangeEvent(LedgerEvent):
    """The policy in force changed."""

    kind: ClassVar[str] = "policy-change"
    sha256_fields: ClassVar[tuple[str, ...]] = ("policy_sha256",)
    old_version: str
    new_version: str
    policy_sha256: str
    changed_by: str


@dataclass(frozen=True, slots=True)
class ReanchorEvent(LedgerEvent):
    """An operator re-anchored trust after the signed state file was lost or replaced: the log of
    `size` entries verified whole, and `previous` says what state file there was before."""

    kind: ClassVar[str] = "reanchor"
    who: str
    reason: str
    size: int
    previous: str  # "missing" | "unreadable: ..." | "size N, root B64"

    def __post_init__(self) -> None:
        LedgerEvent.__post_init__(self)
        if not self.reason.strip() or not self.who.strip():
            raise LedgerError("reanchor event needs who did it and a reason")


@dataclass(frozen=True, slots=True)
class ObjectStoredEvent(LedgerEvent):
    """An object entered the recording store: its ids, class, and the hash and size of its
    ciphertext as stored (an auditor checks them against the backend without any key)."""

    kind: ClassVar[str] = "object-stored"
    sha256_fields: ClassVar[tuple[str, ...]] = ("sha256",)
    object_id: str
    recording_id: str
    klass: str  # raw | redacted
    segment: int
    size: int
    sha256: str
    policy_version: str
    expires: datetime


@dataclass(frozen=True, slots=True)
class ObjectReadEvent(LedgerEvent):
    """Someone read a redacted object from the store (raw reads are RawAccessEvent). `owner` is
    the recording's owner (an account id; "" in entries written before it was recorded);
    `on_behalf_of` names the person who started a service account's job (task mining)."""

    kind: ClassVar[str] = "object-read"
    who: str
    object_id: str
    recording_id: str
    klass: str
    owner: str = ""
    on_behalf_of: str = ""


@dataclass(frozen=True, slots=True)
class AccessChangeEvent(LedgerEvent):
    """A user's access changed: added, role granted, marked leaving, revoked. `user` and `by` are
    the organisation's account ids; `reason` is a short note, never screen content."""

    kind: ClassVar[str] = "access-change"
    user: str
    action: str  # user-added | role-granted | leaving | staying | revoked
    role: str
    by: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BreakGlassRequestEvent(LedgerEvent):
    """Someone asked for a window on one recording's raw footage, with a reason."""

    kind: ClassVar[str] = "break-glass-request"
    request_id: str
    recording_id: str
    requester: str
    reason: str
    minutes: int

    def __post_init__(self) -> None:
        LedgerEvent.__post_init__(self)
        if not self.reason.strip():
            raise LedgerError("break-glass request needs a reason")


@dataclass(frozen=True, slots=True)
class BreakGlassDecisionEvent(LedgerEvent):
    """A break-glass request was approved (the window runs until `expires`), denied or cancelled
    (`expires` is then the time of the decision: no window)."""

    kind: ClassVar[str] = "break-glass-decision"
    request_id: str
    recording_id: str
    requester: str
    decided_by: str
    decision: str  # approved | denied | cancelled
    expires: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        LedgerEvent.__post_init__(self)
        if self.decision == "approved" and self.decided_by == self.requester:
            raise LedgerError("break-glass approval needs a second person")


@dataclass(frozen=True, slots=True)
class AccessRefusedEvent(LedgerEvent):
    """A read was refused (no permission, no open break-glass window, unknown or revoked account):
    attempts by leavers and revoked accounts must show too."""

    kind: ClassVar[str] = "access-refused"
    who: str
    object_id: str
    recording_id: str
    owner: str
    klass: str  # raw | redacted
    cause: str  # not-authenticated | no-permission | no-window


@dataclass(frozen=True, slots=True)
class AlarmEvent(LedgerEvent):
    """An access alarm: the rule, the account, and the ledger entries that raised it (their count,
    first and last seq, compact ranges, and the SHA-256 of the full list of seqs)."""

    kind: ClassVar[str] = "alarm"
    sha256_fields: ClassVar[tuple[str, ...]] = ("entries_sha256",)
    alarm_id: str
    rule: str
    account: str
    window_start: datetime
    trigger_time: datetime
    entry_count: int
    first_seq: int
    last_seq: int
    entries: str  # compact ranges, e.g. "12-40,44" (cut with "..." when too long; the hash is whole)
    entries_sha256: str
    detail: str = ""


EVENT_TYPES: dict[str, type[LedgerEvent]] = {
    cls.kind: cls
    for cls in (
        CaptureEvent,
        RedactionSummaryEvent,
        EgressIntentEvent,
        EgressCompletedEvent,
        RawAccessEvent,
        DeletionEvent,
        PolicyChangeEvent,
        ReanchorEvent,
        ObjectStoredEvent,
        ObjectReadEvent,
        AccessChangeEvent,
        BreakGlassRequestEvent,
        BreakGlassDecisionEvent,
        AccessRefusedEvent,
        AlarmEvent,
    )
}


def event_from_dict(kind: str, data: Mapping[str, Any]) -> LedgerEvent:
    """Rebuild an event from its stored form; LedgerError when the kind or a field is unknown."""
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise LedgerError(f"unknown ledger event kind '{kind}'")
    values = dict(data)
    try:
        for f in dataclasses.fields(cls):
            if f.type in ("datetime", datetime) and isinstance(values.get(f.name), str):
                values[f.name] = datetime.fromisoformat(values[f.name])
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"stored {kind} event does not match its type: {type(exc).__name__}") from exc


# --- veil serve (server helper): the agent uplink, the employee portal and the deployment gate ----


@dataclass(frozen=True, slots=True)
class SegmentReceivedEvent(LedgerEvent):
    """A verified segment from a capture agent was stored: its hash and counts, never its content."""

    kind: ClassVar[str] = "segment-received"
    sha256_fields: ClassVar[tuple[str, ...]] = ("sha256",)
    recording_id: str
    seq: int
    device: str
    owner: str  # the user id the organisation assigned
    policy_version: str
    sha256: str  # of the uploaded segment (zip) as received
    frames: int
    frames_masked_whole: int
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PortalRequestEvent(LedgerEvent):
    """An employee paused or resumed their recording, objected, or asked for an export or deletion."""

    kind: ClassVar[str] = "portal-request"
    owner: str
    action: str  # pause | resume | object | export | delete
    deadline_days: int = 0  # the organisation answers within this many days (0: nothing to answer)


@dataclass(frozen=True, slots=True)
class GateStepEvent(LedgerEvent):
    """A step of the deployment gate was recorded (notice, consultation, purpose, impact assessment)."""

    kind: ClassVar[str] = "deployment-gate"
    sha256_fields: ClassVar[tuple[str, ...]] = ("text_sha256",)
    step: str
    recorded_by: str
    text_sha256: str


@dataclass(frozen=True, slots=True)
class DeviceEvent(LedgerEvent):
    """A capture agent's device was registered or revoked."""

    kind: ClassVar[str] = "device"
    device: str
    owner: str
    action: str  # registered | revoked
    by: str


@dataclass(frozen=True, slots=True)
class RawUploadEvent(LedgerEvent):
    """Raw footage made elsewhere was handed to the server for a batch redaction job: who, why,
    whose recording, the upload's hash and size (never its file name). Counted as raw access."""

    kind: ClassVar[str] = "raw-upload"
    sha256_fields: ClassVar[tuple[str, ...]] = ("sha256",)
    job_id: int
    recording_id: str
    who: str
    owner: str
    why: str
    sha256: str
    size: int

    def __post_init__(self) -> None:
        LedgerEvent.__post_init__(self)
        if not self.why.strip():
            raise LedgerError("raw-upload event needs a reason ('why')")


@dataclass(frozen=True, slots=True)
class RedactionJobEvent(LedgerEvent):
    """A batch redaction job ended: "done" (its verified output stored as `recording_id`, the
    stored segment's SHA-256 in `outputs`), "failed" or "interrupted" (nothing stored). `error` is
    the error's class, never its message."""

    kind: ClassVar[str] = "redaction-job"
    sha256_maps: ClassVar[tuple[str, ...]] = ("outputs",)
    job_id: int
    recording_id: str
    owner: str
    submitted_by: str
    outcome: str  # done | failed | interrupted
    policy_version: str
    engine: str  # local | ray
    frames: int = 0
    error: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)


EVENT_TYPES.update(
    {
        cls.kind: cls
        for cls in (
            SegmentReceivedEvent,
            PortalRequestEvent,
            GateStepEvent,
            DeviceEvent,
            RawUploadEvent,
            RedactionJobEvent,
        )
    }
)
