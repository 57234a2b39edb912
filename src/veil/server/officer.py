"""Pages for the task-mining report, policy editing and the deployment gate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from veil.access.roles import Permission, allows
from veil.exceptions import InputError, PolicyError
from veil.server import gate, mining_jobs, policy, redaction_jobs
from veil.server.auth import Viewer
from veil.server.deps import form, need
from veil.server.web import ctx_of, render, sessions_of

router = APIRouter()


@router.get("/mining")
def mining_page(request: Request, who: Annotated[Viewer, Depends(need(Permission.MINING))]) -> Response:
    return render(request, "mining.html", who, run=mining_jobs.latest(ctx_of(request)))


@router.post("/mining/run")
def mining_run(
    request: Request,
    tasks: BackgroundTasks,
    who: Annotated[Viewer, Depends(need(Permission.MINING))],
    _form: Annotated[FormData, Depends(form())],
) -> Response:
    ctx = ctx_of(request)
    run_id = mining_jobs.start(ctx, who.name)
    tasks.add_task(mining_jobs.run, ctx, run_id, who.name)
    return RedirectResponse("/mining", status_code=303)


def _policy_page(request: Request, who: Viewer, status: int = 200, **values: object) -> Response:
    """The policy page; with the batch redaction form and its jobs for those who may submit."""
    ctx = ctx_of(request)
    version, text = policy.current(ctx)
    page: dict[str, object] = {"version": version, "text": text}
    if allows(who.role, Permission.BATCH_REDACT):
        page.update(jobs=redaction_jobs.jobs(ctx), versions=policy.versions(ctx))
        page.update(max_upload_mib=round(ctx.settings.max_upload_bytes / 2**20), engine=ctx.settings.engine)
    page.update(values)
    return render(request, "policy.html", who, status, **page)


@router.get("/policy")
def policy_page(request: Request, who: Annotated[Viewer, Depends(need(Permission.POLICY_EDIT))]) -> Response:
    return _policy_page(request, who)


@router.post("/policy")
def policy_save(
    request: Request,
    who: Annotated[Viewer, Depends(need(Permission.POLICY_EDIT))],
    data: Annotated[FormData, Depends(form())],
) -> Response:
    ctx = ctx_of(request)
    text = str(data.get("policy", ""))
    try:
        event = policy.change(ctx, text, who.name)
    except PolicyError as exc:
        return _policy_page(request, who, 400, text=text, error=str(exc))
    return _policy_page(request, who, version=event.new_version, text=text, saved=True)


@router.post("/redaction-jobs")
async def redaction_job_submit(
    request: Request,
    tasks: BackgroundTasks,
    who: Annotated[Viewer, Depends(need(Permission.BATCH_REDACT))],
) -> Response:
    """The policy page's form: as `POST /api/v1/redaction-jobs`, then back to the page."""
    ctx = ctx_of(request)
    job = await redaction_jobs.receive(request, ctx, sessions_of(request), who.name)
    tasks.add_task(redaction_jobs.run_queued, ctx)
    return RedirectResponse(f"/policy?job={job['id']}#redaction-jobs", status_code=303)


@router.get("/gate")
def gate_page(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.DEPLOYMENT_GATE))]
) -> Response:
    ctx = ctx_of(request)
    return render(request, "gate.html", who, steps=gate.steps(ctx), missing=ctx.gate_missing())


@router.post("/gate/{step}")
def gate_record(
    request: Request,
    step: str,
    who: Annotated[Viewer, Depends(need(Permission.DEPLOYMENT_GATE))],
    data: Annotated[FormData, Depends(form())],
) -> Response:
    ctx = ctx_of(request)
    try:
        gate.record_step(
            ctx, step, str(data.get("text", "")), who.name, purpose_only=data.get("purpose_only") == "yes"
        )
    except InputError as exc:
        return render(
            request, "gate.html", who, 400, steps=gate.steps(ctx), missing=ctx.gate_missing(), error=str(exc)
        )
    return RedirectResponse("/gate", status_code=303)
