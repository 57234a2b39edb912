"""The agent uplink on the server: signed uploads stored once, every attack refused (and logged)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.server.conftest import (
    TEXT_LAYER,
    Device,
    agent_state,
    complete_gate,
    segment_zip,
    settings_for,
    upload,
)
from veil.audit._tables import EntryRow
from veil.server.app import create_app
from veil.server.context import Context
from veil.server.db import RecordingRow, SegmentRow
from veil.server.portal import set_paused


def _segments(ctx: Context) -> int:
    with ctx.session() as s:
        return int(s.scalar(select(func.count()).select_from(SegmentRow)) or 0)


def _kinds_since(ctx: Context, seq: int) -> list[str]:
    with ctx.ledger_engine.connect() as conn:
        rows = conn.execute(select(EntryRow.kind).where(EntryRow.seq >= seq).order_by(EntryRow.seq))
        return [kind for (kind,) in rows]


def test_upload_is_stored_once_with_a_ledger_entry(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    before = ctx.ledger.size()
    body = segment_zip()
    first = upload(client, device, body)
    assert first.status_code == 201, first.text
    # The store logs the encrypted object, the server the segment (hash, counts, owner).
    assert _kinds_since(ctx, before) == ["object-stored", "segment-received"]
    assert first.json()["ledger_seq"] == before + 1
    again = upload(client, device, body)  # a retry after a crash: new nonce, same body
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert ctx.ledger.size() == before + 2
    assert _segments(ctx) == 1
    with ctx.session() as s:
        rec = s.get(RecordingRow, "rec-1")
        assert rec is not None and rec.owner == "emp.one" and rec.frames_masked_whole == 1


def test_segments_add_up_in_the_recording(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    for seq in range(3):
        assert upload(client, device, segment_zip(seq=seq), seq=seq).status_code == 201
    with ctx.session() as s:
        rec = s.get(RecordingRow, "rec-1")
        assert rec is not None
        assert (rec.segments, rec.frames, rec.counts) == (3, 450, '{"name": 9, "phone": 6}')


def test_altered_reupload_is_refused_409(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    assert upload(client, device, segment_zip()).status_code == 201
    altered = upload(client, device, segment_zip(video=b"another video"))
    assert altered.status_code == 409
    assert _segments(ctx) == 1


def test_replayed_request_is_refused_401(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    body = segment_zip()
    path = "/api/v1/agent/segments/rec-1/0"
    headers = device.headers("PUT", path, body)
    assert client.put(path, content=body, headers=headers).status_code == 201
    replay = client.put(path, content=body, headers=headers)
    assert replay.status_code == 401 and "replayed" in replay.json()["error"]


def test_replay_is_refused_after_a_restart(
    tmp_path: Path, client: TestClient, ctx: Context, device: Device
) -> None:
    path = "/api/v1/agent/state"
    headers = device.headers("GET", path)
    assert client.get(path, headers=headers).status_code == 200
    other = create_app(settings_for(tmp_path))  # another worker, or the server restarted
    try:
        replay = TestClient(other).get(path, headers=headers)
    finally:
        other.state.ctx.close()
    assert replay.status_code == 401


def test_body_changed_after_signing_is_refused_401(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    path = "/api/v1/agent/segments/rec-1/0"
    headers = device.headers("PUT", path, segment_zip())
    answer = client.put(path, content=segment_zip(video=b"swapped"), headers=headers)
    assert answer.status_code == 401 and "signature" in answer.json()["error"]


def test_path_changed_after_signing_is_refused_401(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    body = segment_zip(seq=1)
    headers = device.headers("PUT", "/api/v1/agent/segments/rec-1/0", body)
    assert client.put("/api/v1/agent/segments/rec-1/1", content=body, headers=headers).status_code == 401


def test_unsigned_unknown_and_stale_requests_are_refused_401(
    client: TestClient, ctx: Context, device: Device
) -> None:
    path = "/api/v1/agent/state"
    assert client.get(path).status_code == 401
    stranger = Device(device.key, "0000000000000000")
    assert client.get(path, headers=stranger.headers("GET", path)).status_code == 401
    stale = device.headers("GET", path, now=time.time() - 3600)
    assert client.get(path, headers=stale).status_code == 401


def test_revoked_device_cannot_upload_and_is_told_to_stop(
    client: TestClient, ctx: Context, device: Device
) -> None:
    from veil.server.agent_api import revoke_device

    complete_gate(ctx)
    revoke_device(ctx, device.device_id, "adm.one")
    assert upload(client, device, segment_zip()).status_code == 401
    state = agent_state(client, device)
    assert state["recording"] is False and state["reason"] == "device-revoked"


def test_not_cleared_segment_is_refused_422(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    answer = upload(client, device, segment_zip(manifest={"verifier": "findings"}))
    assert answer.status_code == 422 and "verifier" in answer.json()["error"]
    assert _segments(ctx) == 0


def test_malformed_segments_are_refused_422(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    video = b"\x00\x00\x00\x18ftypmp42 redacted video"
    hashes = {
        "redacted.mp4": hashlib.sha256(video).hexdigest(),
        "textlayer.jsonl": hashlib.sha256(TEXT_LAYER).hexdigest(),
    }
    cases = {
        "not a zip": b"PK\x03\x04 this is not a zip",
        "member hash differs": segment_zip(hashes={"redacted.mp4": "0" * 64, "textlayer.jsonl": "0" * 64}),
        # A member the manifest does not hash (a raw frame slipped in) must be refused.
        "member not in manifest": segment_zip(extra={"raw.png": b"raw pixels"}, hashes=hashes),
        "manifest names another seq": segment_zip(manifest={"seq": 7}),
        "naive timestamps": segment_zip(manifest={"started_at": "2026-11-23T09:00:00"}),
        "negative counts": segment_zip(manifest={"counts": {"phone": -1}}),
        "no members hashed": segment_zip(hashes={}),
        "manifest not JSON": segment_zip(manifest={"frames": "many"}),
    }
    for what, body in cases.items():
        answer = upload(client, device, body)
        assert answer.status_code == 422, what
    assert _segments(ctx) == 0


def test_gate_incomplete_stops_agents_and_refuses_uploads(
    client: TestClient, ctx: Context, device: Device
) -> None:
    state = agent_state(client, device)
    assert state["recording"] is False and state["reason"] == "gate-incomplete"
    assert upload(client, device, segment_zip()).status_code == 403
    complete_gate(ctx)
    assert agent_state(client, device) == {
        "recording": True,
        "reason": "ok",
        "policy_version": "1",
        "fps_cap": 5.0,
        "daily_cap_minutes": 480,
    }
    assert upload(client, device, segment_zip()).status_code == 201


def test_paused_by_employee(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    set_paused(ctx, "emp.one", True)
    state = agent_state(client, device)
    assert state["recording"] is False and state["reason"] == "paused-by-employee"
    set_paused(ctx, "emp.one", False)
    assert agent_state(client, device)["recording"] is True


def test_revoked_owner_stops_the_agent_and_uploads(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    ctx.directory.revoke("emp.one", by="adm.one", reason="left the company")
    assert agent_state(client, device)["reason"] == "device-revoked"
    assert upload(client, device, segment_zip()).status_code == 403
    assert _segments(ctx) == 0


def test_daily_cap_stops_the_agent(tmp_path: Path) -> None:
    from tests.server.conftest import PASSWORD, USERS
    from veil.server.agent_api import agent_state as state_of

    app = create_app(settings_for(tmp_path, daily_cap_minutes=1))
    ctx: Context = app.state.ctx
    try:
        client = TestClient(app)
        for name, role in USERS.items():
            ctx.directory.add_user(name, role, password=PASSWORD, by="test")
        complete_gate(ctx)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        from veil.server.agent_api import register_device

        key = Ed25519PrivateKey.generate()
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        dev = Device(key, register_device(ctx, "emp.one", pem, "test"))
        assert upload(client, dev, segment_zip(seq=0), seq=0).status_code == 201
        assert state_of(ctx, dev.device_id)["recording"] is True  # 30 s of the 1 minute
        assert upload(client, dev, segment_zip(seq=1), seq=1).status_code == 201
        assert state_of(ctx, dev.device_id)["reason"] == "cap-reached"
    finally:
        ctx.close()


def test_segments_are_encrypted_at_rest(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    assert upload(client, device, segment_zip()).status_code == 201
    files = [p for p in (ctx.settings.data() / "objects").rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert b"redacted video" not in data and b"manifest.json" not in data and b"<name>" not in data


def test_oversized_upload_is_refused_413(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, max_segment_bytes=1000))
    try:
        client = TestClient(app)
        path = "/api/v1/agent/segments/rec-1/0"
        assert client.put(path, content=b"x" * 2000).status_code == 413

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted while it streams
            for _ in range(4):
                yield b"y" * 400

        assert client.put(path, content=chunked()).status_code == 413
    finally:
        app.state.ctx.close()


def test_an_agent_fetches_the_policy_in_force_signed_and_learns_a_new_one(
    client: TestClient, ctx: Context, device: Device
) -> None:
    from veil.options import policy_from_text
    from veil.server import policy

    path = "/api/v1/agent/policy"
    assert client.get(path).status_code == 401  # unsigned
    first = client.get(path, headers=device.headers("GET", path)).json()
    assert first["version"] == agent_state(client, device)["policy_version"]
    assert hashlib.sha256(first["text"].encode()).hexdigest() == first["sha256"]
    assert policy_from_text(first["text"]).version == first["version"]
    policy.change(ctx, 'version: "2026-12-a"\nagent: {fps_cap: 3}\n', "dpo.one")
    second = client.get(path, headers=device.headers("GET", path)).json()
    assert second["version"] == "2026-12-a" == agent_state(client, device)["policy_version"]
    assert policy_from_text(second["text"]).agent.fps_cap == 3
