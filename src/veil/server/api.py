"""The JSON API: the same data as the pages, under /api/v1, with the same permissions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from veil.access.roles import Permission
from veil.server import analyze_jobs, gate, mining_jobs, policy, queries
from veil.server.alarms import current_alarms
from veil.server.auth import Viewer
from veil.server.deps import form, need, page_number
from veil.server.web import ctx_of

router = APIRouter(prefix="/api/v1")


@router.get("/recordings")
def recordings(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.REDACTED_OUTPUTS))]
) -> dict[str, Any]:
    page = page_number(request.query_params.get("page"))
    items, total = queries.recordings(ctx_of(request), page)
    return {"total": total, "page": page, "recordings": [r.to_dict() for r in items]}


@router.get("/recordings/{recording_id}")
def recording(
    request: Request, recording_id: str, who: Annotated[Viewer, Depends(need(Permission.REDACTED_OUTPUTS))]
) -> dict[str, Any]:
    summary, segments = queries.recording(ctx_of(request), recording_id)
    return {"recording": summary.to_dict(), "segments": [s.to_dict() for s in segments]}


@router.post("/recordings/{recording_id}/analyze")
def analyze(
    request: Request,
    recording_id: str,
    who: Annotated[Viewer, Depends(need(Permission.REDACTED_OUTPUTS))],
    data: Annotated[FormData, Depends(form())],
) -> dict[str, Any]:
    """Send the recording's sanitized text layer through the egress gateway (see analyze_jobs)."""
    destination = str(data.get("destination") or "local")
    return analyze_jobs.analyze_recording(ctx_of(request), recording_id, destination, who.name)


@router.get("/egress")
def egress(request: Request, who: Annotated[Viewer, Depends(need(Permission.EGRESS_LOG))]) -> dict[str, Any]:
    page = page_number(request.query_params.get("page"))
    entries, total = queries.ledger_entries(ctx_of(request), queries.EGRESS_KINDS, page=page, prove=True)
    return {"total": total, "page": page, "entries": [e.to_dict() for e in entries]}


@router.post("/ledger/verify")
def verify(
    request: Request,
    who: Annotated[Viewer, Depends(need(Permission.EGRESS_LOG))],
    _form: Annotated[FormData, Depends(form())],
) -> dict[str, Any]:
    return ctx_of(request).ledger.verify().to_dict()


@router.get("/mining")
def mining(request: Request, who: Annotated[Viewer, Depends(need(Permission.MINING))]) -> JSONResponse:
    return JSONResponse(mining_jobs.latest(ctx_of(request)))


@router.get("/policy")
def current_policy(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.POLICY_EDIT))]
) -> dict[str, Any]:
    version, text = policy.current(ctx_of(request))
    return {"version": version, "policy": text}


@router.get("/alarms")
def alarms(request: Request, who: Annotated[Viewer, Depends(need(Permission.ALARMS))]) -> dict[str, Any]:
    alarms = current_alarms(ctx_of(request))
    return {"total": len(alarms), "alarms": alarms}


@router.get("/gate")
def gate_state(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.DEPLOYMENT_GATE))]
) -> dict[str, Any]:
    ctx = ctx_of(request)
    steps = {
        step: None if row is None else {"recorded_by": row.recorded_by, "text_sha256": row.text_sha256}
        for step, row in gate.steps(ctx).items()
    }
    return {"complete": not ctx.gate_missing(), "steps": steps}
