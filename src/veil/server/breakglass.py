"""Break-glass from the web: ask for a window on a recording's raw footage (with a reason), approve
or deny someone else's request (another person, another role), and, inside an approved window,
see the raw footage beside the redacted one. Every step is the access package's, so every step
is a ledger entry, and every raw read goes through the store's guard (RawAccessEvent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from veil.access.breakglass import BreakGlass, Status
from veil.access.roles import Permission
from veil.exceptions import InputError
from veil.server import policy
from veil.server.auth import Viewer
from veil.server.context import Context
from veil.server.deps import form, need
from veil.server.web import ctx_of, render

router = APIRouter()


def breakglass(ctx: Context) -> BreakGlass:
    return BreakGlass(ctx.directory, policy.validate(policy.current(ctx)[1]).access)


def raw_window(ctx: Context, viewer: str, recording_id: str) -> list[tuple[str, int]]:
    """The raw objects `viewer` may open now on `recording_id` (an approved, unexpired window)."""
    if breakglass(ctx).active_grant(viewer, recording_id) is None:
        return []
    return ctx.sink.raw_objects(recording_id)


@router.post("/recordings/{recording_id}/break-glass")
def ask(
    request: Request,
    recording_id: str,
    who: Annotated[Viewer, Depends(need(Permission.BREAK_GLASS_REQUEST))],
    data: Annotated[FormData, Depends(form())],
) -> Response:
    breakglass(ctx_of(request)).request(who.name, recording_id, str(data.get("reason", "")))
    return RedirectResponse(f"/recordings/{recording_id}?asked=1", status_code=303)


@router.get("/recordings/{recording_id}/raw/{object_id}")
def raw(
    request: Request,
    recording_id: str,
    object_id: str,
    who: Annotated[Viewer, Depends(need(Permission.BREAK_GLASS_REQUEST))],
) -> Response:
    ctx = ctx_of(request)
    if object_id not in {o for o, _ in ctx.sink.raw_objects(recording_id)}:
        raise InputError("no such raw object for this recording")
    data = ctx.sink.get(object_id, actor=who.name)  # the guard checks the window and logs the read
    return Response(data, media_type="video/mp4", headers={"Cache-Control": "private, no-store"})


@router.get("/break-glass")
def pending(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.BREAK_GLASS_APPROVE))]
) -> Response:
    requests = breakglass(ctx_of(request)).requests(status=Status.PENDING)
    return render(request, "breakglass.html", who, requests=requests)


@router.post("/break-glass/{request_id}/{decision}")
def decide(
    request: Request,
    request_id: str,
    decision: str,
    who: Annotated[Viewer, Depends(need(Permission.BREAK_GLASS_APPROVE))],
    data: Annotated[FormData, Depends(form())],
) -> Response:
    bg = breakglass(ctx_of(request))
    if decision == "approve":
        bg.approve(request_id, who.name, reason=str(data.get("reason", "")))
    elif decision == "deny":
        bg.deny(request_id, who.name, reason=str(data.get("reason", "")))
    else:
        raise InputError("decision must be approve or deny")
    return RedirectResponse("/break-glass", status_code=303)
