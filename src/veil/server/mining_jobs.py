"""Task mining on the stored, sanitized text layers, as a background task started from the page.

The run reads each segment's `textlayer.jsonl` through the store, mines them with `veil.mining`
(the same code as `veil mine`) and keeps a summary of the candidates: task names, counts, median
durations and how many people (never who, never per person).
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from veil.access.directory import Directory
from veil.access.roles import MINING_SERVICE, Permission, Role
from veil.exceptions import AccessDenied, InputError, VeilError
from veil.mining.base import Candidate
from veil.mining.cli import MineOptions, mine
from veil.server import queries
from veil.server.context import Context
from veil.server.db import MiningRunRow, SegmentRow


def start(ctx: Context, by: str) -> int:
    with ctx.session() as s:
        running = s.scalar(select(MiningRunRow.id).where(MiningRunRow.status == "running"))
        if running is not None:
            return running
        row = MiningRunRow(started_by=by, started_at=datetime.now(UTC), status="running", result="")
        s.add(row)
        s.flush()
        return row.id


def ensure_service_account(directory: Directory) -> None:
    """The mining service account, added (without a password: it cannot log in) on first use; an
    existing account of that name with another role is refused, never taken over."""
    user = directory.get(MINING_SERVICE)
    if user is None:
        try:
            directory.add_user(MINING_SERVICE, Role.SERVICE, by="veil-server", reason="task mining")
        except InputError:
            user = directory.get(MINING_SERVICE)  # another worker added it meanwhile
            if user is None:
                raise
    if user is not None and user.role is not Role.SERVICE:
        raise AccessDenied(f"account {MINING_SERVICE} exists with role {user.role.value}, not service")


def _candidate(c: Candidate) -> dict[str, Any]:
    return {
        "name": c.name,
        "instances": c.instances,
        "median_seconds": round(c.median_seconds, 1),
        "hours_per_week": round(c.hours_per_week, 2),
        "people": c.people(),
        "apps": list(c.apps),
        "score": round(c.score, 3),
        "hours_saved_per_month": round(c.hours_saved_per_month, 1),
        "steps": [step.describe() for step in c.steps],
    }


def run(ctx: Context, run_id: int, actor: str) -> None:
    """Mine every stored text layer, read as the service account `MINING_SERVICE` (the store checks
    its role on every read, and each read's entry names `actor`, the person who started the run, as
    `on_behalf_of`); the outcome (or the error's message) lands in the run's row."""
    began = time.monotonic()
    status, result = "failed", json.dumps({"error": "mining stopped unexpectedly"})
    try:
        summary = _mine_all(ctx, actor)
        result = json.dumps(
            {"events": summary[0], "candidates": summary[1]},
            ensure_ascii=False,
        )
        status = "done"
    except VeilError as exc:
        result = json.dumps({"error": str(exc)})
    finally:
        with ctx.session() as s:
            row = s.get(MiningRunRow, run_id)
            if row is not None:
                row.status, row.result = status, result
                row.finished_at, row.seconds = datetime.now(UTC), time.monotonic() - began


def _mine_all(ctx: Context, actor: str) -> tuple[int, list[dict[str, Any]]]:
    ctx.directory.require(actor, Permission.MINING)  # the person, still allowed, as the run starts
    ensure_service_account(ctx.directory)
    with ctx.session() as s:
        segments = list(s.execute(select(SegmentRow.recording_id, SegmentRow.seq)).all())
    if not segments:
        raise VeilError("no recordings stored yet: nothing to mine")
    with tempfile.TemporaryDirectory(prefix="veil-mining-") as tmp:
        folder = Path(tmp) / "layers"
        folder.mkdir()
        for recording_id, seq in segments:
            data = queries.segment_member(
                ctx, recording_id, seq, "textlayer.jsonl", MINING_SERVICE, on_behalf_of=actor
            )
            (folder / f"{recording_id}-{seq:08d}.textlayer.jsonl").write_bytes(data)
        summary = mine([folder], Path(tmp) / "out", MineOptions(engine=ctx.settings.engine))
    return summary.events, [_candidate(c) for c in summary.candidates]


def latest(ctx: Context) -> dict[str, Any] | None:
    with ctx.session() as s:
        row = s.scalars(select(MiningRunRow).order_by(MiningRunRow.id.desc()).limit(1)).first()
        if row is None:
            return None
        out: dict[str, Any] = {
            "id": row.id,
            "status": row.status,
            "started_at": row.started_at.isoformat(),
            "seconds": round(row.seconds, 2),
        }
        out.update(json.loads(row.result) if row.result else {})
        return out
