"""The server sends a stored recording through the egress gateway, and the owner's portal shows
what left to whom, linked by intent id and, for every attempt, by the payload's hash."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import delete

from tests.server.conftest import Device, complete_gate, csrf_of, login, segment_zip, upload
from veil.server import policy
from veil.server.context import Context
from veil.server.db import EgressLinkRow

POLICY = """version: "2"
egress:
  destinations:
    - name: vendor-a
      provider: fake
      base_url: https://vendor-a.example
      model: describe-1
      legal_basis: contract
      country: DE
      recipient: Vendor A
      data_categories: [screen-text]
      retention_days: 0
      no_training: true
      frames_per_hour: 100
      bytes_per_day: 10000000
"""


def _analyze(client: TestClient, recording: str, destination: str) -> dict[str, object]:
    token = csrf_of(client, "/recordings")
    answer = client.post(
        f"/api/v1/recordings/{recording}/analyze",
        data={"destination": destination},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_the_portal_shows_what_left_from_my_recording(
    client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    policy.change(ctx, POLICY, "dpo.one")
    upload(client, device, segment_zip("rec-1"))
    login(client, "ana.one")
    sent = _analyze(client, "rec-1", "vendor-a")
    assert sent["intent_id"] and sent["destination"] == "vendor-a"
    intents = [e.event for e in ctx.ledger.entries(["egress-intent"])]
    assert [i["payload_sha256"] for i in intents] == [sent["payload_sha256"]]
    client.cookies.clear()
    login(client, "emp.one")
    mine = client.get("/api/v1/me").json()
    assert {(e["kind"], e["event"]["destination"]) for e in mine["egress"]} == {
        ("egress-intent", "vendor-a"),
        ("egress-completed", "vendor-a"),
    }
    assert "vendor-a" in client.get("/me").text
    client.cookies.clear()
    login(client, "emp.two")
    assert client.get("/api/v1/me").json()["egress"] == []


def test_an_intent_the_server_never_learnt_is_linked_by_its_payload_hash(
    client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    policy.change(ctx, POLICY, "dpo.one")
    upload(client, device, segment_zip("rec-1"))
    login(client, "ana.one")
    _analyze(client, "rec-1", "vendor-a")
    with ctx.session() as s:  # as if the server died after the send, before linking the intent id
        s.execute(delete(EgressLinkRow))
    client.cookies.clear()
    login(client, "emp.one")
    assert [e["event"]["destination"] for e in client.get("/api/v1/me").json()["egress"]] == ["vendor-a"] * 2


def test_an_employee_cannot_send_recordings_out(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    policy.change(ctx, POLICY, "dpo.one")
    upload(client, device, segment_zip("rec-1"))
    login(client, "emp.one")
    token = csrf_of(client, "/me")
    answer = client.post(
        "/api/v1/recordings/rec-1/analyze", data={"destination": "vendor-a"}, headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 403
    assert list(ctx.ledger.entries(["egress-intent"])) == []
