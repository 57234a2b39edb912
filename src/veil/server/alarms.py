"""The access alarms (`veil.access.alarm_log`) inside `veil serve`: evaluated on the ledger's new
entries in the background every `access.alarms.evaluate_seconds` of the policy in force (default
15 s), so a bulk read raises its alarm without anyone opening the page; the page evaluates too,
then lists every alarm raised so far, newest first."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from veil.access.alarm_log import AlarmLog
from veil.exceptions import VeilError
from veil.options import AlarmOptions
from veil.server import policy
from veil.server.context import Context
from veil.server.db import RecordingRow

log = logging.getLogger(__name__)


def _options(ctx: Context) -> AlarmOptions:
    return policy.validate(policy.current(ctx)[1]).access.alarms


def evaluate(ctx: Context, options: AlarmOptions | None = None) -> AlarmLog:
    """One evaluation of the entries appended since the last one (any worker's); the log."""

    def owner_of(recording_id: str) -> str | None:
        # Only for entries that do not name the owner themselves (written before they did).
        with Session(ctx.engine) as s:
            row = s.get(RecordingRow, recording_id)
            return row.owner if row is not None else None

    log_ = AlarmLog(ctx.directory.engine, ctx.ledger, options or _options(ctx), owner_of=owner_of)
    with ctx.ledger_lock:  # the evaluation appends each new alarm to the ledger
        log_.evaluate()
    return log_


def current_alarms(ctx: Context) -> list[dict[str, Any]]:
    alarms = sorted(evaluate(ctx).alarms(), key=lambda a: a.raised_at, reverse=True)
    return [a.to_dict() | {"entry_count": len(a.seqs)} for a in alarms]


async def watch(ctx: Context) -> None:
    """Evaluate, sleep the policy's interval, again, until cancelled. A failed evaluation (ledger
    or catalog down) is logged by its type and retried at the next tick: the cursor has not moved,
    so nothing is skipped."""
    while True:
        seconds = 15
        try:
            options = await asyncio.to_thread(_options, ctx)
            seconds = options.evaluate_seconds
            await asyncio.to_thread(evaluate, ctx, options)
        except (VeilError, SQLAlchemyError) as exc:
            log.error("alarm evaluation failed (%s); retrying in %d s", type(exc).__name__, seconds)
        await asyncio.sleep(seconds)
