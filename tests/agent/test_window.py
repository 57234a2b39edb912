"""Window metadata off X11: the sidecar a helper writes, and URLs in browser titles."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from veil.agent.window import SidecarWindows, WindowUnknown, url_from_title


def test_the_sidecar_names_the_window_in_front(tmp_path: Path) -> None:
    path = tmp_path / "front.json"
    path.write_text(json.dumps({"app": "chrome", "title": "Card", "url": "https://crm.example/c/1",
                                "t": time.time()}))  # fmt: skip
    window = SidecarWindows(path).current()
    assert window is not None and (window.app, window.title, window.url) == (
        "chrome", "Card", "https://crm.example/c/1")  # fmt: skip
    path.write_text(json.dumps({"app": "", "title": ""}))
    assert SidecarWindows(path).current() is None  # the bare desktop


@pytest.mark.parametrize(
    "content",
    ["", "{not json", "[1, 2]", json.dumps({"app": 3}), json.dumps({"app": "x", "t": time.time() - 60})],
    ids=["missing", "not-json", "not-an-object", "app-not-text", "stale"],  # stable across xdist workers
)
def test_a_missing_broken_or_stale_sidecar_is_unknown(tmp_path: Path, content: str) -> None:
    path = tmp_path / "front.json"
    if content:
        path.write_text(content)
    with pytest.raises(WindowUnknown):
        SidecarWindows(path).current()


def test_a_browser_titles_url_is_taken_other_apps_are_not() -> None:
    title = "Customer card - https://crm.example/c/77?x=1"
    assert url_from_title("Chromium", title) == "https://crm.example/c/77?x=1"
    assert url_from_title("firefox", title) == "https://crm.example/c/77?x=1"
    assert url_from_title("libreoffice", title) == ""
    assert url_from_title("Chromium", "Customer card") == ""
