"""`POST /api/v1/recordings/{id}/analyze`: a stored recording's sanitized text layer sent through
the egress gateway (`veil.gateway`, the same door as `veil analyze`), to a destination of the
`egress:` section of the policy in force, and linked to the recording for the employee portal.

The payload is text only (the text layer, the derived UI events): the segments on the server were
redacted and verified on the employee's machine, and the gateway re-scans every part before it
leaves. Before the send the server records the payload's SHA-256 with the recording
(`PayloadLinkRow`): every egress intent the gateway writes names that hash, so each attempt, a
retry or one interrupted by a crash, shows in the owner's portal. After the send it also records
the returned intent id (`EgressLinkRow`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from veil.audit.store import default_key_dir, default_ledger_url
from veil.exceptions import EgressBlocked, InputError
from veil.gateway.build import text_parts
from veil.gateway.policy import EgressPolicy, load_egress
from veil.gateway.services import Services, default_analyzer, open_gateway, preflight
from veil.mining.textlayer import TextFrame, read_text_layer
from veil.server import policy, queries
from veil.server.context import Context
from veil.server.db import EgressLinkRow, PayloadLinkRow, SegmentRow
from veil.verify.base import Verdict, Verifier
from veil.verify.payload import clear_payload

_NAME = Path("policy")


class _NoImages(Verifier):
    """The payload holds no image; should one appear, it is refused (fail closed)."""

    def check(self, pixels: Any, frame_index: int) -> Verdict:
        raise EgressBlocked("the server's analyze payload carries no images")


def egress_policy(text: str) -> EgressPolicy:
    raw = yaml.safe_load(text) or {}
    return load_egress(raw.get("egress") if isinstance(raw, dict) else None, _NAME)


def _frames(ctx: Context, recording_id: str, actor: str) -> list[TextFrame]:
    with ctx.session() as s:
        seqs = list(
            s.scalars(
                select(SegmentRow.seq).where(SegmentRow.recording_id == recording_id).order_by(SegmentRow.seq)
            )
        )
    if not seqs:
        raise InputError("no such recording, or it has no stored segments")
    frames: list[TextFrame] = []
    with tempfile.TemporaryDirectory(prefix="veil-analyze-") as tmp:
        for seq in seqs:
            path = Path(tmp) / f"{seq:08d}.textlayer.jsonl"
            path.write_bytes(queries.segment_member(ctx, recording_id, seq, "textlayer.jsonl", actor))
            frames += read_text_layer(path)
    return frames


def analyze_recording(ctx: Context, recording_id: str, destination: str, actor: str) -> dict[str, Any]:
    """Build, clear and send the payload of `recording_id` to `destination`; its summary."""
    version, text = policy.current(ctx)
    pol = policy.validate(text)
    egress = egress_policy(text)
    dest = egress.destination(destination)
    preflight(egress, dest)
    frames = _frames(ctx, recording_id, actor)  # each read checked against `actor`'s role, logged
    analyzer = default_analyzer(pol)
    payload = clear_payload(text_parts(frames, [], analyzer), analyzer, _NoImages())
    with ctx.session() as s:
        s.merge(PayloadLinkRow(payload_sha256=payload.sha256, recording_id=recording_id))
    services = Services(
        analyzer=analyzer,
        ledger_url=ctx.settings.ledger_url or default_ledger_url(),
        key_dir=ctx.settings.ledger_key_dir or default_key_dir(),
    )
    with open_gateway(egress, dest, analyzer, services, version) as gateway:
        answer = gateway.send(payload, dest.name)
    if answer.intent_id:
        with ctx.session() as s:
            s.merge(EgressLinkRow(intent_id=answer.intent_id, recording_id=recording_id))
    return {
        "recording_id": recording_id,
        "destination": dest.name,
        "payload_sha256": payload.sha256,
        "intent_id": answer.intent_id or None,
        "replayed": answer.replayed,
        "answer": answer.text,
    }
