"""Issue #14: metadata of the inputs never reaches the outputs, the report or the text layer.

Inputs carry a person's name, an e-mail address and a place in every tag a camera, an editor or
a screen recorder writes: EXIF (Artist, XPAuthor, ImageDescription, GPS), a JPEG comment, PNG text
chunks, and MP4/MOV container and stream tags (title, artist, comment, location, creation_time).
Then Korean and Japanese file names holding a person's name go through `veil redact`: the run
succeeds and the name is never printed, nor written into the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

import veil
from veil.api import RunOptions, redact_file
from veil.options import Policy

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NAME, MAIL, PLACE = "Haruto Sato", "haruto.sato@example.jp", "Shibuya Tokyo"
KO_NAME, JA_NAME = "김민수", "佐藤花子"
SECRETS = (NAME, MAIL, PLACE, KO_NAME, JA_NAME, "+35.6595+139.7005", "1987:03:02")
CREATED = "2019-05-04T03:02:01.000000Z"


def _screen(width: int = 320, height: int = 96) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text(
        (10, 30), "Quarterly plan draft", fill="black", font=ImageFont.truetype(FONT, 20)
    )
    return image


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = NAME  # Artist
    exif[0x010E] = f"{NAME} <{MAIL}> at {PLACE}"  # ImageDescription
    exif[0x8298] = KO_NAME  # Copyright
    exif[0x9C9D] = JA_NAME.encode("utf-16-le") + b"\0\0"  # XPAuthor
    exif[0x0132] = "1987:03:02 10:00:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (35.0, 39.0, 34.2), 3: "E", 4: (139.0, 42.0, 1.8)})
    return exif


def _jpeg(path: Path) -> Path:
    _screen().save(path, format="JPEG", quality=95, exif=_exif(), comment=f"{NAME} {MAIL}".encode())
    return path


def _png(path: Path) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", NAME)
    info.add_itxt("Description", f"{JA_NAME} {MAIL}")
    info.add_text("Location", PLACE)
    _screen().save(path, format="PNG", pnginfo=info, exif=_exif())
    return path


def _video(path: Path, container: str) -> Path:
    tags = {
        "title": f"Call with {NAME}",
        "artist": KO_NAME,
        "comment": MAIL,
        "location": "+35.6595+139.7005/",
        "creation_time": CREATED,
        "author": JA_NAME,
    }
    frame = np.asarray(_screen(320, 96))
    with av.open(str(path), "w", format=container) as out:
        out.metadata.update(tags)
        stream = out.add_stream("libx264", rate=2)
        stream.width, stream.height, stream.pix_fmt = 320, 96, "yuv420p"
        stream.metadata.update({"title": NAME, "handler_name": PLACE})
        for n in range(2):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts, vf.time_base = n, Fraction(1, 2)
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    with av.open(str(path)) as check:  # the input really carries them
        assert check.metadata.get("title") == tags["title"]
    return path


def _leaks(data: bytes) -> list[str]:
    found = []
    for secret in SECRETS:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            if secret.encode(encoding) in data:
                found.append(f"{SECRETS.index(secret)}/{encoding}")  # an index, never the value
    return found


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Policy:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VEIL_LEDGER_SIGNER", raising=False)
    monkeypatch.delenv("VEIL_LEDGER_KEY_DIR", raising=False)
    return Policy.model_validate({"detect": {"faces": False}})


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["jpeg", "png", "mp4", "mov"])
def test_input_metadata_never_reaches_the_outputs(tmp_path: Path, policy: Policy, kind: str) -> None:
    make = {
        "jpeg": lambda: _jpeg(tmp_path / "in.jpg"),
        "png": lambda: _png(tmp_path / "in.png"),
        "mp4": lambda: _video(tmp_path / "in.mp4", "mp4"),
        "mov": lambda: _video(tmp_path / "in.mov", "mov"),
    }
    source = make[kind]()
    assert _leaks(source.read_bytes())  # the test input is what it claims to be
    output = tmp_path / f"out{source.suffix}"
    redact_file(source, RunOptions(policy=policy, output=output, workers=1))
    report, layer = tmp_path / "out.report.json", tmp_path / "out.textlayer.jsonl"
    for path in (output, report, layer):
        assert _leaks(path.read_bytes()) == [], path.name
    if kind in ("jpeg", "png"):
        with Image.open(output) as image:
            assert not image.getexif() and not image.info.get("exif") and "comment" not in image.info
            assert not {"Author", "Description", "Location"} & set(image.info)
    else:
        with av.open(str(output)) as video:
            tags = dict(video.metadata)
            streams = [dict(s.metadata) for s in video.streams]
        assert not {"title", "artist", "comment", "location", "author"} & set(tags), sorted(tags)
        assert tags.get("creation_time") != CREATED
        assert all(s.get("title") is None for s in streams)


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"{KO_NAME}_회의화면.png", f"{JA_NAME}さんの画面.png"])
def test_korean_and_japanese_file_names_are_never_printed(tmp_path: Path, name: str) -> None:
    source = tmp_path / name
    _screen().save(source)
    env = {
        **os.environ,
        "VEIL_HOME": str(tmp_path / "home"),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(Path(veil.__file__).resolve().parents[1]), *sys.path]),
    }
    env.pop("VEIL_LEDGER_SIGNER", None)
    policy = tmp_path / "policy.yaml"
    policy.write_text("detect:\n  faces: false\n", encoding="utf-8")
    runs = [
        ["redact", str(source), "--policy", str(policy), "-v"],
        ["redact", str(source), "--policy", str(policy), "--json"],  # again, onto its own output
        ["redact", str(tmp_path / f"{KO_NAME}_없는파일.png"), "--policy", str(policy)],  # no such input
    ]
    codes = []
    for number, args in enumerate(runs):
        done = subprocess.run(
            [sys.executable, "-m", "veil", *args], env=env, capture_output=True, timeout=600, check=False
        )
        codes.append(done.returncode)
        assert _leaks(done.stdout + done.stderr) == [], f"run {number}"  # never the name itself
        assert b"Traceback" not in done.stderr
    assert codes[0] == 0 and codes[2] != 0
    output = source.with_name(source.stem + "_redacted.png")
    with Image.open(output) as image:
        assert image.size == (320, 96)
    report = json.loads(source.with_name(source.stem + "_redacted.report.json").read_text(encoding="utf-8"))
    assert _leaks(json.dumps(report, ensure_ascii=False).encode()) == []


@pytest.mark.parametrize(
    "name", [f"{KO_NAME}없는파일.png", f"상담{KO_NAME}고객.mp4", f"박지은보고서_{KO_NAME}.png"]
)
def test_a_korean_name_glued_to_other_words_is_hidden_in_messages(name: str) -> None:
    from veil.names import shown_name

    shown = shown_name(name)
    assert KO_NAME not in shown and "박지은" not in shown
    assert "<person_name>" in shown


@pytest.mark.parametrize(
    "name", ["이메일주소목록.png", "서울특별시_강남구.png", "계약서_최종본.pdf", "회의록.mp4"]
)
def test_korean_words_in_file_names_are_shown(name: str) -> None:
    from veil.names import shown_name

    assert shown_name(name) == name
