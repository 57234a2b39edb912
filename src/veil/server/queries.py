"""What the pages and the JSON API show, read once here so both say the same thing.

Recordings are listed without their owner's name and without durations per person: the dashboard
shows what was recorded and removed, never who worked how long (no productivity figures).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veil.audit import merkle
from veil.audit._tables import EntryRow
from veil.audit.merkle import leaf_hash
from veil.audit.store import InclusionProof
from veil.exceptions import InputError, LedgerError
from veil.server.context import Context
from veil.server.db import EgressLinkRow, PayloadLinkRow, RecordingRow, SegmentRow, utc

EGRESS_KINDS = ("egress-intent", "egress-completed")
MEMBERS = {"redacted.mp4": "video/mp4", "textlayer.jsonl": "application/x-ndjson"}


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    recording_id: str
    started_at: datetime
    ended_at: datetime
    segments: int
    frames: int
    frames_masked_whole: int
    counts: dict[str, int]
    policy_version: str
    expires_at: datetime

    @property
    def removed(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "recording_id": self.recording_id,
            "started_at": utc(self.started_at).isoformat(),
            "ended_at": utc(self.ended_at).isoformat(),
            "segments": self.segments,
            "frames": self.frames,
            "frames_masked_whole": self.frames_masked_whole,
            "counts": self.counts,
            "removed": self.removed,
            "policy_version": self.policy_version,
            "expires_at": utc(self.expires_at).isoformat(),
        }


def _summary(row: RecordingRow) -> RecordingSummary:
    return RecordingSummary(
        row.recording_id,
        utc(row.started_at),
        utc(row.ended_at),
        row.segments,
        row.frames,
        row.frames_masked_whole,
        json.loads(row.counts),
        row.policy_version,
        utc(row.expires_at),
    )


def recordings(
    ctx: Context, page: int = 1, *, owner: str | None = None, size: int | None = None
) -> tuple[list[RecordingSummary], int]:
    """One page of recordings, newest first, and how many there are in all."""
    size = size or ctx.settings.page_size
    query = select(RecordingRow)
    count = select(func.count()).select_from(RecordingRow)
    if owner is not None:
        query, count = query.where(RecordingRow.owner == owner), count.where(RecordingRow.owner == owner)
    with Session(ctx.engine) as s:
        total = int(s.scalar(count) or 0)
        rows = s.scalars(
            query.order_by(RecordingRow.started_at.desc()).limit(size).offset((max(page, 1) - 1) * size)
        )
        return [_summary(r) for r in rows], total


@dataclass(frozen=True, slots=True)
class SegmentSummary:
    seq: int
    started_at: datetime
    ended_at: datetime
    frames: int
    frames_masked_whole: int
    counts: dict[str, int]
    policy_version: str
    ledger_seq: int | None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        out["started_at"], out["ended_at"] = utc(self.started_at).isoformat(), utc(self.ended_at).isoformat()
        return out


def recording(
    ctx: Context, recording_id: str, *, owner: str | None = None
) -> tuple[RecordingSummary, list[SegmentSummary]]:
    with Session(ctx.engine) as s:
        row = s.get(RecordingRow, recording_id)
        if row is None or (owner is not None and row.owner != owner):
            raise InputError("no such recording")
        segs = s.scalars(
            select(SegmentRow).where(SegmentRow.recording_id == recording_id).order_by(SegmentRow.seq)
        )
        return _summary(row), [
            SegmentSummary(
                g.seq,
                utc(g.started_at),
                utc(g.ended_at),
                g.frames,
                g.frames_masked_whole,
                json.loads(g.counts),
                g.policy_version,
                g.ledger_seq,
            )
            for g in segs
        ]


def segment_member(
    ctx: Context, recording_id: str, seq: int, member: str, actor: str, on_behalf_of: str = ""
) -> bytes:
    """One redacted member (video or sanitized text layer) of a stored segment, read through the
    store (as `actor`; a service account names the person it works for in `on_behalf_of`)."""
    if member not in MEMBERS:
        raise InputError("unknown segment member")
    with Session(ctx.engine) as s:
        object_id = s.scalar(
            select(SegmentRow.object_id).where(SegmentRow.recording_id == recording_id, SegmentRow.seq == seq)
        )
    if object_id is None:
        raise InputError("no such segment")
    with zipfile.ZipFile(
        io.BytesIO(ctx.sink.get(object_id, actor=actor, on_behalf_of=on_behalf_of))
    ) as archive:
        return archive.read(member)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    time: str
    kind: str
    event: dict[str, Any]
    proof: dict[str, Any] | None = None
    proof_ok: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind,
            "event": self.event,
            "inclusion_proof": self.proof,
            "proof_ok": self.proof_ok,
        }


def _proven(ctx: Context, rows: list[EntryRow]) -> list[LedgerEntry]:
    """The entries, each with its inclusion proof in the tree the ledger signed. One signed proof
    (the ledger's own, for the newest entry) gives the signed root; the other proofs come from one
    pass over the entries and must lead to that same root."""
    if not rows:
        return []
    try:
        signed = ctx.ledger.inclusion_proof(max(r.seq for r in rows))
    except LedgerError:
        return [_entry(r, None, False) for r in rows]
    with Session(ctx.ledger_engine) as s:
        bodies = s.scalars(
            select(EntryRow.body).where(EntryRow.seq < signed.tree_size).order_by(EntryRow.seq)
        )
        leaves = [leaf_hash(b) for b in bodies]
    if len(leaves) != signed.tree_size or merkle.root_hash(leaves) != signed.root:
        return [_entry(r, None, False) for r in rows]
    out = []
    for row in rows:
        proof = InclusionProof(
            row.seq,
            signed.tree_size,
            leaf_hash(row.body),
            tuple(merkle.inclusion_proof(leaves, row.seq)),
            signed.root,
            signed.checkpoint,
        )
        out.append(_entry(row, proof.to_dict(), proof.verify()))
    return out


def _entry(row: EntryRow, proof: dict[str, Any] | None, ok: bool | None) -> LedgerEntry:
    data = json.loads(row.body)
    time, kind = str(data.get("time", "")), str(data.get("kind", ""))
    return LedgerEntry(row.seq, time, kind, data["event"], proof, ok)


def ledger_entries(
    ctx: Context,
    kinds: tuple[str, ...],
    *,
    page: int = 1,
    size: int = 20,
    refs: list[str] | None = None,
    prove: bool = False,
) -> tuple[list[LedgerEntry], int]:
    """Entries of `kinds`, newest first (optionally only those whose ref is in `refs`), each with
    its inclusion proof checked against the signed tree when `prove`."""
    query = select(EntryRow).where(EntryRow.kind.in_(kinds))
    count = select(func.count()).select_from(EntryRow).where(EntryRow.kind.in_(kinds))
    if refs is not None:
        query, count = query.where(EntryRow.ref.in_(refs)), count.where(EntryRow.ref.in_(refs))
    with Session(ctx.ledger_engine) as s:
        total = int(s.scalar(count) or 0)
        query = query.order_by(EntryRow.seq.desc()).limit(size).offset((max(page, 1) - 1) * size)
        rows = list(s.scalars(query))
    if prove:
        return _proven(ctx, rows), total
    return [_entry(r, None, None) for r in rows], total


def my_egress(ctx: Context, owner: str) -> list[LedgerEntry]:
    """Egress entries whose payload came from one of `owner`'s recordings: intents linked by id,
    and every intent (each attempt) whose payload hash was linked to one before the send."""
    with Session(ctx.engine) as s:
        intents = set(
            s.scalars(
                select(EgressLinkRow.intent_id)
                .join(RecordingRow, RecordingRow.recording_id == EgressLinkRow.recording_id)
                .where(RecordingRow.owner == owner)
            )
        )
        hashes = set(
            s.scalars(
                select(PayloadLinkRow.payload_sha256)
                .join(RecordingRow, RecordingRow.recording_id == PayloadLinkRow.recording_id)
                .where(RecordingRow.owner == owner)
            )
        )
    if hashes:
        for entry in ctx.ledger.entries(["egress-intent"]):
            if entry.event.get("payload_sha256") in hashes:
                intents.add(str(entry.event["intent_id"]))
    if not intents:
        return []
    return ledger_entries(ctx, EGRESS_KINDS, refs=sorted(intents), size=200)[0]
