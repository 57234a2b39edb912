"""Confidential windows: a deny-listed window is masked in every frame it is in view."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from veil.api import RunOptions, redact_file
from veil.capture.windows import WindowGate, WindowTimeline, sidecar_path
from veil.exceptions import InputError, PolicyError
from veil.options import CaptureOptions, Policy, WindowRule, load_policy

FONT = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 22)
TITLES = ["Inbox - Mail", "Inbox - Mail", "Payment Settlement Console", "Payment Settlement Console",
          "Payment Settlement Console", "Quarterly plan"]  # fmt: skip
DENY = Policy(capture=CaptureOptions(deny=(WindowRule(title=r"settlement console"),)))


def make_video(path: Path) -> Path:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=2)
        stream.width, stream.height, stream.pix_fmt = 640, 160, "yuv444p"
        stream.options = {"crf": "12"}
        for title in TITLES:
            image = Image.new("RGB", (640, 160), "white")
            draw = ImageDraw.Draw(image)
            draw.rectangle((0, 0, 640, 40), fill=(225, 225, 235))
            draw.text((12, 8), title, fill="black", font=FONT)
            draw.text((12, 90), "Order ORD-2025-118843 shipped", fill="black", font=FONT)
            frame = av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(autouse=True)
def veil_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))


@pytest.mark.slow
def test_title_read_by_ocr_masks_the_three_frames(tmp_path: Path) -> None:
    video = make_video(tmp_path / "rec.mp4")
    report = redact_file(video, RunOptions(DENY, output=tmp_path / "out.mp4"))
    reasons = [str(r.mask_reason) if r.masked_whole else None for r in report.frames]
    assert reasons == [
        None,
        None,
        "policy-denied-window",
        "policy-denied-window",
        "policy-denied-window",
        None,
    ]


def test_sidecar_metadata_masks_frames_without_reading_them(tmp_path: Path) -> None:
    video = make_video(tmp_path / "rec.mp4")
    events = [
        {"t": 0.0, "app": "mail", "title": "Inbox"},
        {
            "t": 1.0,
            "app": "chrome",
            "title": "Payment Settlement Console",
            "url": "https://pay.example/settle",
        },
        {"t": 2.5, "app": "docs", "title": "Quarterly plan", "user": "u-1"},
    ]
    sidecar_path(video).write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    policy = Policy(capture=CaptureOptions(deny=(WindowRule(app="chrome", url=r"pay\.example/settle"),)))
    report = redact_file(video, RunOptions(policy, output=tmp_path / "out.mp4"))
    masked = [r.masked_whole for r in report.frames]
    assert masked == [False, False, True, True, True, False]
    layer = (tmp_path / "out.textlayer.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(layer[5])["window"] == {"app": "docs", "title": "Quarterly plan", "url": ""}
    # The user id is a keyed pseudonym: the sidecar's id is never written.
    assert re.fullmatch(r"user-[0-9a-f]{12}", json.loads(layer[5])["user"])
    assert '"u-1"' not in "\n".join(layer)


def test_sidecar_bounds_mask_only_the_window(tmp_path: Path) -> None:
    video = make_video(tmp_path / "rec.mp4")
    event = {"t": 0.0, "app": "vault", "title": "Secrets", "bounds": [0, 0, 320, 160]}
    sidecar_path(video).write_text(json.dumps(event) + "\n", encoding="utf-8")
    policy = Policy(capture=CaptureOptions(deny=(WindowRule(app="vault"),)))
    report = redact_file(video, RunOptions(policy, output=tmp_path / "out.mp4"))
    assert not any(r.masked_whole for r in report.frames)
    assert all(any(f.type == "confidential_window" for f in r.findings) for r in report.frames)


def test_gate_rules() -> None:
    gate = WindowGate((WindowRule(app="^chrome$", url="settle"), WindowRule(title="payroll")))
    timeline = WindowTimeline([])
    assert timeline.at(3.0) is None
    from veil.capture.windows import WindowEvent

    assert gate.denies(WindowEvent(0, app="Chrome", url="https://x/settle"))
    assert not gate.denies(WindowEvent(0, app="chrome", url="https://x/home"))
    assert gate.denies(WindowEvent(0, title="Payroll 2026"))
    assert gate.denies_text(["Payroll - March"]) and not gate.denies_text(["Inbox"])


def test_bad_sidecar_and_bad_rule(tmp_path: Path) -> None:
    video = tmp_path / "rec.mp4"
    sidecar_path(video).write_text('{"app": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="numeric 't'"):
        WindowTimeline.load(video)
    policy = tmp_path / "p.yaml"
    policy.write_text("capture:\n  deny:\n    - title: '[unclosed'\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"capture\.deny"):
        load_policy(policy)
