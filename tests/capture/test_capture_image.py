"""Images and folders of images in and out; default output names."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veil.capture import default_output_path, open_sink, open_source
from veil.capture.base import FrameSource
from veil.models import Pixels
from veil.options import VideoOptions

from .synthetic import picture


def copy_through(source: FrameSource, output: Path) -> Path:
    with open_sink(source.info, output, VideoOptions()) as sink:
        for frame in source.frames():
            sink.write(frame, frame.pixels)
        return sink.close()


def load(path: Path) -> Pixels:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize(
    ("name", "pil_format", "max_error"),
    [("shot.png", "PNG", 0), ("shot.webp", "WEBP", 0), ("shot.jpg", "JPEG", 12), ("shot.jpeg", "JPEG", 12)],
)
def test_image_round_trip_keeps_format_and_pixels(
    tmp_path: Path, name: str, pil_format: str, max_error: int
) -> None:
    original = picture(7, 45, 31)  # odd size on purpose
    src = tmp_path / name
    Image.fromarray(original).save(src, format=pil_format, quality=100, lossless=True, subsampling=0)
    source = open_source(src, VideoOptions())
    assert (source.info.kind, source.info.width, source.info.height, source.info.frame_count) == (
        "image",
        45,
        31,
        1,
    )
    out = copy_through(source, default_output_path(src))
    assert out == tmp_path / name.replace("shot.", "shot_redacted.")
    with Image.open(out) as written:
        assert written.format == pil_format
        assert written.size == (45, 31)
    error = np.abs(load(out).astype(np.int16) - original.astype(np.int16)).max()
    assert error <= max_error


def test_jpeg_content_named_png_is_read_by_content(tmp_path: Path) -> None:
    src = tmp_path / "misnamed.png"
    Image.fromarray(picture(2)).save(src, format="JPEG", quality=95)
    frames = list(open_source(src, VideoOptions()).frames())
    assert len(frames) == 1 and frames[0].pixels.shape == (64, 96, 3)


def test_metadata_is_not_carried_over(tmp_path: Path) -> None:
    src = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x013B] = "Synthetic Author"  # Artist
    Image.fromarray(picture(1)).save(src, exif=exif.tobytes(), quality=95)
    out = copy_through(open_source(src, VideoOptions()), tmp_path / "clean.jpg")
    with Image.open(out) as written:
        assert 0x013B not in written.getexif()
        assert b"Synthetic Author" not in out.read_bytes()


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    src = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    Image.fromarray(picture(1, 40, 20)).save(src, exif=exif.tobytes(), quality=95)
    (frame,) = open_source(src, VideoOptions()).frames()
    assert frame.pixels.shape == (40, 20, 3)


def test_folder_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    names = ["b.png", "a.jpg", "c.webp", "A10.PNG"]
    for i, name in enumerate(names):
        fmt = {".png": "PNG", ".jpg": "JPEG", ".webp": "WEBP"}[Path(name).suffix.lower()]
        Image.fromarray(picture(i, 32 + i, 24)).save(folder / name, format=fmt, lossless=True, quality=95)
    (folder / "notes.txt").write_text("ignored")
    (folder / ".hidden.png").write_bytes(b"ignored, hidden")
    (folder / "nested").mkdir()
    Image.fromarray(picture(9)).save(folder / "nested" / "deep.png")

    source = open_source(folder, VideoOptions())
    assert source.info.kind == "folder" and source.info.frame_count == 4
    frames = list(source.frames())
    assert [f.source_name for f in frames] == sorted(names)
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert (source.info.width, source.info.height) == (frames[0].width, frames[0].height)

    out = default_output_path(folder)
    assert out == tmp_path / "shots_redacted"
    assert copy_through(source, out) == out
    assert sorted(os.listdir(out)) == sorted(names)
    for frame in frames:
        written = load(out / frame.source_name)
        assert written.shape == frame.pixels.shape
        if not frame.source_name.endswith(".jpg"):
            assert np.array_equal(written, frame.pixels)
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []


def test_folder_output_may_replace_an_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(picture(0)).save(folder / "x.png")
    (tmp_path / "out").mkdir()
    assert copy_through(open_source(folder, VideoOptions()), tmp_path / "out") == tmp_path / "out"
    assert os.listdir(tmp_path / "out") == ["x.png"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rec.mp4", "rec_redacted.mp4"),
        ("Rec.MOV", "Rec_redacted.MOV"),
        ("call.mkv", "call_redacted.mkv"),
        ("screen.webm", "screen_redacted.mkv"),
        ("a.b.png", "a.b_redacted.png"),
        ("shot.jpeg", "shot_redacted.jpeg"),
    ],
)
def test_default_output_path(tmp_path: Path, name: str, expected: str) -> None:
    assert default_output_path(tmp_path / name) == tmp_path / expected


def test_image_sink_takes_one_frame(tmp_path: Path) -> None:
    src = tmp_path / "one.png"
    Image.fromarray(picture(0)).save(src)
    source = open_source(src, VideoOptions())
    (frame,) = source.frames()
    sink = open_sink(source.info, tmp_path / "out.png", VideoOptions())
    sink.write(frame, frame.pixels)
    with pytest.raises(Exception, match=r"out\.png: an image output takes exactly one frame"):
        sink.write(frame, frame.pixels)
    assert sorted(os.listdir(tmp_path)) == ["one.png"]
