"""The deployment gate: no agent records until the organisation recorded four things here.

notice              the notice given to employees (what is recorded, why, their rights)
consultation        the consultation of employee representatives (when, with whom, outcome)
purpose             the purpose, which must be discovering automatable tasks and nothing else
impact_assessment   the data protection impact assessment (its reference and conclusion)

Each is a form for DEPLOYMENT_GATE holders and a ledger entry (the text's sha256, who, the step).
Until all four exist, the agent state answers recording=false reason gate-incomplete and segment
uploads are refused.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from veil.audit.events import GateStepEvent
from veil.exceptions import InputError
from veil.server.context import GATE_STEPS, Context
from veil.server.db import GateRow

PURPOSE = "discovering automatable tasks"
MAX_TEXT = 20_000


def record_step(ctx: Context, step: str, text: str, by: str, *, purpose_only: bool = False) -> GateRow:
    """Record (or replace) one gate step; InputError for an unknown step, an empty text, or a
    purpose step whose author did not confirm the purpose is only discovering automatable tasks."""
    if step not in GATE_STEPS:
        raise InputError(f"unknown gate step (expected one of {', '.join(GATE_STEPS)})")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InputError(f"the {step} text must be 1-{MAX_TEXT} characters")
    if step == "purpose" and not purpose_only:
        raise InputError(f"the purpose must be {PURPOSE}, nothing else: confirm it to record this step")
    digest = hashlib.sha256(text.encode()).hexdigest()
    with ctx.session() as s:
        row = s.get(GateRow, step)
        if row is None:
            row = GateRow(step=step)
            s.add(row)
        row.text, row.text_sha256, row.recorded_by, row.recorded_at = text, digest, by, datetime.now(UTC)
        row.ledger_seq = ctx.append(GateStepEvent(step, by, digest)).seq
    return row


def steps(ctx: Context) -> dict[str, GateRow | None]:
    with ctx.session() as s:
        rows = {r.step: r for r in s.query(GateRow).all()}
        for r in rows.values():
            s.expunge(r)
    return {step: rows.get(step) for step in GATE_STEPS}
