"""The employee portal (/me): what was recorded about me, what was removed, what left, when it is
deleted; pause or resume my recording; object; ask for an export or a deletion (with a deadline)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from veil.access.roles import Permission
from veil.audit.events import PortalRequestEvent
from veil.exceptions import InputError
from veil.server import queries
from veil.server.auth import Viewer
from veil.server.context import Context
from veil.server.db import PauseRow, RequestRow, utc
from veil.server.deps import form, need
from veil.server.web import ctx_of, render

router = APIRouter()
REQUEST_KINDS = ("object", "export", "delete")


def set_paused(ctx: Context, owner: str, paused: bool) -> None:
    with ctx.session() as s:
        row = s.get(PauseRow, owner)
        if row is None:
            row = PauseRow(owner=owner)
            s.add(row)
        row.paused, row.changed_at = paused, datetime.now(UTC)
        ctx.append(PortalRequestEvent(owner, "pause" if paused else "resume"))


def make_request(ctx: Context, owner: str, kind: str) -> RequestRow:
    if kind not in REQUEST_KINDS:
        raise InputError(f"unknown request (expected one of {', '.join(REQUEST_KINDS)})")
    days = ctx.settings.request_deadline_days
    now = datetime.now(UTC)
    with ctx.session() as s:
        row = RequestRow(owner=owner, kind=kind, created_at=now, deadline=now + timedelta(days=days))
        row.status = "open"
        s.add(row)
        row.ledger_seq = ctx.append(PortalRequestEvent(owner, kind, days)).seq
        s.flush()
        s.expunge(row)
    return row


def summary(ctx: Context, owner: str) -> dict[str, Any]:
    """Everything the portal shows about `owner`, as plain data (the page and /api/v1/me)."""
    recs, total = queries.recordings(ctx, 1, owner=owner, size=100)
    with ctx.session() as s:
        requests = [
            {
                "kind": r.kind,
                "created_at": utc(r.created_at).isoformat(),
                "deadline": utc(r.deadline).isoformat(),
                "status": r.status,
            }
            for r in s.scalars(
                select(RequestRow).where(RequestRow.owner == owner).order_by(RequestRow.id.desc())
            )
        ]
    removed: dict[str, int] = {}
    for rec in recs:
        for key, value in rec.counts.items():
            removed[key] = removed.get(key, 0) + value
    return {
        "paused": ctx.paused(owner),
        "recordings_total": total,
        "recordings": [r.to_dict() for r in recs],
        "removed_by_type": dict(sorted(removed.items())),
        "egress": [e.to_dict() for e in queries.my_egress(ctx, owner)],
        "requests": requests,
        "request_deadline_days": ctx.settings.request_deadline_days,
    }


@router.get("/me")
def portal_page(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.OWN_SUMMARIES))]
) -> Response:
    ctx = ctx_of(request)
    recs, total = queries.recordings(ctx, 1, owner=who.name, size=100)
    data = summary(ctx, who.name)
    return render(request, "portal.html", who, recs=recs, total=total, data=data)


@router.post("/me/pause")
def pause(
    request: Request,
    who: Annotated[Viewer, Depends(need(Permission.OWN_PORTAL_ACTIONS))],
    _form: Annotated[FormData, Depends(form())],
) -> Response:
    set_paused(ctx_of(request), who.name, True)
    return RedirectResponse("/me", status_code=303)


@router.post("/me/resume")
def resume(
    request: Request,
    who: Annotated[Viewer, Depends(need(Permission.OWN_PORTAL_ACTIONS))],
    _form: Annotated[FormData, Depends(form())],
) -> Response:
    set_paused(ctx_of(request), who.name, False)
    return RedirectResponse("/me", status_code=303)


@router.post("/me/request")
def portal_request(
    request: Request,
    who: Annotated[Viewer, Depends(need(Permission.OWN_PORTAL_ACTIONS))],
    data: Annotated[FormData, Depends(form())],
) -> Response:
    make_request(ctx_of(request), who.name, str(data.get("kind", "")))
    return RedirectResponse("/me?sent=1", status_code=303)


@router.get("/api/v1/me")
def portal_json(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.OWN_SUMMARIES))]
) -> JSONResponse:
    return JSONResponse(summary(ctx_of(request), who.name))
