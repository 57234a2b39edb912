"""Logging in: failed logins throttled per account and per address (429 with Retry-After, a log
line without the password), server-side sessions that logout ends at once, lifetime from the policy."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.server.conftest import PASSWORD, csrf_of, login
from veil.server import policy
from veil.server.context import Context


def _try(client: TestClient, user: str, password: str) -> int:
    token = csrf_of(client)
    return client.post("/login", data={"user": user, "password": password, "csrf": token}).status_code


def test_five_failures_then_429_even_with_the_right_password(
    client: TestClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong password 9z"
    with caplog.at_level(logging.WARNING):
        assert [_try(client, "ana.one", wrong) for _ in range(5)] == [401] * 5
    token = csrf_of(client)
    answer = client.post("/login", data={"user": "ana.one", "password": PASSWORD, "csrf": token})
    assert answer.status_code == 429
    assert 800 <= int(answer.headers["Retry-After"]) <= 900
    assert 'id="throttled"' in answer.text and "veil_session" not in answer.headers.get("set-cookie", "")
    assert "login throttled" in caplog.text and "ana.one" in caplog.text
    assert wrong not in caplog.text
    assert _try(client, "dpo.one", PASSWORD) == 429  # this address is out of tries too
    elsewhere = TestClient(app, follow_redirects=False, client=("192.0.2.7", 40000))
    assert _try(elsewhere, "ana.one", PASSWORD) == 429  # the account is, from any address
    assert _try(elsewhere, "dpo.one", PASSWORD) == 303  # another account from another address


def test_one_address_guessing_many_accounts_is_throttled(client: TestClient) -> None:
    names = [f"guess.{i}" for i in range(5)]
    assert [_try(client, name, "nope nope 1") for name in names] == [401] * 5
    assert _try(client, "ana.one", PASSWORD) == 429  # the address is out of tries


def test_a_typed_name_is_stored_and_logged_only_as_a_hash(
    client: TestClient, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    secretish = "hunter2-typed-in-the-user-field"
    with caplog.at_level(logging.DEBUG):
        for _ in range(5):
            _try(client, secretish, "x" * 10)
    assert secretish not in caplog.text and "unknown-account" in caplog.text
    from veil.server.db import LoginFailureRow

    with ctx.session() as s:
        keys = {r.key for r in s.query(LoginFailureRow)}
    assert keys and all(secretish not in k and len(k) == 64 for k in keys)


def test_logout_ends_the_session_for_a_copied_cookie(client: TestClient, app: FastAPI) -> None:
    login(client, "ana.one")
    cookie = client.cookies.get("veil_session")
    assert cookie and client.get("/recordings").status_code == 200
    thief = TestClient(app, follow_redirects=False)
    thief.cookies.set("veil_session", cookie)
    assert thief.get("/api/v1/recordings").status_code == 200
    client.post("/logout", data={"csrf": csrf_of(client, "/recordings")})
    assert thief.get("/api/v1/recordings").status_code == 401
    assert client.get("/recordings").status_code == 303  # back to the login


def test_revoking_a_user_ends_their_session_on_the_next_request(client: TestClient, ctx: Context) -> None:
    login(client, "ana.one")
    assert client.get("/api/v1/recordings").status_code == 200
    ctx.directory.revoke("ana.one", by="adm.one", reason="left")
    assert client.get("/api/v1/recordings").status_code == 401


def test_session_lifetime_comes_from_the_policy(client: TestClient, ctx: Context) -> None:
    policy.change(ctx, 'version: "2"\naccess:\n  login:\n    session_hours: 0.0003\n', "dpo.one")
    token = csrf_of(client)
    answer = client.post("/login", data={"user": "ana.one", "password": PASSWORD, "csrf": token})
    assert "Max-Age=1;" in answer.headers["set-cookie"]
    assert client.get("/api/v1/recordings").status_code == 200
    time.sleep(1.3)
    assert client.get("/api/v1/recordings").status_code == 401


def test_behind_a_trusted_proxy_each_forwarded_address_counts_apart(tmp_path: Path) -> None:
    from tests.server.conftest import settings_for
    from veil.access.roles import Role
    from veil.server.app import create_app

    app = create_app(settings_for(tmp_path, proxy_header="X-Remote-User", trusted_proxies=("10.0.0.5",)))
    try:
        for name in ("ana.one", "dpo.one"):
            app.state.ctx.directory.add_user(name, Role.ANALYST, password=PASSWORD, by="test")
        proxy = TestClient(app, follow_redirects=False, client=("10.0.0.5", 443))
        proxy.headers["X-Forwarded-For"] = "198.51.100.1, 192.0.2.1"
        assert [_try(proxy, f"guess.{i}", "nope nope 1") for i in range(5)] == [401] * 5
        assert _try(proxy, "ana.one", PASSWORD) == 429  # 192.0.2.1 is out of tries
        proxy.headers["X-Forwarded-For"] = "192.0.2.2"
        assert _try(proxy, "dpo.one", PASSWORD) == 303  # another browser behind the same proxy
        spoof = TestClient(app, follow_redirects=False, client=("203.0.113.9", 5000))
        spoof.headers["X-Forwarded-For"] = "192.0.2.3"  # not from the proxy: ignored
        assert [_try(spoof, f"guess.{i}", "nope nope 1") for i in range(5)] == [401] * 5
        spoof.headers["X-Forwarded-For"] = "192.0.2.4"
        assert _try(spoof, "ana.one", PASSWORD) == 429  # still counted against 203.0.113.9
    finally:
        app.state.ctx.close()
