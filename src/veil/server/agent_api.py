"""The capture agents' side of the API (signed with veil.uplink), and device registration."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from veil.access.roles import Permission
from veil.audit.events import DeviceEvent
from veil.exceptions import InputError
from veil.server import policy
from veil.server.auth import checked_form, viewer
from veil.server.context import Context
from veil.server.db import DeviceRow, SegmentRow
from veil.server.segments import BATCH_DEVICE, receive_segment
from veil.server.web import ctx_of, current_policy_version, sessions_of
from veil.uplink import H_DEVICE, VerifiedRequest, verify_request

router = APIRouter(prefix="/api/v1")


def _signed_path(request: Request) -> str:
    path: str = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def public_key(pem: str) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise InputError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("the device key must be an Ed25519 public key")
    return key


def _device_keys(ctx: Context, device: str | None, *, include_revoked: bool) -> dict[str, Ed25519PublicKey]:
    if not device:
        return {}
    with ctx.session() as s:
        row = s.get(DeviceRow, device)
        if row is None or (row.revoked and not include_revoked):
            return {}
        return {row.device_id: public_key(row.public_key)}


def _verify(ctx: Context, request: Request, body: bytes, *, include_revoked: bool = False) -> VerifiedRequest:
    keys = _device_keys(ctx, request.headers.get(H_DEVICE), include_revoked=include_revoked)
    return verify_request(request.headers, request.method, _signed_path(request), body, keys, ctx.nonces)


def agent_state(ctx: Context, device: str) -> dict[str, Any]:
    """What the agent of `device` must do now; anything but recording=true stops its capture."""
    state: dict[str, Any] = {
        "recording": False,
        "reason": "ok",
        "policy_version": current_policy_version(ctx),
        "fps_cap": ctx.settings.fps_cap,
        "daily_cap_minutes": ctx.settings.daily_cap_minutes,
    }
    with ctx.session() as s:
        row = s.get(DeviceRow, device)
        owner = row.owner if row is not None else ""
        revoked = row is None or row.revoked
    user = ctx.directory.get(owner) if owner else None
    if revoked or user is None or user.disabled:
        state["reason"] = "device-revoked"
    elif ctx.gate_missing():
        state["reason"] = "gate-incomplete"
    elif ctx.paused(owner):
        state["reason"] = "paused-by-employee"
    elif _minutes_today(ctx, owner) >= ctx.settings.daily_cap_minutes:
        state["reason"] = "cap-reached"
    else:
        state["recording"] = True
    return state


def _minutes_today(ctx: Context, owner: str) -> float:
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with ctx.session() as s:
        rows = s.execute(
            select(SegmentRow.started_at, SegmentRow.ended_at).where(
                SegmentRow.owner == owner,
                SegmentRow.stored_at >= midnight,
                SegmentRow.device_id != BATCH_DEVICE,  # recordings made elsewhere: not today's capture
            )
        ).all()
    return sum((end - start).total_seconds() for start, end in rows) / 60.0


@router.get("/agent/state")
async def get_agent_state(request: Request) -> JSONResponse:
    ctx = ctx_of(request)

    def work() -> dict[str, Any]:
        verified = _verify(ctx, request, b"", include_revoked=True)
        return agent_state(ctx, verified.device)

    return JSONResponse(await run_in_threadpool(work), headers={"Cache-Control": "no-store"})


@router.get("/agent/policy")
async def get_agent_policy(request: Request) -> JSONResponse:
    """The policy in force (version, YAML text, its SHA-256), for an agent to record under; an
    agent whose policy is another version records nothing (see veil.agent.recorder)."""
    ctx = ctx_of(request)

    def work() -> dict[str, Any]:
        _verify(ctx, request, b"")
        version, text = policy.current(ctx)
        return {"version": version, "text": text, "sha256": hashlib.sha256(text.encode()).hexdigest()}

    return JSONResponse(await run_in_threadpool(work), headers={"Cache-Control": "no-store"})


@router.put("/agent/segments/{recording_id}/{seq}")
async def put_segment(request: Request, recording_id: str, seq: int) -> JSONResponse:
    ctx = ctx_of(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > ctx.settings.max_segment_bytes:
        return JSONResponse({"error": "segment larger than the server accepts"}, status_code=413)
    chunks, size = [], 0
    async for chunk in request.stream():  # a body without Content-Length is counted as it comes
        size += len(chunk)
        if size > ctx.settings.max_segment_bytes:
            return JSONResponse({"error": "segment larger than the server accepts"}, status_code=413)
        chunks.append(chunk)
    body = b"".join(chunks)

    def work() -> JSONResponse:
        verified = _verify(ctx, request, body)
        got = receive_segment(ctx, verified.device, recording_id, seq, body)
        content = {"status": got.status, "sha256": got.sha256, "ledger_seq": got.ledger_seq}
        return JSONResponse(content, status_code=201 if got.status == "stored" else 200)

    return await run_in_threadpool(work)


def register_device(ctx: Context, owner: str, pem: str, by: str) -> str:
    """Record a device's public key for `owner`; returns the new device id (ledger entry too)."""
    public_key(pem)
    if ctx.directory.get(owner) is None:
        raise InputError("the device owner must be an existing user")
    device_id = secrets.token_hex(8)
    with ctx.session() as s:
        s.add(
            DeviceRow(
                device_id=device_id,
                owner=owner,
                public_key=pem.strip() + "\n",
                revoked=False,
                created_at=datetime.now(UTC),
            )
        )
    ctx.append(DeviceEvent(device_id, owner, "registered", by))
    return device_id


def revoke_device(ctx: Context, device_id: str, by: str) -> None:
    with ctx.session() as s:
        row = s.get(DeviceRow, device_id)
        if row is None:
            raise InputError("no such device")
        row.revoked = True
        owner = row.owner
    ctx.append(DeviceEvent(device_id, owner, "revoked", by))


@router.post("/devices/register")
async def post_register(request: Request) -> JSONResponse:
    """An admin session registers a device: JSON {"owner", "public_key"} and the X-CSRF-Token header."""
    ctx, sessions = ctx_of(request), sessions_of(request)
    admin = viewer(request, ctx, sessions, Permission.USERS_ADMIN)
    form = await checked_form(request, sessions)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            raise InputError("request body is not JSON") from None
        if not isinstance(data, dict):
            raise InputError("expected a JSON object")
        owner, pem = str(data.get("owner", "")), str(data.get("public_key", ""))
    else:
        owner, pem = str(form.get("owner", "")), str(form.get("public_key", ""))
    device_id = await run_in_threadpool(register_device, ctx, owner, pem, admin.name)
    return JSONResponse({"device_id": device_id}, status_code=201)


def device_count(ctx: Context) -> int:
    with ctx.session() as s:
        return int(s.scalar(select(func.count()).select_from(DeviceRow)) or 0)
