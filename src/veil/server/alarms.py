"""The alarms page's data: the access alarms (`veil.access.alarm_log`) evaluated on the ledger's
new entries each time someone looks, then every alarm raised so far, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from veil.access.alarm_log import AlarmLog
from veil.server import policy
from veil.server.context import Context
from veil.server.db import RecordingRow


def current_alarms(ctx: Context) -> list[dict[str, Any]]:
    options = policy.validate(policy.current(ctx)[1]).access.alarms

    def owner_of(recording_id: str) -> str | None:
        with Session(ctx.engine) as s:
            row = s.get(RecordingRow, recording_id)
            return row.owner if row is not None else None

    log = AlarmLog(ctx.directory.engine, ctx.ledger, options, owner_of=owner_of)
    with ctx.ledger_lock:  # the evaluation appends each new alarm to the ledger
        log.evaluate()
    alarms = sorted(log.alarms(), key=lambda a: a.raised_at, reverse=True)
    return [a.to_dict() | {"entry_count": len(a.seqs)} for a in alarms]
