"""The web interface: login, cookies, CSRF, headers, roles re-checked on every request, pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import (
    PASSWORD,
    Device,
    complete_gate,
    csrf_of,
    login,
    segment_zip,
    settings_for,
    upload,
)
from veil.server import queries
from veil.server.app import create_app
from veil.server.context import Context

PAGES = (
    "/recordings",
    "/mining",
    "/egress",
    "/policy",
    "/gate",
    "/requests",
    "/alarms",
    "/break-glass",
    "/admin",
    "/me",
)
ALLOWED = {
    "emp.one": {"/me"},
    "ana.one": {"/recordings", "/mining", "/me"},
    "dpo.one": {"/egress", "/policy", "/gate", "/requests", "/alarms", "/break-glass", "/me"},
    "adm.one": {"/alarms", "/break-glass", "/admin", "/me"},
}


def test_login_cookie_is_httponly_and_strict(client: TestClient) -> None:
    token = csrf_of(client)
    answer = client.post("/login", data={"user": "ana.one", "password": PASSWORD, "csrf": token})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "veil_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http in this test; see the https test


def test_https_sets_secure_cookies_and_hsts(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, https=True))
    try:
        client = TestClient(app, base_url="https://testserver")
        page = client.get("/login")
        assert "Secure" in page.headers["set-cookie"]
        assert page.headers["strict-transport-security"].startswith("max-age=")
    finally:
        app.state.ctx.close()


def test_security_headers(client: TestClient) -> None:
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in page.headers
    assert "<script" not in page.text


def test_wrong_password_is_refused(client: TestClient) -> None:
    token = csrf_of(client)
    answer = client.post("/login", data={"user": "ana.one", "password": "wrong password", "csrf": token})
    assert answer.status_code == 401 and "veil_session" not in answer.headers.get("set-cookie", "")


def test_form_post_without_csrf_token_is_refused(client: TestClient, ctx: Context) -> None:
    login(client, "emp.one")
    assert client.post("/me/pause", data={}).status_code == 403
    assert client.post("/me/pause", data={"csrf": "0" * 64}).status_code == 403
    assert not ctx.paused("emp.one")
    assert client.post("/me/pause", data={"csrf": csrf_of(client, "/me")}).status_code == 303
    assert ctx.paused("emp.one")


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    answer = client.post("/login", data={"user": "ana.one", "password": PASSWORD})
    assert answer.status_code == 403


@pytest.mark.parametrize("user", sorted(ALLOWED))
def test_each_role_sees_only_its_pages(client: TestClient, user: str) -> None:
    login(client, user)
    nav = client.get("/me").text
    for page in PAGES:
        status = client.get(page).status_code
        allowed = page in ALLOWED[user]
        assert status == (200 if allowed else 403), (user, page, status)
        assert (f'href="{page}"' in nav) == allowed, (user, page)


def test_anonymous_is_sent_to_login_and_api_answers_401(client: TestClient) -> None:
    assert client.get("/recordings").headers["location"] == "/login"
    assert client.get("/api/v1/recordings").status_code == 401


def test_revocation_is_effective_on_the_next_request(client: TestClient, ctx: Context) -> None:
    login(client, "ana.one")
    assert client.get("/recordings").status_code == 200
    ctx.directory.revoke("ana.one", by="adm.one", reason="left the company")
    assert client.get("/recordings").status_code == 303  # back to the login page
    assert client.get("/api/v1/recordings").status_code == 401


def test_proxy_header_is_trusted_only_from_the_proxy(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, proxy_header="X-Remote-User", trusted_proxies=("10.0.0.0/8",))
    app = create_app(settings)
    try:
        app.state.ctx.directory.add_user("ana.one", "analyst", by="test")
        # TestClient's peer address is "testclient": not a trusted proxy.
        outsider = TestClient(app, follow_redirects=False)
        assert outsider.get("/api/v1/recordings", headers={"X-Remote-User": "ana.one"}).status_code == 401
        proxied = TestClient(app, follow_redirects=False, client=("10.1.2.3", 5000))
        assert proxied.get("/api/v1/recordings", headers={"X-Remote-User": "ana.one"}).status_code == 200
        assert proxied.get("/api/v1/recordings", headers={"X-Remote-User": "nobody"}).status_code == 401
        assert proxied.get("/api/v1/egress", headers={"X-Remote-User": "ana.one"}).status_code == 403
    finally:
        app.state.ctx.close()


def test_recordings_show_redaction_summaries_and_redacted_video(
    client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    assert upload(client, device, segment_zip()).status_code == 201
    login(client, "ana.one")
    page = client.get("/recordings").text
    assert "rec-1" in page and "phone 2" in page and "name 3" in page
    detail = client.get("/recordings/rec-1").text
    assert 'src="/recordings/rec-1/0/redacted.mp4"' in detail
    video = client.get("/recordings/rec-1/0/redacted.mp4")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content.endswith(b"redacted video")
    reads, _ = queries.ledger_entries(ctx, ("object-read",))
    assert [(e.event["who"], e.event["recording_id"]) for e in reads] == [("ana.one", "rec-1")]
    assert client.get("/recordings/rec-1/0/raw.mp4").status_code == 400
    data = client.get("/api/v1/recordings").json()
    assert data["total"] == 1 and data["recordings"][0]["counts"] == {"name": 3, "phone": 2}
    assert "owner" not in data["recordings"][0]


def test_employee_cannot_fetch_redacted_video(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    upload(client, device, segment_zip())
    login(client, "emp.one")
    assert client.get("/recordings/rec-1/0/redacted.mp4").status_code == 403


def test_egress_log_with_inclusion_proofs_and_verify(client: TestClient, ctx: Context) -> None:
    intent = ctx.ledger.begin_egress(
        destination="local-model", policy_version="1", payload_sha256="a" * 64, size=123, model="m"
    )
    ctx.ledger.complete_egress(intent)
    login(client, "dpo.one")
    page = client.get("/egress").text
    assert page.count("proof checked") == 2 and "local-model" in page
    entries = client.get("/api/v1/egress").json()["entries"]
    assert {e["kind"] for e in entries} == {"egress-intent", "egress-completed"}
    assert all(e["proof_ok"] and e["inclusion_proof"]["path"] is not None for e in entries)
    verified = client.post("/ledger/verify", data={"csrf": csrf_of(client, "/egress")})
    assert verified.status_code == 200 and 'id="verify-result" class="ok"' in verified.text
    api = client.post("/api/v1/ledger/verify", headers={"X-CSRF-Token": csrf_of(client, "/egress")})
    assert api.json()["ok"] is True


def test_verify_shows_a_tampered_ledger(client: TestClient, ctx: Context) -> None:
    from tests.audit.tamper import entry_body, run_sql

    ref = ctx.ledger.begin_egress(
        destination="local-model", policy_version="1", payload_sha256="a" * 64, size=123, model="m"
    )
    assert ref
    seq = ctx.ledger.size() - 1
    url = str(ctx.settings.ledger_url)
    body = entry_body(url, seq).replace(b"local-model", b"local-mode1")  # an attacker edits an entry
    run_sql(url, ("UPDATE veil_ledger_entries SET body = :b WHERE seq = :s", {"b": body, "s": seq}))
    login(client, "dpo.one")
    answer = client.post("/ledger/verify", data={"csrf": csrf_of(client, "/alarms")})
    assert 'id="verify-result" class="error"' in answer.text


def test_bad_policy_is_refused_with_its_message(client: TestClient, ctx: Context) -> None:
    login(client, "dpo.one")
    token = csrf_of(client, "/policy")
    bad = client.post("/policy", data={"csrf": token, "policy": "version: '2'\nredcat: {}\n"})
    assert bad.status_code == 400 and "unknown key" in bad.text and "redact" in bad.text
    size = ctx.ledger.size()
    good = client.post("/policy", data={"csrf": token, "policy": "version: '2'\n"})
    assert good.status_code == 200 and 'id="policy-saved"' in good.text
    assert ctx.ledger.size() == size + 1
    same = client.post("/policy", data={"csrf": token, "policy": "version: '2'\nvideo: {}\n"})
    assert same.status_code == 400 and "already used" in same.text


def test_gate_purpose_must_be_confirmed(client: TestClient, ctx: Context) -> None:
    login(client, "dpo.one")
    token = csrf_of(client, "/gate")
    refused = client.post("/gate/purpose", data={"csrf": token, "text": "Find automatable tasks."})
    assert refused.status_code == 400 and ctx.gate_missing() == [
        "notice",
        "consultation",
        "purpose",
        "impact_assessment",
    ]
    for step in ("notice", "consultation", "impact_assessment"):
        assert client.post(f"/gate/{step}", data={"csrf": token, "text": f"{step} doc"}).status_code == 303
    ok = client.post("/gate/purpose", data={"csrf": token, "text": "Find tasks.", "purpose_only": "yes"})
    assert ok.status_code == 303 and ctx.gate_missing() == []
    assert client.get("/api/v1/gate").json()["complete"] is True


def test_no_page_shows_productivity_or_idle_figures(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    upload(client, device, segment_zip())
    forbidden = re.compile(
        r"productiv|idle|active time|keystroke|per employee|utili[sz]ation|효율|생산성|生産性", re.I
    )
    for user, pages in ALLOWED.items():
        login(client, user)
        for page in (*pages, "/api/v1/me", "/api/v1/recordings", "/api/v1/egress"):
            answer = client.get(page)
            assert not forbidden.search(answer.text), (user, page)
        client.cookies.clear()
