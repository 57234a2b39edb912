"""The employees' requests as the privacy officer sees them (`/requests`): each with its deadline;
an export is answered with the employee's portal data, a deletion is carried out by crypto-shredding
every object of their recordings (the store logs a DeletionEvent each) and removing their rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import delete, select
from starlette.datastructures import FormData

from veil.access.roles import Permission
from veil.audit.events import PortalRequestEvent
from veil.exceptions import InputError
from veil.server import portal
from veil.server.auth import Viewer
from veil.server.context import Context
from veil.server.db import RecordingRow, RequestRow, SegmentRow
from veil.server.deps import form, need
from veil.server.web import ctx_of, render

router = APIRouter()
HANDLER = Permission.DEPLOYMENT_GATE  # the privacy officer, who answers to employees


def open_requests(ctx: Context) -> list[RequestRow]:
    with ctx.session() as s:
        rows = list(s.scalars(select(RequestRow).order_by(RequestRow.deadline)))
        for row in rows:
            s.expunge(row)
    return rows


def carry_out(ctx: Context, request_id: int, by: str) -> RequestRow:
    """Answer one open request: a deletion shreds the owner's recordings first."""
    with ctx.session() as s:
        row = s.get(RequestRow, request_id)
        if row is None or row.status != "open":
            raise InputError("no such open request")
        owner, kind = row.owner, row.kind
    if kind == "delete":
        with ctx.session() as s:
            recordings = list(s.scalars(select(RecordingRow.recording_id).where(RecordingRow.owner == owner)))
        for recording_id in recordings:
            ctx.sink.shred(recording_id, actor=by, reason="employee deletion request")
            with ctx.session() as s:
                s.execute(delete(SegmentRow).where(SegmentRow.recording_id == recording_id))
                s.execute(delete(RecordingRow).where(RecordingRow.recording_id == recording_id))
    with ctx.session() as s:
        row = s.get(RequestRow, request_id)
        assert row is not None
        row.status = "done"
        ctx.append(PortalRequestEvent(owner, f"{kind}-done"))
        s.flush()
        s.expunge(row)
    return row


@router.get("/requests")
def requests_page(request: Request, who: Annotated[Viewer, Depends(need(HANDLER))]) -> Response:
    now = datetime.now(UTC)
    return render(request, "requests.html", who, requests=open_requests(ctx_of(request)), now=now)


@router.post("/requests/{request_id}/done")
def done(
    request: Request,
    request_id: int,
    who: Annotated[Viewer, Depends(need(HANDLER))],
    _form: Annotated[FormData, Depends(form())],
) -> Response:
    carry_out(ctx_of(request), request_id, who.name)
    return RedirectResponse("/requests", status_code=303)


@router.get("/requests/{request_id}/export")
def export(request: Request, request_id: int, who: Annotated[Viewer, Depends(need(HANDLER))]) -> JSONResponse:
    """The employee's data as their portal shows it (summaries, what left, requests), to send them."""
    ctx = ctx_of(request)
    with ctx.session() as s:
        row = s.get(RequestRow, request_id)
        if row is None or row.kind != "export":
            raise InputError("no such export request")
        owner = row.owner
    headers = {"Content-Disposition": f'attachment; filename="veil-export-{request_id}.json"'}
    return JSONResponse(portal.summary(ctx, owner), headers=headers)
