"""Bad input gives InputError with a one-line message naming the file; output failures give OutputError
and leave neither the output nor a temporary file behind."""

from __future__ import annotations

import os
import re
import resource
import signal
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veil.capture import open_sink, open_source, partial_output_path
from veil.capture.base import SourceInfo, Wanted
from veil.exceptions import InputError, OutputError
from veil.models import Frame
from veil.options import VideoOptions

from .synthetic import picture, write_audio_only, write_video

MS = Fraction(1, 1000)


def _png_with_header_size(path: Path, width: int, height: int) -> None:
    """A small real PNG whose IHDR claims `width` x `height` (pixels are never decoded)."""
    Image.fromarray(picture(0, 16, 16)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data[12:29]  # chunk type + 13 bytes of IHDR data
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    path.write_bytes(bytes(data))


def _cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for k in range(len(data) * 3 // 10, len(data) * 7 // 10, 997):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))


def _noisy(path: Path) -> None:
    # Noise makes the packets, not the headers, most of the file, so damage lands in picture data.
    write_video(path, size=(160, 120), pts=list(range(0, 30000, 1000)), time_base=MS, noise=True)


def _make(kind: str, tmp_path: Path) -> Path:  # noqa: PLR0911
    """Build one kind of bad input and return its path."""
    if kind == "missing":
        return tmp_path / "nowhere.mp4"
    if kind == "empty":
        (tmp_path / "empty.mp4").write_bytes(b"")
        return tmp_path / "empty.mp4"
    if kind == "text as mp4":
        (tmp_path / "notes.mp4").write_text("meeting notes, not a video\n" * 20)
        return tmp_path / "notes.mp4"
    if kind == "text as png":
        (tmp_path / "notes.png").write_text("not an image\n" * 20)
        return tmp_path / "notes.png"
    if kind == "png named mp4":
        Image.fromarray(picture(0)).save(tmp_path / "shot.mp4", format="PNG")
        return tmp_path / "shot.mp4"
    if kind == "unsupported extension":
        (tmp_path / "clip.gif").write_bytes(b"GIF89a" + bytes(64))
        return tmp_path / "clip.gif"
    if kind == "cut mp4":
        write_video(tmp_path / "cut.mp4")
        _cut_in_half(tmp_path / "cut.mp4")
        return tmp_path / "cut.mp4"
    if kind == "audio only":
        write_audio_only(tmp_path / "voice.mp4")
        return tmp_path / "voice.mp4"
    if kind == "huge png":
        _png_with_header_size(tmp_path / "huge.png", 16000, 16000)
        return tmp_path / "huge.png"
    if kind == "empty folder":
        (tmp_path / "shots").mkdir()
        (tmp_path / "shots" / "readme.txt").write_text("no images here")
        (tmp_path / "shots" / "sub.png").mkdir()
        return tmp_path / "shots"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", r"nowhere\.mp4: no such file"),
        ("empty", r"empty\.mp4: the file is empty \(0 bytes\)"),
        ("text as mp4", r"notes\.mp4: not a readable video"),
        ("text as png", r"notes\.png: not a readable PNG, JPEG or WebP image"),
        ("png named mp4", r"shot\.mp4: the content is a PNG image, not a \.mp4 video"),
        ("unsupported extension", r"clip\.gif: unsupported file type \.gif \(supported: .*\.mp4"),
        ("cut mp4", r"cut\.mp4: not a readable video"),
        ("audio only", r"voice\.mp4: the file has no video stream"),
        ("huge png", r"huge\.png: image is too large to process safely$"),
        ("empty folder", r"shots: the folder holds no PNG, JPEG or WebP image"),
    ],
)
def test_bad_input_is_refused_at_open(tmp_path: Path, kind: str, message: str) -> None:
    path = _make(kind, tmp_path)
    with pytest.raises(InputError, match=message) as info:
        open_source(path, VideoOptions())
    assert "\n" not in str(info.value)
    assert str(tmp_path) not in str(info.value)  # the file's name, not where it lives


def test_frame_size_limit_is_checked_from_the_header(tmp_path: Path) -> None:
    _png_with_header_size(tmp_path / "big.png", 3000, 3000)  # fine for Pillow, over our limit
    with pytest.raises(InputError, match=r"big\.png: image is 3000x3000, over the limit of 1000000 pixels"):
        open_source(tmp_path / "big.png", VideoOptions(max_frame_pixels=1_000_000))
    write_video(tmp_path / "wide.mp4")
    with pytest.raises(InputError, match=r"wide\.mp4: video is 96x64, over the limit of 1000 pixels"):
        open_source(tmp_path / "wide.mp4", VideoOptions(max_frame_pixels=1000))


def _decode_until_error(path: Path, wanted: Wanted | None = None) -> tuple[int, InputError]:
    count = 0
    with pytest.raises(InputError) as info:
        for frame in open_source(path, VideoOptions()).frames(wanted):
            assert frame.index == count
            count += 1
    return count, info.value


@pytest.mark.parametrize("converted", [True, False])
@pytest.mark.parametrize(
    ("name", "damage"),
    [("flipped.mp4", _flip_middle), ("flipped.mkv", _flip_middle), ("cut.mkv", _cut_in_half)],
)
def test_damage_in_the_middle_names_the_frame(
    tmp_path: Path, name: str, damage: Callable[[Path], None], converted: bool
) -> None:
    """Also when the pixels are not converted (a pool's main process): decoding finds the damage."""
    path = tmp_path / name
    _noisy(path)
    damage(path)
    count, error = _decode_until_error(path, None if converted else lambda _: False)
    # Frames before the damage were delivered; the error names the first one that was not.
    assert 0 < count < 30
    assert re.search(rf"{re.escape(name)}: .*decoding failed at frame {count}$", str(error))


def test_cut_faststart_mp4_names_the_frame(tmp_path: Path) -> None:
    import av

    path = tmp_path / "fast.mp4"
    pictures = [picture(i, 160, 120, noise=True) for i in range(30)]
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for pixels in pictures:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    _cut_in_half(path)
    count, error = _decode_until_error(path)
    assert 0 < count < 30
    assert str(error).endswith(f"decoding failed at frame {count}")


def test_truncated_image_fails_when_decoded(tmp_path: Path) -> None:
    path = tmp_path / "half.png"
    Image.fromarray(picture(3, noise=True)).save(path)
    _cut_in_half(path)
    source = open_source(path, VideoOptions())  # the header is intact
    with pytest.raises(InputError, match=r"half\.png: image data is damaged or truncated \(frame 0"):
        list(source.frames())


def test_animated_image_is_refused(tmp_path: Path) -> None:
    frames = [Image.fromarray(picture(i)) for i in range(3)]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:], lossless=True)
    with pytest.raises(InputError, match=r"anim\.webp: animated images are not supported"):
        open_source(tmp_path / "anim.webp", VideoOptions())


def test_unreadable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    Image.fromarray(picture(0)).save(folder / "a.png")

    def refuse(path: object) -> Iterator[os.DirEntry[str]]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(InputError, match=r"^locked: cannot read the folder \(permission denied\)$"):
        open_source(folder, VideoOptions())


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_unreadable_folder_for_real(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    Image.fromarray(picture(0)).save(folder / "a.png")
    folder.chmod(0)
    try:
        with pytest.raises(InputError, match=r"locked: cannot read the folder \(permission denied\)"):
            open_source(folder, VideoOptions())
    finally:
        folder.chmod(0o755)


# --- output failures --------------------------------------------------------------------------------


def _video_info(tmp_path: Path) -> SourceInfo:
    return SourceInfo(kind="video", path=tmp_path / "in.mp4", frame_count=None, width=32, height=24)


def _frame(index: int) -> Frame:
    return Frame(index, np.full((24, 32, 3), index * 10, np.uint8), pts=index, time_base=Fraction(1, 10))


@pytest.mark.parametrize("out_name", ["out.mp4", "out.png", "outdir"])
def test_exception_inside_with_leaves_nothing(tmp_path: Path, out_name: str) -> None:
    kind = {"out.mp4": "video", "out.png": "image", "outdir": "folder"}[out_name]
    info = SourceInfo(kind=kind, path=tmp_path / "in", frame_count=None, width=32, height=24)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    with (
        pytest.raises(RuntimeError, match="pipeline failed"),
        open_sink(info, out_dir / out_name, VideoOptions()) as sink,
    ):
        sink.write(_frame(0), _frame(0).pixels)
        assert len(os.listdir(out_dir)) == 1  # the hidden partial file exists meanwhile
        raise RuntimeError("pipeline failed")
    assert os.listdir(out_dir) == []


def test_failing_write_leaves_nothing(tmp_path: Path) -> None:
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    sink = open_sink(_video_info(tmp_path), out_dir / "out.mp4", VideoOptions())
    sink.write(_frame(0), _frame(0).pixels)
    with pytest.raises(OutputError, match=r"out\.mp4: frame size 16x16 differs from the first frame's 32x24"):
        sink.write(_frame(1), np.zeros((16, 16, 3), np.uint8))
    assert os.listdir(out_dir) == []  # the sink aborted itself, even outside a `with` block
    with pytest.raises(OutputError, match="already finished or aborted"):
        sink.write(_frame(2), _frame(2).pixels)


@pytest.mark.parametrize("out_name", ["out.mkv", "out.webp"])
def test_disk_full_gives_output_error_and_leaves_nothing(tmp_path: Path, out_name: str) -> None:
    src = tmp_path / "noise.mkv"
    _noisy(src)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    source = open_source(src, VideoOptions())
    info = source.info if out_name.endswith(".mkv") else SourceInfo("image", src, 1, 160, 120)
    sink = open_sink(info, out_dir / out_name, VideoOptions())
    # The file-size limit makes the kernel refuse writes the way a full disk does.
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, hard))
    try:
        with (
            pytest.raises(OutputError, match=rf"{re.escape(out_name)}: could not write .*\(file too large"),
            sink,
        ):
            for frame in source.frames():
                sink.write(frame, frame.pixels)
            sink.close()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert os.listdir(out_dir) == []


def test_unwritable_destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(
        OutputError, match=r"^out\.mp4: cannot write in the output folder \(permission denied\)$"
    ):
        open_sink(_video_info(tmp_path), tmp_path / "out.mp4", VideoOptions())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes folders whatever their mode")
def test_unwritable_destination_for_real(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError, match=r"permission denied"):
        open_sink(_video_info(tmp_path), locked / "out.mp4", VideoOptions())


@pytest.mark.parametrize(
    ("kind", "out_name", "message"),
    [
        ("video", "missing/out.mp4", r"out\.mp4: the output folder missing does not exist"),
        ("video", "out.webm", r"out\.webm: a video output must end in \.mp4, \.mkv or \.mov"),
        ("video", "in.mp4", r"in\.mp4: the output would overwrite the input"),
        ("image", "out.mp4", r"out\.mp4: an image input needs a \.png"),
        ("folder", "full", r"full: the output folder already exists and is not empty"),
        ("folder", "a_file", r"a_file: the output name is an existing file"),
        ("video", "a_dir", r"a_dir: a video output must end in"),
    ],
)
def test_bad_output_names(tmp_path: Path, kind: str, out_name: str, message: str) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.png").write_bytes(b"x")
    (tmp_path / "a_file").write_bytes(b"x")
    (tmp_path / "a_dir").mkdir()
    info = SourceInfo(kind=kind, path=tmp_path / "in.mp4", frame_count=None, width=32, height=24)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(OutputError, match=message):
        open_sink(info, tmp_path / out_name, VideoOptions())
    assert sorted(os.listdir(tmp_path)) == before


def test_closing_without_frames_is_an_error(tmp_path: Path) -> None:
    sink = open_sink(_video_info(tmp_path), tmp_path / "out.mp4", VideoOptions())
    with pytest.raises(OutputError, match=r"out\.mp4: no frame was written"):
        sink.close()
    assert os.listdir(tmp_path) == []


def test_damaged_input_mid_run_leaves_no_output(tmp_path: Path) -> None:
    src = tmp_path / "flipped.mp4"
    _noisy(src)
    _flip_middle(src)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    source = open_source(src, VideoOptions())
    written = 0
    with pytest.raises(InputError, match="decoding failed at frame"):  # noqa: SIM117
        with open_sink(source.info, out_dir / "out.mp4", VideoOptions()) as sink:
            for frame in source.frames():
                sink.write(frame, frame.pixels)
                written += 1
            sink.close()
    assert written > 0  # frames before the damage reached the sink ...
    assert os.listdir(out_dir) == []  # ... but the partial output was removed


@pytest.mark.parametrize(
    ("kind", "out_name", "partial_name"),
    [("video", "out.mkv", "out.partial.mkv"), ("folder", "shots", "shots.partial")],
)
def test_close_partial_never_uses_the_final_name(
    tmp_path: Path, kind: str, out_name: str, partial_name: str
) -> None:
    info = SourceInfo(kind=kind, path=tmp_path / "in", frame_count=None, width=32, height=24)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    sink = open_sink(info, out_dir / out_name, VideoOptions())
    for i in range(3):
        sink.write(_frame(i), _frame(i).pixels)
    assert sink.close_partial() == out_dir / partial_name == partial_output_path(out_dir / out_name)
    assert os.listdir(out_dir) == [partial_name]
    if kind == "video":
        assert len(list(open_source(out_dir / partial_name, VideoOptions()).frames())) == 3
    with pytest.raises(OutputError, match="already finished or aborted"):
        sink.close()
