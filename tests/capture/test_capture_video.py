"""Video round trips: source -> sink keeps frame count, pts, time base, size and pixels."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from veil.capture import default_output_path, open_sink, open_source
from veil.capture.base import FrameSource
from veil.models import Frame, Pixels
from veil.options import VideoOptions

from .synthetic import TIME_BASE, VFR_PTS, index_of, write_video

LOSSLESS_444 = VideoOptions(crf=0)


def redact_copy(source: FrameSource, output: Path, video: VideoOptions) -> Path:
    with open_sink(source.info, output, video) as sink:
        for frame in source.frames():
            sink.write(frame, frame.pixels)
        return sink.close()


def decoded(path: Path) -> list[Frame]:
    return list(open_source(path, VideoOptions()).frames())


def mean_error(a: Pixels, b: Pixels) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_source_info_and_frames(vfr_mp4: tuple[Path, list[Pixels]]) -> None:
    path, pictures = vfr_mp4
    source = open_source(path, VideoOptions())
    info = source.info
    assert (info.kind, info.width, info.height) == ("video", 96, 64)
    assert info.frame_count == len(VFR_PTS)
    assert info.time_base == TIME_BASE
    assert info.fps is not None and info.fps > 0
    frames = list(source.frames())
    assert [f.index for f in frames] == list(range(len(VFR_PTS)))
    assert [f.pts for f in frames] == list(VFR_PTS)
    assert all(f.time_base == TIME_BASE for f in frames)
    assert all(f.pixels.shape == (64, 96, 3) and f.pixels.dtype == np.uint8 for f in frames)
    assert [index_of(f.pixels) for f in frames] == list(range(len(VFR_PTS)))
    assert max(mean_error(f.pixels, p) for f, p in zip(frames, pictures, strict=True)) < 3.0


def test_frames_are_streamed_lazily(vfr_mp4: tuple[Path, list[Pixels]]) -> None:
    frames = open_source(vfr_mp4[0], VideoOptions()).frames()
    first = next(iter(frames))
    assert first.index == 0 and first.pts == 0


def test_frames_not_wanted_keep_their_shape_and_time_but_no_pixels(
    vfr_mp4: tuple[Path, list[Pixels]],
) -> None:
    path = vfr_mp4[0]
    every = list(open_source(path, VideoOptions()).frames())
    some = list(open_source(path, VideoOptions()).frames(lambda index: index % 2 == 0))
    assert [(f.index, f.pts, f.pixels.shape) for f in some] == [
        (f.index, f.pts, f.pixels.shape) for f in every
    ]
    for a, b in zip(every, some, strict=True):
        if a.index % 2 == 0:
            assert np.array_equal(a.pixels, b.pixels)
        else:  # a placeholder: black, read-only, no memory of its own
            assert not b.pixels.any() and not b.pixels.flags.writeable and b.pixels.strides == (0, 0, 0)


@pytest.mark.parametrize(
    ("ext", "out_ext", "exact_pts"),
    [(".mp4", ".mp4", True), (".mov", ".mov", True), (".mkv", ".mkv", True), (".mp4", ".mkv", False)],
)
def test_round_trip_keeps_count_and_timestamps(
    tmp_path: Path, ext: str, out_ext: str, exact_pts: bool
) -> None:
    src_path = tmp_path / f"in{ext}"
    write_video(src_path, pix_fmt="yuv444p")
    source = open_source(src_path, VideoOptions())
    originals = list(source.frames())
    out = redact_copy(source, tmp_path / f"out{out_ext}", VideoOptions())
    assert out == tmp_path / f"out{out_ext}"
    again = decoded(out)
    assert len(again) == len(originals)
    seconds_in = [f.seconds for f in originals]
    seconds_out = [f.seconds for f in again]
    if exact_pts:
        assert [f.pts for f in again] == [f.pts for f in originals]
        assert again[0].time_base == originals[0].time_base
    assert seconds_out == pytest.approx(seconds_in, abs=0.001)  # Matroska stores milliseconds
    assert [index_of(f.pixels) for f in again] == list(range(len(originals)))
    for a, b in zip(originals, again, strict=True):
        assert mean_error(a.pixels, b.pixels) < 1.5


def test_near_lossless_settings_keep_pixels(tmp_path: Path) -> None:
    src_path = tmp_path / "in.mkv"
    write_video(src_path, pix_fmt="yuv444p")
    source = open_source(src_path, VideoOptions())
    originals = list(source.frames())
    again = decoded(redact_copy(source, tmp_path / "out.mkv", LOSSLESS_444))
    for a, b in zip(originals, again, strict=True):
        # crf 0 is lossless in YUV; only the RGB<->YUV rounding remains.
        assert np.abs(a.pixels.astype(np.int16) - b.pixels.astype(np.int16)).max() <= 3


def test_webm_input_defaults_to_matroska_output(tmp_path: Path) -> None:
    src_path = tmp_path / "screen.webm"
    write_video(src_path, codec="libvpx-vp9", time_base=Fraction(1, 1000), pts=[0, 40, 200, 260, 900])
    out = default_output_path(src_path)
    assert out == tmp_path / "screen_redacted.mkv"
    source = open_source(src_path, VideoOptions())
    frames = list(source.frames())
    again = decoded(redact_copy(source, out, VideoOptions()))
    assert [f.pts for f in again] == [f.pts for f in frames] == [0, 40, 200, 260, 900]
    assert av.open(str(out)).streams.video[0].codec_context.name == "h264"


@pytest.mark.parametrize(
    ("size", "pix_fmt", "out_size"),
    [
        ((95, 63), "yuv444p", (95, 63)),
        ((95, 63), "yuv420p", (96, 64)),  # 4:2:0 needs even sizes: padded by repeating the edge
        ((96, 63), "yuv420p", (96, 64)),
        ((96, 64), "yuv420p", (96, 64)),
    ],
)
def test_odd_sizes(tmp_path: Path, size: tuple[int, int], pix_fmt: str, out_size: tuple[int, int]) -> None:
    src_path = tmp_path / "odd.mkv"
    pictures = write_video(src_path, size=size, pix_fmt="yuv444p", pts=list(range(0, 6000, 1000)))
    source = open_source(src_path, VideoOptions())
    video = VideoOptions(pixel_format=pix_fmt)  # type: ignore[arg-type]
    out = redact_copy(source, tmp_path / "odd_out.mp4", video)
    stream = av.open(str(out)).streams.video[0]
    assert stream.codec_context.pix_fmt == pix_fmt
    again = decoded(out)
    assert len(again) == len(pictures)
    w, h = size
    for frame, original in zip(again, pictures, strict=True):
        assert (frame.width, frame.height) == out_size
        assert mean_error(frame.pixels[:h, :w], original) < 4.0


def test_frames_without_pts_get_increasing_timestamps(tmp_path: Path) -> None:
    info = open_source(write_png(tmp_path / "still.png"), VideoOptions()).info
    video_info = type(info)(kind="video", path=info.path, frame_count=3, width=32, height=24, fps=Fraction(5))
    out = tmp_path / "timed.mp4"
    with open_sink(video_info, out, VideoOptions()) as sink:
        for i in range(3):
            sink.write(Frame(i, np.zeros((24, 32, 3), np.uint8)), np.zeros((24, 32, 3), np.uint8))
        # A repeated pts (seen in damaged inputs) still gives a frame of its own.
        sink.write(Frame(3, np.zeros((24, 32, 3), np.uint8), pts=1, time_base=Fraction(1, 5)), _black())
        sink.close()
    frames = decoded(out)
    assert len(frames) == 4
    seconds = [f.seconds for f in frames]
    assert seconds[:3] == pytest.approx([0.0, 0.2, 0.4])
    assert seconds == sorted(seconds) and len(set(seconds)) == 4


def _black() -> Pixels:
    return np.zeros((24, 32, 3), np.uint8)


def write_png(path: Path) -> Path:
    from PIL import Image

    Image.fromarray(_black()).save(path)
    return path


def test_a_still_screen_written_again_is_encoded_again(tmp_path: Path) -> None:
    """A still screen hands the sink the same read-only array several times (converted once, see
    `VideoSink.write`): every frame is still written, with its own timestamp and its pixels. A
    writable array changed in place between two writes is converted again."""
    src_path = tmp_path / "in.mp4"
    write_video(src_path, pix_fmt="yuv444p")
    source = open_source(src_path, VideoOptions())
    originals = list(source.frames())
    still = originals[1].pixels.copy()
    still.flags.writeable = False
    edited = originals[4].pixels.copy()
    expected = []
    with open_sink(source.info, tmp_path / "out.mp4", LOSSLESS_444) as sink:
        for frame in originals:
            if 1 <= frame.index <= 3:
                pixels = still
            elif frame.index >= 4:
                pixels = edited
                edited[:, : 8 * frame.index] = 255  # the same array, changed in place
            else:
                pixels = frame.pixels
            sink.write(frame, pixels)
            expected.append(pixels.copy())
        out = sink.close()
    again = decoded(out)
    assert len(originals) >= 6
    assert [f.pts for f in again] == [f.pts for f in originals]
    for index, (want, got) in enumerate(zip(expected, again, strict=True)):
        assert np.abs(want.astype(np.int16) - got.pixels.astype(np.int16)).max() <= 3, index
