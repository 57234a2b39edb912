"""Login, the recordings list, redacted media, the egress log with proofs and ledger verification,
alarms and the admin page. Each page asks the directory for its permission on every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from veil.access.directory import check_name
from veil.access.roles import Permission, allows
from veil.exceptions import InputError, NotAuthenticated
from veil.options import LoginOptions
from veil.server import logins, policy, queries
from veil.server.agent_api import register_device, revoke_device
from veil.server.alarms import current_alarms
from veil.server.auth import SESSION_COOKIE, Viewer, checked_form, set_cookie
from veil.server.breakglass import raw_window
from veil.server.context import Context
from veil.server.db import DeviceRow
from veil.server.deps import form, need, page_number
from veil.server.web import NAV, ctx_of, render, sessions_of

router = APIRouter()


@router.get("/")
def home(request: Request, who: Annotated[Viewer, Depends(need(Permission.OWN_SUMMARIES))]) -> Response:
    first = next(path for path, _, perm in NAV if allows(who.role, perm))
    return RedirectResponse(first, status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", None)


@router.post("/login")
async def login(request: Request) -> Response:
    ctx, sessions = ctx_of(request), sessions_of(request)
    data = await checked_form(request, sessions)
    name, password = str(data.get("user", "")), str(data.get("password", ""))
    opts = await run_in_threadpool(_login_options, ctx)
    throttle = logins.Throttle(ctx, sessions.secret)
    keys = throttle.keys(name, client_address(request, ctx))
    wait = await run_in_threadpool(throttle.retry_after, keys, opts)
    if wait is not None:  # refused before the password is checked (no argon2 work either)
        page = render(request, "login.html", None, status_code=429, throttled=True)
        page.headers["Retry-After"] = str(wait)
        return page
    try:
        user = await run_in_threadpool(ctx.directory.check_password, name, password)
    except NotAuthenticated:
        known = await run_in_threadpool(ctx.directory.get, name) if _plausible(name) else None
        await run_in_threadpool(throttle.failed, keys, opts, known.name if known else None)
        return render(request, "login.html", None, status_code=401, failed=True)
    await run_in_threadpool(throttle.succeeded, keys)
    seconds = int(opts.session_hours * 3600)
    session_id = await run_in_threadpool(logins.open_session, ctx, user.name, opts.session_hours)
    response = RedirectResponse("/", status_code=303)
    set_cookie(response, ctx, SESSION_COOKIE, sessions.issue(session_id, seconds), max_age=seconds)
    return response


def client_address(request: Request, ctx: Context) -> str | None:
    """The browser's address: the TCP peer, or behind a trusted reverse proxy the last address it
    appended to X-Forwarded-For (else every login would count against the proxy's address)."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded and ctx.settings.proxy_trusted(peer):
        return forwarded.split(",")[-1].strip() or peer
    return peer


def _login_options(ctx: Context) -> LoginOptions:
    return policy.validate(policy.current(ctx)[1]).access.login


def _plausible(name: str) -> bool:
    try:
        check_name(name)
    except InputError:
        return False
    return True


@router.post("/logout")
def logout(request: Request, _form: Annotated[FormData, Depends(form())]) -> Response:
    session_id = sessions_of(request).read(request.cookies.get(SESSION_COOKIE))
    if session_id:
        logins.end_session(ctx_of(request), session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/recordings")
def recordings_page(
    request: Request, who: Annotated[Viewer, Depends(need(Permission.REDACTED_OUTPUTS))]
) -> Response:
    page = page_number(request.query_params.get("page"))
    items, total = queries.recordings(ctx_of(request), page)
    size = ctx_of(request).settings.page_size
    return render(
        request, "recordings.html", who, items=items, total=total, page=page, pages=max(1, -(-total // size))
    )


@router.get("/recordings/{recording_id}")
def recording_page(
    request: Request,
    recording_id: str,
    who: Annotated[Viewer, Depends(need(Permission.REDACTED_OUTPUTS))],
) -> Response:
    ctx = ctx_of(request)
    summary, segments = queries.recording(ctx, recording_id)
    can_ask = allows(who.role, Permission.BREAK_GLASS_REQUEST)
    raw = dict((seg, obj) for obj, seg in raw_window(ctx, who.name, recording_id)) if can_ask else {}
    return render(request, "recording.html", who, rec=summary, segments=segments, can_ask=can_ask, raw=raw)


@router.get("/recordings/{recording_id}/{seq}/{member}")
def segment_media(
    request: Request,
    recording_id: str,
    seq: int,
    member: str,
    who: Annotated[Viewer, Depends(need(Permission.REDACTED_OUTPUTS))],
) -> Response:
    """Redacted outputs only: the verified video or sanitized text layer; raw footage is never here."""
    data = queries.segment_member(ctx_of(request), recording_id, seq, member, who.name)
    return Response(data, media_type=queries.MEMBERS[member], headers={"Cache-Control": "private, no-store"})


@router.get("/egress")
def egress_page(request: Request, who: Annotated[Viewer, Depends(need(Permission.EGRESS_LOG))]) -> Response:
    page = page_number(request.query_params.get("page"))
    entries, total = queries.ledger_entries(ctx_of(request), queries.EGRESS_KINDS, page=page, prove=True)
    return render(
        request, "egress.html", who, entries=entries, total=total, page=page, pages=max(1, -(-total // 20))
    )


@router.post("/ledger/verify")
def verify_ledger(
    request: Request,
    who: Annotated[Viewer, Depends(need(Permission.EGRESS_LOG))],
    _form: Annotated[FormData, Depends(form())],
) -> Response:
    report = ctx_of(request).ledger.verify()
    entries, total = queries.ledger_entries(ctx_of(request), queries.EGRESS_KINDS, prove=True)
    return render(request, "egress.html", who, entries=entries, total=total, page=1, pages=1, report=report)


@router.get("/alarms")
def alarms_page(request: Request, who: Annotated[Viewer, Depends(need(Permission.ALARMS))]) -> Response:
    alarms = current_alarms(ctx_of(request))
    return render(request, "alarms.html", who, alarms=alarms)


@router.get("/admin")
def admin_page(request: Request, who: Annotated[Viewer, Depends(need(Permission.USERS_ADMIN))]) -> Response:
    ctx = ctx_of(request)
    with ctx.session() as s:
        devices = [(d.device_id, d.owner, d.revoked, d.created_at) for d in s.query(DeviceRow).all()]
    return render(request, "admin.html", who, users=ctx.directory.users(), devices=devices)


@router.post("/admin/devices")
def admin_add_device(
    request: Request,
    who: Annotated[Viewer, Depends(need(Permission.USERS_ADMIN))],
    data: Annotated[FormData, Depends(form())],
) -> Response:
    ctx = ctx_of(request)
    device_id = register_device(ctx, str(data.get("owner", "")), str(data.get("public_key", "")), who.name)
    return RedirectResponse(f"/admin?added={device_id}", status_code=303)


@router.post("/admin/devices/{device_id}/revoke")
def admin_revoke_device(
    request: Request,
    device_id: str,
    who: Annotated[Viewer, Depends(need(Permission.USERS_ADMIN))],
    _form: Annotated[FormData, Depends(form())],
) -> Response:
    revoke_device(ctx_of(request), device_id, who.name)
    return RedirectResponse("/admin", status_code=303)
