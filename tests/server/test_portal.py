"""The employee portal: my recordings only, what was removed and what left, pause, requests, languages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.conftest import Device, agent_state, complete_gate, csrf_of, login, segment_zip, upload
from veil.server.context import Context
from veil.server.db import EgressLinkRow


def test_pause_from_the_portal_stops_the_agent(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    assert agent_state(client, device)["recording"] is True
    login(client, "emp.one")
    size = ctx.ledger.size()
    assert client.post("/me/pause", data={"csrf": csrf_of(client, "/me")}).status_code == 303
    assert agent_state(client, device) | {"policy_version": ""} == {
        "recording": False,
        "reason": "paused-by-employee",
        "policy_version": "",
        "fps_cap": 5.0,
        "daily_cap_minutes": 480,
    }
    assert ctx.ledger.size() == size + 1
    assert 'id="resume"' in client.get("/me").text
    client.post("/me/resume", data={"csrf": csrf_of(client, "/me")})
    assert agent_state(client, device)["recording"] is True


def test_another_employee_cannot_pause_my_recording(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    login(client, "emp.two")
    client.post("/me/pause", data={"csrf": csrf_of(client, "/me")})
    assert agent_state(client, device)["recording"] is True  # the device belongs to emp.one


def test_portal_shows_my_recordings_only_with_removed_counts_and_what_left(
    client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    upload(client, device, segment_zip())
    intent = ctx.ledger.begin_egress(
        destination="local-model", policy_version="1", payload_sha256="b" * 64, size=10, model="m"
    )
    with ctx.session() as s:
        s.add(EgressLinkRow(intent_id=intent, recording_id="rec-1"))
    login(client, "emp.one")
    mine = client.get("/api/v1/me").json()
    assert mine["recordings_total"] == 1 and mine["removed_by_type"] == {"name": 3, "phone": 2}
    assert [e["event"]["destination"] for e in mine["egress"]] == ["local-model"]
    assert mine["recordings"][0]["expires_at"] > mine["recordings"][0]["ended_at"]
    page = client.get("/me").text
    assert "local-model" in page and "phone 2" in page
    client.cookies.clear()
    login(client, "emp.two")
    theirs = client.get("/api/v1/me").json()
    assert theirs["recordings_total"] == 0 and theirs["egress"] == [] and theirs["removed_by_type"] == {}


def test_requests_are_logged_with_a_deadline(client: TestClient, ctx: Context) -> None:
    login(client, "emp.one")
    size = ctx.ledger.size()
    for kind in ("object", "export", "delete"):
        assert (
            client.post("/me/request", data={"csrf": csrf_of(client, "/me"), "kind": kind}).status_code == 303
        )
    assert ctx.ledger.size() == size + 3
    requests = client.get("/api/v1/me").json()["requests"]
    assert sorted(r["kind"] for r in requests) == ["delete", "export", "object"]
    for r in requests:
        assert r["deadline"][:10] > r["created_at"][:10]
    assert "answer by" in client.get("/me").text
    bad = client.post("/me/request", data={"csrf": csrf_of(client, "/me"), "kind": "promote-me"})
    assert bad.status_code == 400


def test_portal_speaks_the_users_language(client: TestClient, ctx: Context) -> None:
    login(client, "emp.one")
    assert "Pause my recording" in client.get("/me").text
    assert "내 녹화 멈추기" in client.get("/me", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).text
    assert "録画を一時停止" in client.get("/me", headers={"Accept-Language": "ja"}).text
    assert "Mettre en pause" in client.get("/me", headers={"Accept-Language": "de;q=1, fr;q=0.8"}).text
    ctx.directory.set_language("emp.one", "ja")  # the user's own setting wins over the browser
    assert "録画を一時停止" in client.get("/me", headers={"Accept-Language": "fr"}).text


def test_every_catalog_has_every_key() -> None:
    from veil.server.i18n import LANGUAGES, catalog

    keys = set(catalog("en"))
    for language in LANGUAGES:
        assert set(catalog(language)) == keys, language


def test_deletion_request_carried_out_shreds_the_recordings(
    client: TestClient, ctx: Context, device: Device
) -> None:
    import re

    from veil.server import queries

    complete_gate(ctx)
    upload(client, device, segment_zip())
    login(client, "emp.one")
    client.post("/me/request", data={"csrf": csrf_of(client, "/me"), "kind": "delete"})
    client.post("/me/request", data={"csrf": csrf_of(client, "/me"), "kind": "export"})
    client.cookies.clear()
    login(client, "dpo.one")
    page = client.get("/requests").text
    found = re.findall(r'action="/requests/(\d+)/done"', page)
    assert len(found) == 2
    export = client.get(f"/requests/{max(int(n) for n in found)}/export").json()
    assert export["recordings_total"] == 1 and export["removed_by_type"] == {"name": 3, "phone": 2}
    token = csrf_of(client, "/requests")
    delete_id = min(int(n) for n in found)  # the deletion was asked first
    assert client.post(f"/requests/{delete_id}/done", data={"csrf": token}).status_code == 303
    deletions, _ = queries.ledger_entries(ctx, ("deletion",))
    assert [e.event["recording_id"] for e in deletions] == ["rec-1"]
    assert client.get(f"/requests/{delete_id}/export").status_code == 400  # not an export request
    client.cookies.clear()
    login(client, "emp.one")
    mine = client.get("/api/v1/me").json()
    assert mine["recordings_total"] == 0
    assert [r["status"] for r in mine["requests"]] == ["open", "done"]
