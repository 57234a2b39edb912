"""Fixtures for the server tests: an app on throwaway SQLite files, users per role, a signed device."""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from fastapi.testclient import TestClient

from veil.access.roles import Role
from veil.server.agent_api import register_device
from veil.server.app import create_app
from veil.server.context import GATE_STEPS, Context
from veil.server.gate import record_step
from veil.server.settings import Settings
from veil.uplink import sign_request

PASSWORD = "a long test password 1"
USERS = {
    "emp.one": Role.EMPLOYEE,
    "emp.two": Role.EMPLOYEE,
    "ana.one": Role.ANALYST,
    "dpo.one": Role.PRIVACY_OFFICER,
    "adm.one": Role.ADMIN,
}
TEXT_LAYER = (
    b'{"veil_text_layer": 1, "started": "2026-11-23T09:00:00Z", "size": [1280, 720]}\n'
    b'{"frame": 0, "t": 0.0, "window": {"app": "Chrome", "title": "Orders"}, "lines": '
    b'[{"box": [10, 10, 300, 20], "text": "Customer: <name>"}], "changed": []}\n'
)


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its smallest cost: five users per test at the default cost take seconds here."""
    from argon2 import PasswordHasher

    from veil.access import directory

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(directory, "_hasher", lambda: cheap)


def settings_for(tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        catalog_url=f"sqlite:///{tmp_path / 'catalog.sqlite3'}",
        ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        ledger_key_dir=tmp_path / "ledger-keys",
        data_dir=tmp_path / "server",
        **more,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    ctx: Context = application.state.ctx
    for name, role in USERS.items():
        ctx.directory.add_user(name, role, password=PASSWORD, by="test")
    yield application
    ctx.close()


@pytest.fixture
def ctx(app: FastAPI) -> Context:
    context: Context = app.state.ctx
    return context


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True)
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> None:
    token = csrf_of(client)
    answer = client.post("/login", data={"user": name, "password": password, "csrf": token})
    assert answer.status_code == 303, answer.text


def complete_gate(ctx: Context) -> None:
    for step in GATE_STEPS:
        record_step(ctx, step, f"{step} text (test)", "dpo.one", purpose_only=True)


@contextmanager
def gated_server(folder: Path, **more: Any) -> Iterator[tuple[Context, TestClient]]:
    """A server on `folder` with the test users, its deployment gate complete: (context, client)."""
    application = create_app(settings_for(folder, **more))
    context: Context = application.state.ctx
    try:
        for name, role in USERS.items():
            context.directory.add_user(name, role, password=PASSWORD, by="test")
        complete_gate(context)
        yield context, TestClient(application, follow_redirects=False)
    finally:
        context.close()


@dataclass
class Device:
    key: Ed25519PrivateKey
    device_id: str

    def headers(self, method: str, path: str, body: bytes = b"", now: float | None = None) -> dict[str, str]:
        return sign_request(self.key, self.device_id, method, path, body, now=now)


def make_device(ctx: Context, owner: str = "emp.one") -> Device:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return Device(key, register_device(ctx, owner, pem, "test"))


@pytest.fixture
def device(ctx: Context) -> Device:
    return make_device(ctx)


def segment_zip(
    recording_id: str = "rec-1",
    seq: int = 0,
    *,
    video: bytes = b"\x00\x00\x00\x18ftypmp42 redacted video",
    text_layer: bytes = TEXT_LAYER,
    manifest: dict[str, Any] | None = None,
    extra: dict[str, bytes] | None = None,
    hashes: dict[str, str] | None = None,
) -> bytes:
    members = {"redacted.mp4": video, "textlayer.jsonl": text_layer, **(extra or {})}
    data: dict[str, Any] = {
        "recording_id": recording_id,
        "seq": seq,
        "started_at": f"2026-11-23T09:{seq:02d}:00+00:00",
        "ended_at": f"2026-11-23T09:{seq:02d}:30+00:00",
        "frames": 150,
        "policy_version": "1",
        "counts": {"phone": 2, "name": 3},
        "frames_masked_whole": 1,
        "verifier": "cleared",
        "sha256": hashes
        if hashes is not None
        else {k: hashlib.sha256(v).hexdigest() for k, v in members.items()},
    }
    data.update(manifest or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", json.dumps(data))
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(client: TestClient, device: Device, body: bytes, recording_id: str = "rec-1", seq: int = 0) -> Any:
    path = f"/api/v1/agent/segments/{recording_id}/{seq}"
    return client.put(path, content=body, headers=device.headers("PUT", path, body))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def agent_state(client: TestClient, device: Device) -> dict[str, Any]:
    path = "/api/v1/agent/state"
    answer = client.get(path, headers=device.headers("GET", path))
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state
