"""One CLI test per exit code, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from veil.__main__ import main

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_image(path: Path, text: str) -> Path:
    image = Image.new("RGB", (520, 70), "white")
    ImageDraw.Draw(image).text((12, 18), text, fill="black", font=ImageFont.truetype(FONT, 24))
    image.save(path)
    return path


@pytest.fixture(autouse=True)
def veil_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))


def test_clean_image_exits_0_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    assert main(["redact", str(src), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 1 and summary["frames_masked_whole"] == 0
    assert (tmp_path / "shot_redacted.png").exists()
    assert (tmp_path / "shot_redacted.report.json").exists()


def test_value_is_redacted_and_not_in_any_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    value = "alice.martin@example.com"
    src = text_image(tmp_path / "mail.png", f"From: {value}")
    code = main(["redact", str(src), "--json", "--report", str(tmp_path / "r.json")])
    assert code == 0
    out = capsys.readouterr()
    report = (tmp_path / "r.json").read_text(encoding="utf-8")
    layer = (tmp_path / "mail_redacted.textlayer.jsonl").read_text(encoding="utf-8")
    for text in (out.out, out.err, report, layer):
        assert value not in text and "alice" not in text
    assert json.loads(report)["summary"]["findings_by_type"] == {"email": 1}
    before = np.asarray(Image.open(src))
    after = np.asarray(Image.open(tmp_path / "mail_redacted.png"))
    assert (before != after).any()


def test_usage_error_exits_2() -> None:
    assert main(["redact"]) == 2
    assert main(["redact", "x.png", "--no-such-option"]) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.mp4", b"", "empty"),
        ("notes.mp4", b"this is a text file, not a video\n" * 20, ""),
        ("missing.png", None, ""),
    ],
)
def test_bad_input_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["redact", str(path)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("veil: error:") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not any(p.name.startswith(path.stem + "_redacted") for p in tmp_path.iterdir())


def test_bad_policy_exits_4_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = text_image(tmp_path / "shot.png", "hello")
    policy = tmp_path / "policy.yaml"
    policy.write_text("redact:\n  colour: [0, 0, 0]\n", encoding="utf-8")
    assert main(["redact", str(src), "--policy", str(policy)]) == 4
    assert "redact.colour" in capsys.readouterr().err
    assert not (tmp_path / "shot_redacted.png").exists()


def test_frames_masked_whole_exits_5(tmp_path: Path) -> None:
    src = text_image(tmp_path / "shot.png", "Phone 06 12 34 56 78")
    policy = tmp_path / "policy.yaml"
    policy.write_text("ocr:\n  timeout_seconds: 0.001\n", encoding="utf-8")
    assert main(["redact", str(src), "--policy", str(policy), "--report", str(tmp_path / "r.json")]) == 5
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["frames"][0]["mask_reason"] == "ocr-timeout"
    assert (np.asarray(Image.open(tmp_path / "shot_redacted.png")) == 0).all()


def test_unwritable_output_exits_8(tmp_path: Path) -> None:
    src = text_image(tmp_path / "shot.png", "hello")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["redact", str(src), "-o", str(blocker / "out.png")]) == 8


def test_exit_codes_command_lists_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exit-codes"]) == 0
    out = capsys.readouterr().out
    for code in ("0", "2", "3", "4", "5", "6", "7", "8"):
        assert code in out


def test_scan_text_jsonl(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    lines = ['{"id": "a", "text": "연락처:010-2345-6789입니다"}', '{"id": "b", "text": "ORD-2025-118843"}']
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["scan-text", "--jsonl"]) == 0
    out = capsys.readouterr().out
    records = [json.loads(x) for x in out.splitlines()]
    assert records == [{"id": "a", "start": 4, "end": 17, "type": "phone", "score": records[0]["score"],
                        "recognizer": records[0]["recognizer"]}]  # fmt: skip
    assert "2345" not in out


def test_scan_text_bad_jsonl_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("not json\n"))
    assert main(["scan-text", "--jsonl"]) == 3
