"""Synthetic media for the capture tests, generated with PyAV in tmp_path (no stored resources)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from veil.models import Pixels

# A non-trivial time base and irregular gaps, as screen recorders write when nothing moves.
TIME_BASE = Fraction(1, 90000)
VFR_PTS = (0, 3000, 9000, 10000, 16000, 25000, 28000, 30000, 40000, 41000, 52000, 60000)


def picture(index: int, width: int = 96, height: int = 64, noise: bool = False) -> Pixels:
    """Frame `index`: a flat background, a rectangle that moves with the index, and the index itself
    stored as the grey level of the top-left 8x8 block (so order survives a lossy round trip)."""
    rng = np.random.default_rng(index)
    if noise:
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        pixels = np.full((height, width, 3), (30, 60, 90), dtype=np.uint8)
    x = (index * 5) % max(width - 20, 1)
    pixels[20:40, x : x + 20] = (250, 200, 40)
    pixels[:8, :8] = min(index * 8, 255)
    return pixels


def index_of(pixels: Pixels) -> int:
    return round(float(pixels[2:6, 2:6].mean()) / 8)


def write_video(
    path: Path,
    pts: Sequence[int] = VFR_PTS,
    size: tuple[int, int] = (96, 64),
    codec: str = "libx264",
    time_base: Fraction = TIME_BASE,
    pix_fmt: str = "yuv420p",
    noise: bool = False,
) -> list[Pixels]:
    """Encode one frame per pts and return the pictures that went in."""
    pictures = [picture(i, *size, noise=noise) for i in range(len(pts))]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        for p, pixels in zip(pts, pictures, strict=True):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = p, time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return pictures


def write_audio_only(path: Path) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=8000)
        samples = np.zeros((1, 1024), dtype=np.float32)
        for i in range(8):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 8000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
