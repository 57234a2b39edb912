"""What a redaction run appends to the ledger: the capture (input hash, size, kind — not its
name) and the redaction summary (counts by type and mask reasons — never values)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from veil.audit.cosign import WitnessVerifier
from veil.audit.events import CaptureEvent, RedactionSummaryEvent
from veil.audit.signer import parse_signer_url
from veil.audit.store import Ledger, default_key_dir, default_ledger_url
from veil.audit.witness import WitnessEndpoint
from veil.options import Policy
from veil.report import RunReport

_CHUNK = 1 << 20


def input_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's (name, file hash) pairs in name order."""
    digest = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.iterdir() if p.is_file()):
            digest.update(child.name.encode("utf-8") + b"\0" + bytes.fromhex(input_sha256(child)))
        return digest.hexdigest()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def ledger_key_dir(policy: Policy) -> Path:
    """The policy's `ledger.key_dir`, else VEIL_LEDGER_KEY_DIR, else the Veil home folder's."""
    return policy.ledger.key_dir or default_key_dir()


def record_redaction(source: Path, report: RunReport, policy: Policy) -> str:
    """Append the capture and the redaction summary; return the recording id."""
    sha = input_sha256(source)
    recording_id = sha[:16]
    summary = report.summary()
    witnesses = [WitnessEndpoint(w.url, WitnessVerifier.from_vkey(w.vkey)) for w in policy.ledger.witnesses]
    url = policy.ledger.url or default_ledger_url()
    signer = parse_signer_url(policy.ledger.signer) if policy.ledger.signer else None
    with Ledger.open(url, ledger_key_dir(policy), witnesses=witnesses, signer=signer) as ledger:
        ledger.append(
            CaptureEvent(
                recording_id=recording_id,
                source_kind=report.kind,
                sha256=sha,
                frames=report.frame_count,
                duration_seconds=round(report.duration_seconds, 3),
            )
        )
        ledger.append(
            RedactionSummaryEvent(
                recording_id=recording_id,
                policy_version=policy.version,
                frames_total=report.frame_count,
                frames_masked_whole=report.frames_masked,
                counts=summary["findings_by_type"],
                mask_reasons=summary["mask_reasons"],
            )
        )
        ledger.checkpoint()
    return recording_id
