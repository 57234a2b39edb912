"""The web interface in a real browser (Debian's chromium through Playwright; no download).

One uvicorn server on a free loopback port and one browser for the module: each role logs in and
sees only its pages; the employee pauses recording and the agent's state switches; the privacy
officer verifies the ledger from the page; every main page is screenshotted and checked non-blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from PIL import Image, ImageStat
from playwright.sync_api import Browser, Page, sync_playwright

from tests.server.conftest import PASSWORD, USERS, Device, complete_gate, running, segment_zip, settings_for
from veil.access import directory as directory_module
from veil.server.agent_api import register_device
from veil.server.app import create_app
from veil.server.context import Context

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NAV = {
    "emp.one": ["/me"],
    "ana.one": ["/recordings", "/mining", "/me"],
    "dpo.one": ["/egress", "/policy", "/gate", "/requests", "/alarms", "/break-glass", "/me"],
    "adm.one": ["/alarms", "/break-glass", "/admin", "/me"],
}


@dataclass
class Live:
    url: str
    ctx: Context
    device: Device


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    tmp = tmp_path_factory.mktemp("browser")
    with pytest.MonkeyPatch.context() as mp:
        cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        mp.setattr(directory_module, "_hasher", lambda: cheap)
        app = create_app(settings_for(tmp))
        ctx: Context = app.state.ctx
        for name, role in USERS.items():
            ctx.directory.add_user(name, role, password=PASSWORD, by="test")
        complete_gate(ctx)
        key = Ed25519PrivateKey.generate()
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        device = Device(key, register_device(ctx, "emp.one", pem, "test"))
        intent = ctx.ledger.begin_egress(
            destination="local-model", policy_version="1", payload_sha256="c" * 64, size=2048, model="m"
        )
        ctx.ledger.complete_egress(intent)
        with running(app) as url:
            live = Live(url, ctx, device)
            for seq in range(2):
                path = f"/api/v1/agent/segments/rec-7/{seq}"
                body = segment_zip("rec-7", seq)
                answer = httpx.put(live.url + path, content=body, headers=device.headers("PUT", path, body))
                assert answer.status_code == 201, answer.text
            yield live
        ctx.close()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _login(browser: Browser, live: Live, user: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(live.url + "/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _not_blank(path: Path) -> None:
    image = Image.open(path).convert("L")
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 10, f"{path.name} looks blank"
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 8, f"{path.name} has almost no colours"


def _agent_state(live: Live) -> dict[str, object]:
    path = "/api/v1/agent/state"
    answer = httpx.get(live.url + path, headers=live.device.headers("GET", path))
    assert answer.status_code == 200
    state: dict[str, object] = answer.json()
    return state


def test_each_role_sees_only_its_pages(browser: Browser, live: Live, tmp_path: Path) -> None:
    for user, allowed in NAV.items():
        page = _login(browser, live, user)
        links = page.eval_on_selector_all("header nav a", "els => els.map(e => e.getAttribute('href'))")
        assert links == allowed, user
        for path in allowed:
            page.goto(live.url + path)
            shot = tmp_path / f"{user}{path.replace('/', '-')}.png"
            page.screenshot(path=str(shot), full_page=True)
            _not_blank(shot)
        forbidden = "/recordings" if "/recordings" not in allowed else "/egress"
        answer = page.goto(live.url + forbidden)
        assert answer is not None and answer.status == 403, (user, forbidden)
        assert page.locator("video").count() == 0
        page.close()
    page = _login(browser, live, "ana.one")
    page.goto(live.url + "/recordings/rec-7")
    assert page.locator("video").count() == 2
    assert "phone 4" in page.inner_text("main")
    page.close()


def test_pause_from_the_portal_stops_the_agent(browser: Browser, live: Live, tmp_path: Path) -> None:
    assert _agent_state(live)["recording"] is True
    page = _login(browser, live, "emp.one")
    assert page.url.endswith("/me")
    page.click("#pause")
    page.wait_for_selector("#resume")
    state = _agent_state(live)
    assert state["recording"] is False and state["reason"] == "paused-by-employee"
    page.screenshot(path=str(tmp_path / "portal-paused.png"), full_page=True)
    _not_blank(tmp_path / "portal-paused.png")
    page.click("#resume")
    page.wait_for_selector("#pause")
    assert _agent_state(live)["recording"] is True
    page.close()


def test_verify_the_ledger_from_the_page(browser: Browser, live: Live, tmp_path: Path) -> None:
    page = _login(browser, live, "dpo.one")
    page.goto(live.url + "/egress")
    assert page.locator("summary.ok").count() == 2
    page.click("#verify")
    result = page.wait_for_selector("#verify-result")
    assert result is not None and result.get_attribute("class") == "ok"
    assert "intact" in result.inner_text()
    page.screenshot(path=str(tmp_path / "egress-verified.png"), full_page=True)
    _not_blank(tmp_path / "egress-verified.png")
    page.close()
