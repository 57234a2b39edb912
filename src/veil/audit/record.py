"""What a redaction run appends to the ledger: the capture (input hash, size, kind — not its
name) and the redaction summary (counts by type and mask reasons — never values — and the SHA-256
of each published file: output, report, text layer). `find_output` tells which entry records a
file (`veil audit verify-output`)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
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


def recording_id_of(source: Path) -> str:
    """The id a run of `source` is recorded under: the start of its input's SHA-256."""
    return input_sha256(source)[:16]


def record_redaction(
    source: Path, report: RunReport, policy: Policy, outputs: Mapping[str, Path] | None = None
) -> str:
    """Append the capture and the redaction summary (with the SHA-256 of each of `outputs`, by
    role); return the recording id."""
    sha = input_sha256(source)
    recording_id = sha[:16]
    hashes = {role: input_sha256(path) for role, path in (outputs or {}).items()}
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
                outputs=hashes,
            )
        )
        ledger.checkpoint()
    return recording_id


@dataclass(frozen=True, slots=True)
class OutputMatch:
    """A redaction-summary entry that records a file with the hash looked for."""

    seq: int
    recording_id: str
    role: str  # output | report | text-layer
    time: str


def find_output(ledger: Ledger, path: Path) -> tuple[str, list[OutputMatch]]:
    """The SHA-256 of `path` (a file, or a folder output) and every summary entry recording it.
    The caller verifies the ledger first: a match in an unverified ledger proves nothing."""
    digest = input_sha256(path)
    matches = []
    with tempfile.TemporaryDirectory(prefix="veil-verify-output-") as folder:
        export = ledger.export(Path(folder) / "export")
        for line in (export / "entries.jsonl").read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry["kind"] != RedactionSummaryEvent.kind:
                continue
            for role, sha in sorted(entry["event"].get("outputs", {}).items()):
                if sha == digest:
                    matches.append(
                        OutputMatch(entry["seq"], entry["event"]["recording_id"], role, entry["time"])
                    )
    return digest, matches
