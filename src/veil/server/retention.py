"""Retention inside `veil serve`: every `Settings.retention_sweep_seconds` (default one hour) the
recording store crypto-shreds every object past its own retention (raw footage after
`store.retention_days.raw`, redacted segments after theirs: a "deletion" ledger entry each), and the
recordings whose deletion date (the one the portal shows the employee) has come are shredded whole
and dropped from the server's lists. Nothing waits for someone to run `veil store expire`."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from veil.exceptions import VeilError
from veil.server.context import Context
from veil.server.db import RecordingRow, SegmentRow

log = logging.getLogger(__name__)
ACTOR = "veil-retention"


class Swept(NamedTuple):
    objects: int  # objects crypto-shredded by the store's own schedule
    recordings: int  # recordings past their deletion date, shredded and dropped from the lists


def sweep(ctx: Context, now: datetime | None = None) -> Swept:
    """One pass; safe to run from several workers at once (a shredded object stays shredded)."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    objects = ctx.sink.expire(when)
    with ctx.session() as s:
        due = list(s.scalars(select(RecordingRow.recording_id).where(RecordingRow.expires_at <= when)))
    for recording_id in due:
        # Objects the store dates later than the server (a longer store retention) go too: the
        # employee was told this date.
        objects += ctx.sink.shred(recording_id, actor=ACTOR, reason="retention period over")
        with ctx.session() as s:
            s.execute(delete(SegmentRow).where(SegmentRow.recording_id == recording_id))
            s.execute(delete(RecordingRow).where(RecordingRow.recording_id == recording_id))
    return Swept(objects, len(due))


async def watch(ctx: Context) -> None:
    """Sweep, sleep, again, until cancelled. A failed sweep (store or catalog down) is logged by
    its type and retried at the next tick: what was due stays due."""
    seconds = ctx.settings.retention_sweep_seconds
    while True:
        try:
            swept = await asyncio.to_thread(sweep, ctx)
            if swept.objects or swept.recordings:
                log.info("retention: %d objects shredded, %d recordings over", *swept)
        except (VeilError, SQLAlchemyError) as exc:
            log.error("retention sweep failed (%s); retrying in %d s", type(exc).__name__, seconds)
        await asyncio.sleep(seconds)
