"""The server on PostgreSQL (catalog and ledger), as in production: uploads, refusals, pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.audit.conftest import pg_database, pg_server  # noqa: F401 (fixtures)
from tests.server.conftest import PASSWORD, USERS, Device, complete_gate, csrf_of, login, segment_zip, upload
from veil.server.app import create_app
from veil.server.context import Context
from veil.server.settings import Settings

pytestmark = pytest.mark.postgres


def test_server_on_postgresql(pg_database: str, tmp_path: Path) -> None:  # noqa: F811
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from veil.server.agent_api import register_device

    settings = Settings(
        catalog_url=pg_database,
        ledger_url=pg_database,
        ledger_key_dir=tmp_path / "keys",
        data_dir=tmp_path / "server",
    )
    app = create_app(settings)
    ctx: Context = app.state.ctx
    try:
        for name, role in USERS.items():
            ctx.directory.add_user(name, role, password=PASSWORD, by="test")
        complete_gate(ctx)
        key = Ed25519PrivateKey.generate()
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        device = Device(key, register_device(ctx, "emp.one", pem, "test"))
        client = TestClient(app, follow_redirects=False)
        body = segment_zip()
        path = "/api/v1/agent/segments/rec-1/0"
        headers = device.headers("PUT", path, body)
        assert client.put(path, content=body, headers=headers).status_code == 201
        assert client.put(path, content=body, headers=headers).status_code == 401  # replay
        assert upload(client, device, body).status_code == 200  # retry: duplicate
        assert upload(client, device, segment_zip(video=b"other")).status_code == 409
        login(client, "ana.one")
        assert "phone 2" in client.get("/recordings").text
        assert client.get("/recordings/rec-1/0/redacted.mp4").content.endswith(b"redacted video")
        client.cookies.clear()
        login(client, "emp.one")
        client.post("/me/pause", data={"csrf": csrf_of(client, "/me")})
        assert ctx.paused("emp.one")
        client.cookies.clear()
        login(client, "dpo.one")
        verified = client.post("/api/v1/ledger/verify", headers={"X-CSRF-Token": csrf_of(client, "/egress")})
        assert verified.json()["ok"] is True
    finally:
        ctx.close()
