"""One batch redaction job's work: `veil redact` on the upload (the same `redact_file`, with the
engine of `veil serve --engine`: the local pool, or Ray actors on a local Ray or the cluster of
`RAY_ADDRESS`), its outputs packed as an agent's segment (manifest, redacted video, sanitized text
layer, report), stored through the recording store and listed as a recording of its owner.

Everything is written inside the job's own folder; nothing leaves it but the packed segment, and
only when the verifier cleared every frame or it was masked whole (fail closed, as the agent).
The upload is decrypted only into this process's memory, for the run (`upload.sealed_input`).
The run appends to the server's ledger what `veil redact` appends (`capture`, `redaction-summary`
with the hash of each output); the store appends `object-stored`; the job its `redaction-job`.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from veil.api import RunOptions, companion_paths, redact_file
from veil.audit import default_key_dir, default_ledger_url
from veil.audit.events import RedactionJobEvent
from veil.audit.record import input_sha256
from veil.exceptions import EngineError, VeilError
from veil.options import Policy
from veil.report import RunReport
from veil.server import policy
from veil.server.context import Context
from veil.server.db import RedactionJobRow
from veil.server.segments import BATCH_DEVICE, MANIFEST, Manifest, SegmentConflict, add_segment
from veil.server.upload import object_id, sealed_input

VIDEO, LAYER, REPORT = "redacted.mp4", "textlayer.jsonl", "report.json"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What a claimed job runs on (read from its row once)."""

    id: int
    folder: Path
    upload: Path  # sealed (veil.server.upload)
    suffix: str
    input_sha256: str
    wrapped_key: bytes = field(repr=False)
    recording_id: str
    owner: str
    submitted_by: str
    policy_version: str
    engine: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Packed:
    """The job's output as one segment zip in its folder."""

    path: Path
    sha256: str
    manifest: Manifest


def job_policy(ctx: Context, version: str) -> Policy:
    """The stored policy `version`, its ledger the server's (so the run's entries land there)."""
    pol = policy.validate(policy.text_of(ctx, version))
    ledger = pol.ledger.model_copy(
        update={
            "enabled": True,
            "url": ctx.settings.ledger_url or default_ledger_url(),
            "key_dir": ctx.settings.ledger_key_dir or default_key_dir(),
            "signer": None,  # the server's own: VEIL_LEDGER_SIGNER, else the key in key_dir
        }
    )
    return pol.model_copy(update={"ledger": ledger})


def redact(ctx: Context, job: JobSpec) -> Packed:
    """Run `veil redact` on the upload inside the job's folder and pack its outputs."""
    out = job.folder / "out"
    out.mkdir(mode=0o700, exist_ok=True)
    video = out / VIDEO
    options = RunOptions(job_policy(ctx, job.policy_version), output=video, engine=job.engine)
    key = ctx.kek.unwrap(job.wrapped_key, object_id(job.folder).encode())
    with sealed_input(job.upload, key, job.folder, job.suffix, job.input_sha256) as recording:
        report = redact_file(recording, options)
    if report.recording_id != job.recording_id:
        raise VeilError("the redaction run recorded another recording id than the upload's")
    uncleared = sum(1 for r in report.frames if not r.masked_whole and not r.verified)
    if uncleared:
        raise EngineError(f"{uncleared} frame(s) were not cleared by the verifier; nothing was stored")
    report_path, layer_path = companion_paths(video)
    members = {VIDEO: video, LAYER: layer_path, REPORT: report_path}
    manifest = _manifest(job, report, members)
    path = job.folder / "segment.zip"
    _pack(path, manifest, members)
    return Packed(path, input_sha256(path), manifest)


def _manifest(job: JobSpec, report: RunReport, members: dict[str, Path]) -> Manifest:
    summary = report.summary()
    started = job.started_at.astimezone(UTC)  # the file's own times are not trusted: the job's
    data = {
        "recording_id": job.recording_id,
        "seq": 0,
        "started_at": started,
        "ended_at": started + timedelta(seconds=report.duration_seconds),
        "frames": report.frame_count,
        "policy_version": job.policy_version,
        "counts": summary["findings_by_type"],
        "frames_masked_whole": report.frames_masked,
        "verifier": "cleared",
        "sha256": {name: input_sha256(path) for name, path in members.items()},
    }
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise VeilError(f"redaction job manifest: invalid '{'.'.join(map(str, first['loc']))}'") from None


def _pack(path: Path, manifest: Manifest, members: dict[str, Path]) -> None:
    """The segment zip (stored, not compressed: the video is), members streamed from disk."""
    stamp = manifest.started_at.astimezone(UTC).timetuple()[:6]
    body = json.dumps(manifest.model_dump(mode="json"), ensure_ascii=False, indent=1).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_info(MANIFEST, stamp), body)
        for name, source in members.items():
            with source.open("rb") as src, archive.open(_info(name, stamp), "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, _CHUNK)


def _info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(stamp[0], stamp[1], stamp[2], stamp[3], stamp[4], stamp[5]))
    info.external_attr = 0o600 << 16
    return info


def store(ctx: Context, job: JobSpec, packed: Packed, seconds: float) -> None:
    """Put the segment in the store, list it as a recording of the job's owner and mark the job
    done, the catalog rows and the `redaction-job` entry in one transaction."""
    # The store's slot is numbered by the job, not 0: a retry never meets the slot of an earlier
    # attempt that stored and was then shredded (a shredded slot answers with its dead object).
    with packed.path.open("rb") as body:
        object_id = ctx.sink.put(
            body,
            owner=job.owner,
            recording_id=job.recording_id,
            segment=job.id,
            policy_version=job.policy_version,
        )
    m = packed.manifest
    try:
        with ctx.session() as s:
            row = add_segment(s, ctx, m, BATCH_DEVICE, job.owner, packed.sha256, object_id)
            ref = ctx.append(
                RedactionJobEvent(
                    job.id, job.recording_id, job.owner, job.submitted_by, "done", job.policy_version,
                    job.engine, frames=m.frames, outputs={"segment": packed.sha256},
                )
            )  # fmt: skip
            row.ledger_seq = ref.seq
            done = s.get(RedactionJobRow, job.id)
            if done is not None:
                done.status, done.frames, done.error = "done", m.frames, ""
                done.finished_at, done.seconds = datetime.now(UTC), seconds
    except IntegrityError:
        raise SegmentConflict("this recording is already stored on the server; not stored again") from None
