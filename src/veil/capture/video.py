"""Video in and out through PyAV (FFmpeg with libx264 inside the wheel).

Decoding fails closed: the decoder runs with `err_detect=explode` under frame threading (with slice
threading FFmpeg conceals damaged slices silently, measured), so a damaged packet raises `InputError`
naming the frame index where decoding stopped (frames flagged corrupt are refused too). Frames yielded
before that point were sound: the caller either aborts its sink (the sink's `with` block does) or keeps
them with `close_partial()` under a `.partial` name, so partial output never looks complete. Damage the
bitstream cannot reveal decodes to garbled but valid frames, redacted and re-verified like any other.
A file that ends well before its header's frame count or duration (cut short) is reported the same way.

Encoding keeps every frame and its pts/time_base; colours are converted with BT.709 (limited range)
and tagged so, and decoding honours the input's own tags."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, ColorTrc

from veil.capture._staging import Staging, partial_path, reason
from veil.capture.base import FrameSink, FrameSource, SourceInfo, Wanted, placeholder
from veil.exceptions import InputError, OutputError
from veil.models import Frame, Pixels
from veil.names import shown
from veil.options import VideoOptions

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = frozenset({".mp4", ".webm", ".mkv", ".mov"})
# H.264 cannot go in WebM, so .webm is absent: a WebM input is written as Matroska (.mkv), the container
# WebM is a subset of, with the same 1 ms time base (timestamps survive exactly).
CONTAINER_BY_EXTENSION = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
# Fast enough for 1080p screen video on 2 cores; slower presets cost ~2x for ~5 % smaller files.
X264_PRESET = "veryfast"
DEFAULT_FPS = Fraction(25)
_AVCOL_SPC_BT709 = 1  # AVColorSpace value; PyAV exposes no enum for it
_MIN_TRUNCATION_SECONDS = 1.0
_DURATION_TAG = re.compile(r"^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")


def _open_input(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except PermissionError as exc:
        raise InputError(f"{shown(path)}: cannot read the file (permission denied)") from exc
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"{shown(path)}: not a readable video (unrecognised or damaged container)") from exc


def probe(path: Path, video: VideoOptions) -> SourceInfo:
    """Read the header only: stream size, rate, time base and frame count."""
    with _open_input(path) as container:
        if not container.streams.video:
            raise InputError(f"{shown(path)}: the file has no video stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            raise InputError(f"{shown(path)}: the video stream has no picture size (unsupported codec?)")
        if width * height > video.max_frame_pixels:
            raise InputError(
                f"{shown(path)}: video is {width}x{height}, over the limit of {video.max_frame_pixels} pixels"
            )
        rate = stream.average_rate or stream.guessed_rate
        return SourceInfo(
            kind="video",
            path=path,
            frame_count=stream.frames or None,
            width=width,
            height=height,
            fps=Fraction(rate) if rate else None,
            time_base=Fraction(stream.time_base) if stream.time_base else None,
        )


def _expected_end(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """When the header says the video stream should end, in seconds, or None if it does not say."""
    start = float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0
    if stream.duration and stream.time_base:
        return start + float(stream.duration * stream.time_base)
    match = _DURATION_TAG.match(str(stream.metadata.get("DURATION", "")))  # Matroska per-stream tag
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if len(container.streams) == 1 and container.duration:
        return float(container.duration) / av.time_base
    return None


class VideoSource(FrameSource):
    def __init__(self, path: Path, video: VideoOptions) -> None:
        self.info = probe(path, video)

    def frames(self, wanted: Wanted | None = None) -> Iterator[Frame]:
        path = self.info.path
        with _open_input(path) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_type = "FRAME"
            stream.codec_context.options = {"err_detect": "explode"}
            time_base = Fraction(stream.time_base) if stream.time_base else None
            index, last_end = 0, 0.0
            try:
                for decoded in container.decode(stream):
                    if decoded.is_corrupt:
                        raise InputError(
                            f"{shown(path)}: video data is damaged; decoding failed at frame {index}"
                        )
                    if wanted is None or wanted(index):
                        rgb = decoded.to_ndarray(format="rgb24", src_color_range=decoded.color_range or None)
                        pixels: Pixels = np.asarray(rgb, dtype=np.uint8)
                    else:
                        pixels = placeholder(decoded.height, decoded.width)
                    yield Frame(index, pixels, decoded.pts, time_base, source_name=path.name)
                    if decoded.pts is not None and time_base is not None:
                        last_end = float((decoded.pts + max(decoded.duration, 0)) * time_base)
                    index += 1
            except (av.FFmpegError, OSError) as exc:
                raise InputError(
                    f"{shown(path)}: video data is damaged; decoding failed at frame {index}"
                ) from exc
            self._check_complete(container, stream, index, last_end)

    def _check_complete(
        self, container: av.container.InputContainer, stream: av.VideoStream, count: int, last_end: float
    ) -> None:
        """Refuse a stream that ended well before its header says it should (a cut file).

        The slack is generous: refusing a sound file whose last frame simply lasts long, or whose edit
        list drops a few leading samples, is worse than missing a cut of a few frames (the frames that
        were decoded are redacted and verified either way)."""
        name = shown(self.info.path)
        if count == 0:
            raise InputError(f"{name}: the video stream holds no decodable frame")
        declared = self.info.frame_count
        if declared is not None and count < declared - max(2, declared // 20):
            raise InputError(
                f"{name}: only {count} of the {declared} frames in the header could be read "
                f"(truncated?); decoding failed at frame {count}"
            )
        expected = _expected_end(container, stream)
        fps = float(self.info.fps or DEFAULT_FPS)
        slack = max(_MIN_TRUNCATION_SECONDS, 0.05 * (expected or 0.0), 3.0 / fps)
        if expected is not None and last_end > 0 and expected - last_end > slack:
            raise InputError(
                f"{name}: video ends at {last_end:.2f} s but its header says {expected:.2f} s "
                f"(truncated?); decoding failed at frame {count}"
            )


class VideoSink(FrameSink):
    """H.264 (libx264) in the container of the output's extension, one output frame per input frame with
    the input's pts. yuv420p needs even sizes: odd sizes are padded by repeating the last row/column."""

    def __init__(
        self, info: SourceInfo, output: Path, video: VideoOptions, workdir: Path | None = None
    ) -> None:
        fmt = CONTAINER_BY_EXTENSION.get(output.suffix.lower())
        if fmt is None:
            raise OutputError(f"{shown(output)}: a video output must end in .mp4, .mkv or .mov")
        self._info, self._video = info, video
        self._staging = Staging(output, workdir=workdir)
        try:
            self._container = av.open(str(self._staging.path), mode="w", format=fmt)
        except (av.FFmpegError, OSError) as exc:
            self._staging.discard()
            raise OutputError(f"{shown(output)}: cannot open the video output ({reason(exc)})") from exc
        self._stream: av.VideoStream | None = None
        self._time_base = Fraction(1)
        self._size = (0, 0)
        self._last_pts: int | None = None
        self._last_pixels: Pixels | None = None
        self._last_picture: av.VideoFrame | None = None
        self.frames_written = 0

    @property
    def pixel_format(self) -> str:
        return self._video.pixel_format

    def _open_stream(self, frame: Frame) -> av.VideoStream:
        fps = self._info.fps or DEFAULT_FPS
        stream = self._container.add_stream(self._video.codec, rate=fps)
        width, height = frame.width, frame.height
        if self._video.pixel_format == "yuv420p":
            width, height = width + width % 2, height + height % 2
        stream.width, stream.height = width, height
        stream.pix_fmt = self._video.pixel_format
        self._time_base = frame.time_base or self._info.time_base or 1 / fps
        stream.time_base = self._time_base
        codec = stream.codec_context
        codec.time_base = self._time_base
        codec.options = {"crf": str(self._video.crf), "preset": X264_PRESET}
        codec.colorspace = _AVCOL_SPC_BT709
        codec.color_range = ColorRange.MPEG
        codec.color_primaries = ColorPrimaries.BT709
        codec.color_trc = ColorTrc.BT709
        self._size = (frame.width, frame.height)
        return stream

    def _pts(self, frame: Frame) -> int:
        if frame.pts is None or frame.time_base is None:
            pts = round(frame.index / ((self._info.fps or DEFAULT_FPS) * self._time_base))
        else:
            pts = round(frame.pts * frame.time_base / self._time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            # Muxers refuse repeated pts (seen in damaged inputs); nudge by one tick to keep every frame.
            pts = self._last_pts + 1
        self._last_pts = pts
        return pts

    def _picture(self, pixels: Pixels, stream: av.VideoStream) -> av.VideoFrame:
        name = shown(self._staging.final)
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise OutputError(
                f"{name}: frames must be H x W x 3 uint8 RGB, got {pixels.dtype} {pixels.shape}"
            )
        if (pixels.shape[1], pixels.shape[0]) != self._size:
            raise OutputError(
                f"{name}: frame size {pixels.shape[1]}x{pixels.shape[0]} differs from the first frame's "
                f"{self._size[0]}x{self._size[1]}"
            )
        pad_w, pad_h = stream.width - pixels.shape[1], stream.height - pixels.shape[0]
        if pad_w or pad_h:
            pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
        return picture.reformat(
            format=self._video.pixel_format, dst_colorspace="itu709", dst_color_range=ColorRange.MPEG
        )

    def write(self, frame: Frame, pixels: Pixels) -> None:
        """Encode `pixels` as `frame`'s picture. The same read-only array handed over again (a
        still screen from the pool's spool, a frame masked whole) is converted once; a writable
        array is converted every time, as it may have changed in place."""
        name = shown(self._staging.final)
        try:
            if not self._staging.active:
                raise OutputError(f"{name}: output was already finished or aborted")
            stream = self._stream or self._open_stream(frame)
            self._stream = stream
            if pixels is not self._last_pixels or self._last_picture is None or pixels.flags.writeable:
                # A still screen may hand over the very same read-only array: converted once (the
                # encoder keeps its own reference to what it was sent; only the timestamp changes).
                self._last_picture, self._last_pixels = self._picture(pixels, stream), pixels
            picture = self._last_picture
            picture.pts, picture.time_base = self._pts(frame), self._time_base
            for packet in stream.encode(picture):
                self._container.mux(packet)
        except OutputError:
            self.abort()
            raise
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"{name}: could not write frame {frame.index} ({reason(exc)})") from exc
        self.frames_written += 1

    def close(self) -> Path:
        return self.finish(self._staging.final)

    def close_partial(self) -> Path:
        return self.finish(partial_path(self._staging.final))

    def finish(self, target: Path) -> Path:
        if not self._staging.active:
            raise OutputError(f"{shown(target)}: output was already finished or aborted")
        if self._stream is None:
            self.abort()
            raise OutputError(f"{shown(target)}: no frame was written")
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"{shown(target)}: could not finish the video ({reason(exc)})") from exc
        return self._staging.commit(target)

    def abort(self) -> None:
        try:
            self._container.close()
        except (av.FFmpegError, OSError):
            log.debug("closing an aborted video output failed; removing it anyway")
        self._staging.discard()
