"""Receiving a segment from a capture agent: check the zip and its manifest, store it once, log it.

Refusals (each a test in tests/server/test_segments.py):
- 422 `MalformedSegment`: not a zip, a member outside the manifest, a member whose sha256 differs from
  the manifest's, a missing required member, a manifest that does not parse or names another
  recording or sequence, or whose verifier is not "cleared";
- 409 `SegmentConflict`: a different body under a sequence already stored (or another device's);
- 403 `AccessDenied`: the deployment gate is incomplete, the device's owner was revoked.
A body identical to one already stored is answered 200 "duplicate" and stores nothing new.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veil.audit.events import SegmentReceivedEvent
from veil.exceptions import AccessDenied, InputError, VeilError
from veil.server.context import Context
from veil.server.db import DeviceRow, RecordingRow, SegmentRow, utc

MANIFEST = "manifest.json"
REQUIRED = ("redacted.mp4", "textlayer.jsonl")
MAX_MEMBERS = 16
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ID = r"^[A-Za-z0-9._-]{1,64}$"

BATCH_DEVICE = "batch"  # the device of recordings redacted by the server's batch jobs, not an agent

TypeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]


class MalformedSegment(InputError):
    """A segment that is not a well-formed, cleared upload (HTTP 422, exit code of bad input)."""

    http_status = 422


class SegmentConflict(VeilError):
    """A different body under a segment already stored: refused, the stored one stays."""

    exit_code = 3
    http_status = 409


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    recording_id: str = Field(pattern=_ID)
    seq: int = Field(ge=0, le=10_000_000)
    started_at: AwareDatetime
    ended_at: AwareDatetime
    frames: int = Field(ge=0)
    policy_version: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    counts: dict[TypeName, Annotated[int, Field(ge=0)]] = {}
    frames_masked_whole: int = Field(ge=0)
    verifier: str
    sha256: dict[str, str]


@dataclass(frozen=True, slots=True)
class Received:
    status: Literal["stored", "duplicate"]
    recording_id: str
    seq: int
    sha256: str
    ledger_seq: int | None


def read_segment(body: bytes, recording_id: str, seq: int, max_bytes: int) -> Manifest:
    """The manifest of a well-formed, cleared segment whose members match their hashes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise MalformedSegment("segment body is not a zip archive") from None
    names = [i.filename for i in infos]
    if len(names) > MAX_MEMBERS or len(set(names)) != len(names):
        raise MalformedSegment("segment zip has duplicate or too many members")
    if sum(i.file_size for i in infos) > max_bytes:
        raise MalformedSegment("segment zip expands beyond the size limit")
    if MANIFEST not in names:
        raise MalformedSegment("segment zip has no manifest.json")
    try:
        raw = json.loads(archive.read(MANIFEST))
        manifest = Manifest.model_validate(raw)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedSegment("segment manifest is not readable JSON") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise MalformedSegment(f"segment manifest: invalid '{'.'.join(map(str, first['loc']))}'") from None
    if manifest.verifier != "cleared":
        raise MalformedSegment("segment manifest: the verifier did not clear this segment; not accepted")
    if manifest.recording_id != recording_id or manifest.seq != seq:
        raise MalformedSegment("segment manifest names another recording or sequence than the URL")
    if manifest.ended_at < manifest.started_at:
        raise MalformedSegment("segment manifest: ended_at is before started_at")
    _check_members(archive, set(names) - {MANIFEST}, manifest)
    return manifest


def _check_members(archive: zipfile.ZipFile, members: set[str], manifest: Manifest) -> None:
    """Exactly the members the manifest hashes, the required ones among them, each matching."""
    if members != set(manifest.sha256) or not set(REQUIRED) <= members:
        raise MalformedSegment(f"segment members must be exactly those the manifest hashes, with {REQUIRED}")
    for name in sorted(members):
        try:
            digest = hashlib.sha256(archive.read(name)).hexdigest()
        except (zipfile.BadZipFile, OSError):
            raise MalformedSegment(f"segment member {name} is unreadable") from None
        if not _HEX64.fullmatch(manifest.sha256[name]) or digest != manifest.sha256[name]:
            raise MalformedSegment(f"segment member {name} does not match its sha256 in the manifest")


def _existing(ctx: Context, recording_id: str, seq: int, device: str, sha: str) -> Received | None:
    with ctx.session() as s:
        row = s.scalars(
            select(SegmentRow).where(SegmentRow.recording_id == recording_id, SegmentRow.seq == seq)
        ).first()
        if row is None:
            return None
        if row.device_id != device or row.body_sha256 != sha:
            raise SegmentConflict(
                f"segment {seq} of this recording is already stored with another body; refused"
            )
        return Received("duplicate", recording_id, seq, sha, row.ledger_seq)


def receive_segment(ctx: Context, device: str, recording_id: str, seq: int, body: bytes) -> Received:
    """Store one signed upload (the signature was already checked) and append its ledger entry."""
    missing = ctx.gate_missing()
    if missing:
        raise AccessDenied(f"deployment gate incomplete ({', '.join(missing)}): uploads are refused")
    sha = hashlib.sha256(body).hexdigest()
    found = _existing(ctx, recording_id, seq, device, sha)
    if found is not None:
        return found
    manifest = read_segment(body, recording_id, seq, ctx.settings.max_segment_bytes)
    with ctx.session() as s:
        dev = s.get(DeviceRow, device)
        owner = dev.owner if dev is not None else ""
    user = ctx.directory.get(owner)
    if user is None or user.disabled:
        raise AccessDenied("the device's owner is not an active user; upload refused")
    object_id = ctx.sink.put(
        body, owner=owner, recording_id=recording_id, segment=seq, policy_version=manifest.policy_version
    )
    try:
        with ctx.session() as s:
            row = add_segment(s, ctx, manifest, device, owner, sha, object_id)
            ref = ctx.append(
                SegmentReceivedEvent(
                    recording_id,
                    seq,
                    device,
                    owner,
                    manifest.policy_version,
                    sha,
                    manifest.frames,
                    manifest.frames_masked_whole,
                    dict(manifest.counts),
                )
            )
            row.ledger_seq = ref.seq
    except IntegrityError:
        # Another request stored the same segment meanwhile: answer as for a retry.
        found = _existing(ctx, recording_id, seq, device, sha)
        if found is None:
            raise
        return found
    return Received("stored", recording_id, seq, sha, ref.seq)


def add_segment(
    s: Session, ctx: Context, m: Manifest, device: str, owner: str, sha: str, object_id: str
) -> SegmentRow:
    """A stored segment's row, and its recording's totals, in the caller's transaction."""
    row = _segment_row(ctx, m, device, owner, sha, object_id)
    s.add(row)
    s.flush()
    _add_to_recording(s, row, m)
    return row


def _segment_row(ctx: Context, m: Manifest, device: str, owner: str, sha: str, object_id: str) -> SegmentRow:
    now = datetime.now(UTC)
    return SegmentRow(
        recording_id=m.recording_id,
        seq=m.seq,
        device_id=device,
        owner=owner,
        body_sha256=sha,
        object_id=object_id,
        started_at=utc(m.started_at),
        ended_at=utc(m.ended_at),
        frames=m.frames,
        frames_masked_whole=m.frames_masked_whole,
        counts=json.dumps(dict(m.counts), sort_keys=True),
        policy_version=m.policy_version,
        stored_at=now,
        expires_at=now + timedelta(days=ctx.settings.retention_days),
    )


def _add_to_recording(s: Session, row: SegmentRow, m: Manifest) -> None:
    rec = s.get(RecordingRow, row.recording_id, with_for_update=True)
    if rec is None:
        s.add(
            RecordingRow(
                recording_id=row.recording_id,
                owner=row.owner,
                device_id=row.device_id,
                started_at=row.started_at,
                ended_at=row.ended_at,
                segments=1,
                frames=row.frames,
                frames_masked_whole=row.frames_masked_whole,
                counts=row.counts,
                policy_version=row.policy_version,
                expires_at=row.expires_at,
            )
        )
        return
    counts: dict[str, int] = json.loads(rec.counts)
    for key, value in m.counts.items():
        counts[key] = counts.get(key, 0) + value
    rec.counts = json.dumps(counts, sort_keys=True)
    rec.segments += 1
    rec.frames += row.frames
    rec.frames_masked_whole += row.frames_masked_whole
    rec.started_at = min(utc(rec.started_at), utc(row.started_at))
    rec.ended_at = max(utc(rec.ended_at), utc(row.ended_at))
    rec.expires_at = max(utc(rec.expires_at), utc(row.expires_at))
    rec.policy_version = row.policy_version
