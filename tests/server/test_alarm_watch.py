"""The server evaluates the access alarms on its own (nobody opens the alarms page), reads carry
their recording's owner, and task mining reads as the service account on behalf of its starter:
exempt from the bulk-read rules, while a person's own bulk reads are not."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.server.conftest import Device, complete_gate, csrf_of, login, segment_zip, upload
from veil.access.roles import MINING_SERVICE
from veil.mining.synth_recording import generate_recording
from veil.server import alarms, policy
from veil.server.context import Context

POLICY = """version: "2"
access:
  alarms:
    evaluate_seconds: 1
    max_recordings: 2
    max_owners: 5
"""


def _recordings(client: TestClient, device: Device, n: int, layer: bytes | None = None) -> list[str]:
    names = [f"rec-{i}" for i in range(n)]
    for name in names:
        body = segment_zip(name) if layer is None else segment_zip(name, text_layer=layer)
        assert upload(client, device, body, recording_id=name).status_code == 201
    return names


def _alarm_entries(ctx: Context) -> list[dict[str, Any]]:
    return [e.event for e in ctx.ledger.entries(["alarm"])]


def test_a_bulk_read_raises_the_alarm_without_anyone_opening_the_page(
    app: FastAPI, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    policy.change(ctx, POLICY, "dpo.one")
    with TestClient(app, follow_redirects=False) as client:  # runs the lifespan: the watcher starts
        names = _recordings(client, device, 4)
        login(client, "ana.one")
        for name in names:
            assert client.get(f"/recordings/{name}/0/textlayer.jsonl").status_code == 200
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(
            a["rule"] == "bulk-recordings" for a in _alarm_entries(ctx)
        ):
            time.sleep(0.2)
    bulk = [a for a in _alarm_entries(ctx) if a["rule"] == "bulk-recordings"]
    assert [a["account"] for a in bulk] == ["ana.one"]
    reads = list(ctx.ledger.entries(["object-read"]))
    assert {(e.event["who"], e.event["owner"]) for e in reads} == {("ana.one", "emp.one")}


def test_no_watcher_no_alarm_until_evaluated(client: TestClient, ctx: Context, device: Device) -> None:
    # The same reads without the lifespan (no watcher): nothing until an evaluation, which proves
    # the previous test's alarm came from the watcher.
    complete_gate(ctx)
    policy.change(ctx, POLICY, "dpo.one")
    names = _recordings(client, device, 4)
    login(client, "ana.one")
    for name in names:
        client.get(f"/recordings/{name}/0/textlayer.jsonl")
    time.sleep(1.5)
    assert _alarm_entries(ctx) == []
    alarms.evaluate(ctx)
    assert any(a["rule"] == "bulk-recordings" for a in _alarm_entries(ctx))


def test_mining_reads_as_the_service_account_and_raises_no_bulk_alarm(
    tmp_path: Path, client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    policy.change(ctx, POLICY, "dpo.one")
    layer = tmp_path / "rec.textlayer.jsonl"
    generate_recording(layer, repeats=3, seed=5)
    names = _recordings(client, device, 4, layer.read_bytes())
    login(client, "ana.one")
    client.post("/mining/run", data={"csrf": csrf_of(client, "/mining")})
    assert client.get("/api/v1/mining").json()["status"] == "done"
    reads = [e.event for e in ctx.ledger.entries(["object-read"])]
    assert len(reads) == len(names)
    assert {(r["who"], r["on_behalf_of"], r["owner"]) for r in reads} == {
        (MINING_SERVICE, "ana.one", "emp.one")
    }
    alarms.evaluate(ctx)
    assert not [a for a in _alarm_entries(ctx) if a["rule"] in ("bulk-recordings", "bulk-owners")]
    for name in names:  # the same person reading the same recordings herself: alarmed
        client.get(f"/recordings/{name}/0/textlayer.jsonl")
    alarms.evaluate(ctx)
    bulk = [a for a in _alarm_entries(ctx) if a["rule"] == "bulk-recordings"]
    assert [a["account"] for a in bulk] == ["ana.one"]


def test_the_service_account_cannot_log_in_nor_be_claimed_by_a_person(
    client: TestClient, ctx: Context, device: Device
) -> None:
    from veil.access.roles import Role
    from veil.server.mining_jobs import ensure_service_account

    ensure_service_account(ctx.directory)
    user = ctx.directory.get(MINING_SERVICE)
    assert user is not None and user.role is Role.SERVICE
    token = csrf_of(client)
    answer = client.post(
        "/login", data={"user": MINING_SERVICE, "password": "anything at all", "csrf": token}
    )
    assert answer.status_code == 401
    ctx.directory.revoke(MINING_SERVICE, by="adm.one", reason="test")
    complete_gate(ctx)
    _recordings(client, device, 1)
    login(client, "ana.one")
    client.post("/mining/run", data={"csrf": csrf_of(client, "/mining")})
    run = client.get("/api/v1/mining").json()
    assert run["status"] == "failed"  # a revoked service account reads nothing
