"""Batch redaction jobs in `veil serve`: recordings made elsewhere (legacy video, meeting
recordings, re-runs after a detector update) uploaded by a privacy officer and redacted on the
server, as Ray tasks with `veil serve --engine ray` (`redaction_run`).

The queue is a table (`RedactionJobRow`): queued -> running -> done | failed. A job is claimed by
an update that only succeeds on a queued row, so several server workers never run one job twice;
a running job touches its heartbeat every HEARTBEAT_SECONDS. `recover` (at start, then every
`Settings.job_sweep_seconds`) fails a running job whose heartbeat stopped (its server was killed
or restarted): its folder (the upload, a half-done run) is removed and anything it stored
shredded. However a job ends, its upload is removed. Retrying is submitting again: a failed job
leaves nothing in the way. Error messages name error classes and steps, never a value nor the
uploaded file's name (which is never kept).

Ledger: `raw-upload` when an upload is accepted (raw access: the access alarms count it), the
entries `veil redact` writes (`capture`, `redaction-summary`), the store's `object-stored`, a
`redaction-job` entry with the outcome, and a `deletion` entry when the upload is removed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from veil.access.directory import check_reason
from veil.access.roles import Role
from veil.audit.events import MAX_TEXT, DeletionEvent, RawUploadEvent, RedactionJobEvent
from veil.exceptions import AccessDenied, InputError, VeilError
from veil.server import policy, redaction_run
from veil.server.auth import Sessions
from veil.server.context import Context
from veil.server.db import RecordingRow, RedactionJobRow, utc
from veil.server.redaction_run import JobSpec
from veil.server.segments import SegmentConflict
from veil.server.upload import SEALED_NAME, Upload, object_id, receive_upload, remove

log = logging.getLogger(__name__)

JOBS_FOLDER = "redaction-jobs"
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 120.0  # a running job's heartbeat older than this: its server is gone
ACTOR = "veil-redaction-jobs"
OPEN = ("queued", "running")
_draining = threading.Lock()  # one job at a time per server process


def jobs_root(ctx: Context) -> Path:
    return ctx.settings.data() / JOBS_FOLDER


async def receive(request: Request, ctx: Context, sessions: Sessions, who: str) -> dict[str, Any]:
    """Take an upload from the form and queue its job; the job as the API shows it."""
    missing = await run_in_threadpool(ctx.gate_missing)
    if missing:
        raise AccessDenied(f"deployment gate incomplete ({', '.join(missing)}): no recording is accepted")
    upload = await receive_upload(request, sessions, jobs_root(ctx), ctx.settings.max_upload_bytes)
    try:
        return await run_in_threadpool(submit, ctx, upload, who)
    except BaseException:
        remove(upload.folder)
        raise


def _checked_fields(ctx: Context, fields: dict[str, str]) -> tuple[str, str, str]:
    """(owner, reason, policy version) of the form, each checked."""
    owner, reason = fields.get("owner", "").strip(), " ".join(fields.get("reason", "").split())
    user = ctx.directory.get(owner) if owner else None
    if user is None or user.disabled or user.role is Role.SERVICE:
        raise InputError("the recording's owner must be an active user (the person recorded)")
    if not reason or len(reason) > MAX_TEXT:
        raise InputError(f"give a reason for handing in this recording (at most {MAX_TEXT} characters)")
    check_reason(reason)  # it stays in the ledger for good: screened by Veil's detectors, as all reasons
    version = fields.get("policy_version", "").strip() or policy.current(ctx)[0]
    policy.validate(policy.text_of(ctx, version))  # a version that no longer validates is refused now
    return user.name, reason, version


def submit(ctx: Context, upload: Upload, who: str) -> dict[str, Any]:
    """Queue the job of an upload on disk, with its `raw-upload` ledger entry."""
    owner, reason, version = _checked_fields(ctx, upload.fields)
    recording_id = upload.sha256[:16]  # as `veil redact` records it (veil.audit.record)
    with ctx.session() as s:
        if s.get(RecordingRow, recording_id) is not None or s.scalar(
            select(RedactionJobRow.id).where(
                RedactionJobRow.recording_id == recording_id, RedactionJobRow.status.in_(OPEN)
            )
        ):
            raise SegmentConflict(f"this recording is already stored or queued (recording {recording_id})")
        row = RedactionJobRow(
            folder=upload.folder.name, suffix=upload.suffix, recording_id=recording_id, owner=owner,
            wrapped_key=ctx.kek.wrap(upload.key, object_id(upload.folder).encode()), kek_id=ctx.kek.key_id,
            submitted_by=who, reason=reason, policy_version=version, engine=ctx.settings.engine,
            input_sha256=upload.sha256, input_bytes=upload.size, status="queued",
            submitted_at=datetime.now(UTC),
        )  # fmt: skip
        s.add(row)
        s.flush()
        ctx.append(RawUploadEvent(row.id, recording_id, who, owner, reason, upload.sha256, upload.size))
        return job_dict(row)


def job_dict(row: RedactionJobRow) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return utc(value).isoformat() if value else None

    return {
        "id": row.id,
        "status": row.status,
        "recording_id": row.recording_id,
        "owner": row.owner,
        "submitted_by": row.submitted_by,
        "reason": row.reason,
        "policy_version": row.policy_version,
        "engine": row.engine,
        "input_bytes": row.input_bytes,
        "frames": row.frames,
        "submitted_at": at(row.submitted_at),
        "started_at": at(row.started_at),
        "finished_at": at(row.finished_at),
        "seconds": round(row.seconds, 2),
        "error": row.error or None,
    }


def jobs(ctx: Context, limit: int = 50) -> list[dict[str, Any]]:
    with ctx.session() as s:
        rows = s.scalars(select(RedactionJobRow).order_by(RedactionJobRow.id.desc()).limit(limit))
        return [job_dict(r) for r in rows]


def job(ctx: Context, job_id: int) -> dict[str, Any]:
    with ctx.session() as s:
        row = s.get(RedactionJobRow, job_id)
        if row is None:
            raise InputError("no such redaction job")
        return job_dict(row)


def _spec(ctx: Context, row: RedactionJobRow) -> JobSpec:
    folder = jobs_root(ctx) / row.folder
    return JobSpec(
        row.id, folder, folder / SEALED_NAME, row.suffix, row.input_sha256, row.wrapped_key or b"",
        row.recording_id, row.owner, row.submitted_by, row.policy_version, row.engine,
        utc(row.started_at or row.submitted_at),
    )  # fmt: skip


def claim_next(ctx: Context) -> JobSpec | None:
    """The oldest queued job, now running for this process; None when none is queued."""
    while True:
        now = datetime.now(UTC)
        with ctx.session() as s:
            job_id = s.scalar(
                select(RedactionJobRow.id)
                .where(RedactionJobRow.status == "queued")
                .order_by(RedactionJobRow.id)
                .limit(1)
            )
            if job_id is None:
                return None
            claimed = s.execute(
                update(RedactionJobRow)
                .where(RedactionJobRow.id == job_id, RedactionJobRow.status == "queued")
                .values(status="running", started_at=now, heartbeat_at=now)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                row = s.get(RedactionJobRow, job_id)
                assert row is not None
                return _spec(ctx, row)
        # another worker claimed it first: look again


def run_queued(ctx: Context) -> None:
    """Run queued jobs one after the other until none is left (one drain per process at a time)."""
    if not _draining.acquire(blocking=False):
        return  # this process is already draining the queue: it will take the new job too
    try:
        while (spec := claim_next(ctx)) is not None:
            try:
                run_job(ctx, spec)
            except (VeilError, SQLAlchemyError) as exc:  # its failure not recorded: `recover` will
                log.error("redaction job %d: outcome not recorded (%s)", spec.id, type(exc).__name__)
    finally:
        _draining.release()


def run_job(ctx: Context, job: JobSpec) -> None:
    """Run one claimed job to done or failed; its folder is removed however it ends."""
    began = time.monotonic()
    outcome = "failed"
    try:
        with _heartbeat(ctx, job.id):
            packed = redaction_run.redact(ctx, job)
            redaction_run.store(ctx, job, packed, time.monotonic() - began)
        outcome = "done"
    except VeilError as exc:
        _fail(ctx, job, "failed", _message(exc, job), type(exc).__name__, time.monotonic() - began)
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the job running, nor stored
        log.error("redaction job %d: internal error (%s)", job.id, type(exc).__name__)
        message = f"internal error ({type(exc).__name__}); nothing was stored"
        _fail(ctx, job, "failed", message, type(exc).__name__, time.monotonic() - began)
    finally:
        _remove_upload(ctx, job, f"redaction job {outcome}")


def _message(exc: VeilError, job: JobSpec) -> str:
    """The error's message without this server's folders (it names the upload as `upload.mp4`)."""
    text = str(exc).replace(f"{job.folder}/", "").replace(str(job.folder), "the job's folder")
    return text[:500]


def _fail(ctx: Context, job: JobSpec, outcome: str, message: str, error: str, seconds: float) -> None:
    """Record a job as failed; shred anything it put in the store that no recording lists."""
    with ctx.session() as s:
        listed = s.get(RecordingRow, job.recording_id) is not None
    if not listed:
        ctx.sink.shred(job.recording_id, actor=ACTOR, reason=f"redaction job {outcome}")
    with ctx.session() as s:
        row = s.get(RedactionJobRow, job.id)
        if row is not None:
            row.status, row.error = "failed", message
            row.finished_at, row.seconds = datetime.now(UTC), seconds
        ctx.append(
            RedactionJobEvent(
                job.id, job.recording_id, job.owner, job.submitted_by, outcome, job.policy_version,
                job.engine, error=error,
            )
        )  # fmt: skip


def _remove_upload(ctx: Context, job: JobSpec, reason: str) -> None:
    """Destroy the upload's key and remove the job's folder (first: whatever else fails), then
    record the deletion. Without its key the ciphertext is noise even if a copy of it survived
    (a backup, a disk block not yet overwritten)."""
    existed = job.upload.exists()
    try:
        with ctx.session() as s:
            s.execute(update(RedactionJobRow).where(RedactionJobRow.id == job.id).values(wrapped_key=None))
    finally:
        remove(job.folder)
    if existed:
        try:
            ctx.append(DeletionEvent(job.recording_id, "raw-upload", reason, method="crypto-shred"))
        except VeilError as exc:
            log.error("redaction job %d: upload removed, not ledgered (%s)", job.id, type(exc).__name__)


@contextmanager
def _heartbeat(ctx: Context, job_id: int) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                with ctx.session() as s:
                    s.execute(
                        update(RedactionJobRow)
                        .where(RedactionJobRow.id == job_id)
                        .values(heartbeat_at=datetime.now(UTC))
                    )
            except SQLAlchemyError as exc:
                log.warning("redaction job %d: heartbeat not written (%s)", job_id, type(exc).__name__)

    thread = threading.Thread(target=beat, name=f"veil-redaction-job-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def recover(ctx: Context, now: datetime | None = None) -> int:
    """Fail the running jobs whose heartbeat stopped (their server is gone), removing their
    folders; remove folders no job owns (an upload cut off by a crash). How many jobs failed."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    horizon = now - timedelta(seconds=STALE_SECONDS)
    failed = 0
    with ctx.session() as s:
        stale = list(
            s.scalars(
                select(RedactionJobRow).where(
                    RedactionJobRow.status == "running", RedactionJobRow.heartbeat_at < horizon
                )
            )
        )
        specs = [_spec(ctx, row) for row in stale]
    for spec in specs:
        with ctx.session() as s:  # taken by one worker only: the others see it failed
            taken = s.execute(
                update(RedactionJobRow)
                .where(RedactionJobRow.id == spec.id, RedactionJobRow.status == "running")
                .where(RedactionJobRow.heartbeat_at < horizon)
                .values(status="failed", finished_at=now)
            )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        message = "interrupted (the server stopped during the job); nothing was kept: submit it again"
        try:
            _fail(ctx, spec, "interrupted", message, "Interrupted", 0.0)
        finally:
            _remove_upload(ctx, spec, "redaction job interrupted")
        failed += 1
    _remove_orphans(ctx, now)
    return failed


def _remove_orphans(ctx: Context, now: datetime) -> None:
    root = jobs_root(ctx)
    if not root.is_dir():
        return
    with ctx.session() as s:
        owned = set(s.scalars(select(RedactionJobRow.folder).where(RedactionJobRow.status.in_(OPEN))))
    cutoff = now.timestamp() - STALE_SECONDS
    for folder in root.iterdir():
        if folder.name in owned:
            continue
        try:
            newest = max([folder.stat().st_mtime, *(p.stat().st_mtime for p in folder.rglob("*"))])
        except OSError:
            continue
        if newest < cutoff:  # no upload still being written to it
            remove(folder)


async def watch(ctx: Context) -> None:
    """At start and then every `Settings.job_sweep_seconds`: recover, then run what is queued
    (jobs left queued by a restart, or submitted while this process was busy). A failed sweep
    (catalog or ledger down) is logged by its type and retried at the next tick."""
    while True:
        try:
            await asyncio.to_thread(recover, ctx)
            await asyncio.to_thread(run_queued, ctx)
        except (VeilError, SQLAlchemyError) as exc:
            log.error("redaction jobs sweep failed (%s)", type(exc).__name__)
        await asyncio.sleep(ctx.settings.job_sweep_seconds)
