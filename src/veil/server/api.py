"""The JSON API: the same data as the pages, under /api/v1, with the same permissions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from veil.access.roles import Permission
from veil.server import analyze_jobs, gate, mining_jobs, policy, queries, redaction_jobs
from veil.server.alarms import current_alarms
from veil.server.auth import Viewer
from veil.server.deps import form, need, page_number
from veil.server.web import ctx_of, sessions_of

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


@router.post("/redaction-jobs")
async def submit_redaction_job(
    request: Request,
    tasks: BackgroundTasks,
    who: Annotated[Viewer, Depends(need(Permission.BATCH_REDACT))],
) -> JSONResponse:
    """A recording made elsewhere, to redact on the server: a multipart form with the file in
    `recording`, `owner` (the person recorded), `reason`, optionally `policy_version`; the CSRF
    token in `X-CSRF-Token` (or a `csrf` field before the file). 202 with the queued job."""
    ctx = ctx_of(request)
    job = await redaction_jobs.receive(request, ctx, sessions_of(request), who.name)
    tasks.add_task(redaction_jobs.run_queued, ctx)
    where = {"Location": f"/api/v1/redaction-jobs/{job['id']}"}
    return JSONResponse({"job": job}, status_code=202, headers=where)


@router.get("/redaction-jobs")
def redaction_jobs_list(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.BATCH_REDACT))]
) -> dict[str, Any]:
    return {"jobs": redaction_jobs.jobs(ctx_of(request))}


@router.get("/redaction-jobs/{job_id}")
def redaction_job(
    request: Request, job_id: int, who: Annotated[Viewer, Depends(need(Permission.BATCH_REDACT))]
) -> dict[str, Any]:
    return {"job": redaction_jobs.job(ctx_of(request), job_id)}
