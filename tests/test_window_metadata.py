"""Window metadata leaks people unless it is cleaned: names, e-mails and dates of birth in a window
title, an app name, a URL's path and query, and the user id never reach the text layer, the events
of `veil mine`, or a payload built by `veil analyze`. Every value is synthetic."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from veil.capture.metadata import PSEUDONYM, WindowScrubber, scrub_text, scrub_url
from veil.capture.windows import WindowEvent, sidecar_path
from veil.detect.analyzer import Analyzer
from veil.detect.registry import default_analyzer

# Each raw value, and the fragments of it that must not survive anywhere (case-insensitive).
LEAKS = ("minsu", "jane", "smith", "1984", "19840302", "김민수", "山田", "太郎", "yamada", "taro", "@example")


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return default_analyzer()


def _leaks(text: str) -> list[str]:
    low = text.casefold()
    return [v for v in LEAKS if v.casefold() in low]


# --- the scrubbers, field by field ----------------------------------------------------------------

TITLES = {
    "DM with Minsu Kim - Slack": "DM with <person_name> - Slack",
    "Kim Minsu - Zoom Meeting": "<person_name> - Zoom Meeting",
    "Chat with Jane Smith": "Chat with <person_name>",
    "김민수님과의 대화 - 카카오톡": "<person_name>님과의 대화 - 카카오톡",
    "김민수 - 카카오톡": "<person_name> - 카카오톡",
    "山田太郎さんとのチャット - LINE": "<person_name>さんとのチャット - LINE",
    "山田 太郎 - Microsoft Teams": "<person_name> - Microsoft Teams",
    "Yamada Taro - Outlook": "<person_name> - Outlook",
    "Inbox - jane.smith@example.com": "Inbox - <email>",
    "Jane Smith (DOB 1984-03-02) - EMR": "<person_name> (DOB <date_of_birth>) - EMR",
    "고객 상세 - 생년월일 1984-03-02": "고객 상세 - 생년월일 <date_of_birth>",
    # Decoys: window titles that name no one stay as they are.
    "Orders - CRM": "Orders - CRM",
    "Settlement console": "Settlement console",
    "Central Park - Maps": "Central Park - Maps",
    "Call with Support Team": "Call with Support Team",
    "주문 목록 - 관리자": "주문 목록 - 관리자",
}


@pytest.mark.parametrize("title", sorted(TITLES))
def test_title_and_app_pass_the_detectors(analyzer: Analyzer, title: str) -> None:
    assert scrub_text(title, analyzer) == TITLES[title]


URLS = {
    "https://crm.example.com/customers/jane-smith-1984-03-02?name=Kim+Minsu&tab=2": (
        "https://crm.example.com/customers/<person_name>?name=<person_name>&tab=2"
    ),
    "https://chat.example.com/dm/minsu-kim?with=Kim+Minsu": (
        "https://chat.example.com/dm/<person_name>?with=<person_name>"
    ),
    "https://crm.example.com/search?q=jane.smith%40example.com&dob=1984-03-02": (
        "https://crm.example.com/search?q=<email>&dob=<date_of_birth>"
    ),
    "crm.example.com/patients/dob/1984-03-02": "crm.example.com/patients/dob/<date_of_birth>",
    # 김민수, percent-encoded in the path
    "https://crm.example.com/customers/%EA%B9%80%EB%AF%BC%EC%88%98/edit": (
        "https://crm.example.com/customers/<person_name>/edit"
    ),
    "https://admin:pw@crm.example.com:8443/x?customer_name=Yamada+Taro": (
        "https://crm.example.com:8443/x?customer_name=<person_name>"
    ),
    "https://app.example.com/#/users/jane-smith/profile?birthdate=1984-03-02": (
        "https://app.example.com/#/users/<person_name>/profile?birthdate=<date_of_birth>"
    ),
    "file:///C:/Users/minsu.kim/Documents/report.xlsx": (
        "file:///C:/Users/<person_name>/Documents/report.xlsx"
    ),
    # Decoys: the route shape, ids and plain parameters are kept.
    "https://shop.example.com/orders/ORD-2024-118843?status=shipped&sort=date": (
        "https://shop.example.com/orders/ORD-2024-118843?status=shipped&sort=date"
    ),
    "https://mail.example.com/mail/u/0/#inbox": "https://mail.example.com/mail/u/0/#inbox",
}


@pytest.mark.parametrize("url", sorted(URLS))
def test_url_path_segments_and_query_values_pass_the_detectors(analyzer: Analyzer, url: str) -> None:
    assert scrub_url(url, analyzer) == URLS[url]


def test_user_ids_become_keyed_pseudonyms(analyzer: Analyzer) -> None:
    one, other = WindowScrubber(analyzer, b"a" * 32), WindowScrubber(analyzer, b"b" * 32)
    ids = ["minsu.kim@example.com", "Jane Smith", "jsmith-1984-03-02", "u-3f2a"]
    made = [one.user(u) for u in ids]
    assert all(m is not None and PSEUDONYM.fullmatch(m) for m in made)
    assert len(set(made)) == len(ids)
    assert one.user(" MINSU.KIM@example.com ") == made[0]  # normalised: one person, one pseudonym
    assert [other.user(u) for u in ids] != made  # keyed: another key, other pseudonyms
    assert one.user(None) is None and one.user("") is None
    assert not _leaks(" ".join(m or "" for m in made)) and repr(one) == "WindowScrubber(<key hidden>)"


def test_window_event_repr_shows_no_value() -> None:
    event = WindowEvent(
        1.0, "Slack", "DM with Minsu Kim", "https://x.example/jane-smith", user="jane@example.com"
    )
    assert not _leaks(repr(event))


# --- end to end: text layer, veil mine, veil analyze ----------------------------------------------

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SIDECAR = [
    {
        "t": 0.0,
        "app": "Slack",
        "title": "DM with Minsu Kim - Slack",
        "url": "https://chat.example.com/dm/minsu-kim?with=Kim+Minsu",
        "user": "minsu.kim@example.com",
    },
    {
        "t": 1.0,
        "app": "Outlook - jane.smith@example.com",
        "title": "김민수님과의 대화 - 카카오톡",
        "url": "https://crm.example.com/customers/jane-smith-1984-03-02?name=Kim+Minsu&dob=1984-03-02",
        "user": "Jane Smith",
    },
    {
        "t": 2.0,
        "app": "Chart - Yamada Taro DOB 1984-03-02",
        "title": "山田太郎さんとのチャット - LINE",
        "url": "https://crm.example.com/patients/dob/1984-03-02?email=jane.smith%40example.com",
        "user": "jsmith-1984-03-02",
    },
    {
        "t": 2.5,
        "app": "emr",
        "title": "Jane Smith (DOB 1984-03-02) - EMR",
        "url": "https://emr.example.com/charts?patient=Jane+Smith",
        "user": "minsu.kim@example.com",
    },
]


def _recording(path: Path) -> Path:
    """Six frames at 2 fps whose screens hold nothing personal: only the metadata names people."""
    font = ImageFont.truetype(FONT, 22)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=2)
        stream.width, stream.height, stream.pix_fmt = 480, 120, "yuv444p"
        stream.options = {"crf": "12"}
        for step in range(6):
            image = Image.new("RGB", (480, 120), "white")
            ImageDraw.Draw(image).text(
                (12, 40), f"Order ORD-2025-11884{step} shipped", fill="black", font=font
            )
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")))
        container.mux(stream.encode(None))
    sidecar_path(path).write_text(
        "\n".join(json.dumps(e, ensure_ascii=False) for e in SIDECAR), encoding="utf-8"
    )
    return path


@pytest.mark.slow
def test_metadata_never_reaches_layer_events_or_payload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analyzer: Analyzer
) -> None:
    from veil.api import companion_paths
    from veil.gateway.analyze import analyze
    from veil.gateway.services import Services
    from veil.mining.cli import MineOptions, mine

    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VEIL_EGRESS_KILL", raising=False)
    video = _recording(tmp_path / "rec.mp4")
    result = analyze(video, "local", None, True, tmp_path / "out", services=Services(analyzer=analyzer))

    # 1. The text layer: every window cleaned, every user a keyed pseudonym.
    layer_path = companion_paths(result.output)[1]
    layer = layer_path.read_text(encoding="utf-8")
    assert _leaks(layer) == []
    records = [json.loads(line) for line in layer.splitlines()]
    users = [r["user"] for r in records if "frame" in r]
    assert all(PSEUDONYM.fullmatch(u) for u in users)
    assert users[0] == users[-1] != users[2]  # the same person keeps one pseudonym
    titles = [r["window"]["title"] for r in records if "frame" in r]
    assert titles[0] == "DM with <person_name> - Slack"
    assert (
        "<person_name>님과의 대화 - 카카오톡" in titles and "<person_name>さんとのチャット - LINE" in titles
    )

    # 2. `veil mine`: events.csv (and every other output) hold none of it.
    mine([result.output], tmp_path / "mined", MineOptions(xes=False))
    outputs = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "mined").iterdir() if p.is_file()}
    assert "events.csv" in outputs
    assert {name: _leaks(text) for name, text in outputs.items() if _leaks(text)} == {}
    rows = list(csv.DictReader(io.StringIO(outputs["events.csv"])))
    assert rows and all(PSEUDONYM.fullmatch(r["user"]) for r in rows)
    assert any("<person_name>" in r["window"] for r in rows)

    # 3. `veil analyze`: the payload it built (written by the dry run) holds none of it.
    assert result.payload_path is not None
    for file in result.payload_path.iterdir():
        if file.suffix == ".json":
            assert _leaks(file.read_text(encoding="utf-8")) == [], file.name
    body = (result.payload_path / "body.json").read_text(encoding="utf-8")
    assert "<person_name>" in body


def test_layer_from_elsewhere_gets_pseudonymous_users_in_mining(tmp_path: Path) -> None:
    """A text layer written by an older Veil or another tool, with raw users and titles: `veil mine`
    cleans them into its events anyway."""
    from veil.mining.cli import MineOptions, mine

    frames = []
    for i, event in enumerate(SIDECAR * 2):
        window = {k: event[k] for k in ("app", "title", "url")}
        lines = [{"box": [10, 10, 200, 20], "text": f"Order ORD-{i}"}]
        frames.append({"frame": i, "t": float(i), "user": event["user"], "window": window, "lines": lines})
    layer = tmp_path / "old.textlayer.jsonl"
    layer.write_text("\n".join(json.dumps(f, ensure_ascii=False) for f in frames), encoding="utf-8")
    mine([layer], tmp_path / "mined", MineOptions(xes=False))
    events = (tmp_path / "mined" / "events.csv").read_text(encoding="utf-8")
    assert _leaks(events) == []
    users = {r["user"] for r in csv.DictReader(io.StringIO(events))}
    assert users and all(re.fullmatch(r"user-[0-9a-f]{12}", u) for u in users)
