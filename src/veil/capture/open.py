"""Choose a source or sink for a path. The kind is chosen by content, not only by name: the extension
must be one we support, and the bytes must agree with it (a PNG named `.mp4` is refused with a hint
rather than silently written back under the wrong name)."""

from __future__ import annotations

from pathlib import Path

from veil.capture._staging import partial_path
from veil.capture.base import FrameSink, FrameSource, SourceInfo
from veil.capture.image import (
    IMAGE_EXTENSIONS,
    FolderSink,
    FolderSource,
    ImageSink,
    ImageSource,
    is_image_name,
)
from veil.capture.video import VIDEO_EXTENSIONS, VideoSink, VideoSource
from veil.exceptions import InputError, OutputError
from veil.names import shown
from veil.options import VideoOptions

SUPPORTED_EXTENSIONS = tuple(sorted(IMAGE_EXTENSIONS | VIDEO_EXTENSIONS))
# WebM holds only VP8/VP9/AV1; our encoder is H.264, so WebM input becomes Matroska output.
_OUTPUT_EXTENSION = {".webm": ".mkv"}
_SNIFF_BYTES = 16


def _sniff_image(head: bytes) -> str | None:
    """The image format the first bytes announce, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_SNIFF_BYTES)
    except OSError as exc:
        what = "permission denied" if isinstance(exc, PermissionError) else type(exc).__name__
        raise InputError(f"{shown(path)}: cannot read the file ({what})") from exc


def open_source(path: Path, video: VideoOptions) -> FrameSource:
    """A source for a video file, one image, or a folder of images; `InputError` if it cannot be one."""
    if path.is_dir():
        return FolderSource(path, video)
    if not path.exists():
        raise InputError(f"{shown(path)}: no such file or folder")
    if not path.is_file():
        raise InputError(f"{shown(path)}: not a regular file or folder")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        kind = suffix or "(none)"
        raise InputError(
            f"{shown(path)}: unsupported file type {kind} (supported: {', '.join(SUPPORTED_EXTENSIONS)})"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{shown(path)}: the file is empty (0 bytes)")
    image_format = _sniff_image(_read_head(path))
    if suffix in VIDEO_EXTENSIONS:
        if image_format is not None:
            raise InputError(f"{shown(path)}: the content is a {image_format} image, not a {suffix} video")
        return VideoSource(path, video)
    return ImageSource(path, video)


def default_output_path(input: Path) -> Path:
    """`<name>_redacted.<ext>` next to the input; a folder gives `<name>_redacted/`; WebM gives `.mkv`."""
    if input.is_dir():
        folder = input.resolve()
        return folder.with_name(f"{shown(folder)}_redacted")
    suffix = _OUTPUT_EXTENSION.get(input.suffix.lower(), input.suffix)
    return input.with_name(f"{input.stem}_redacted{suffix}")


def partial_output_path(output: Path) -> Path:
    """Where `FrameSink.close_partial()` puts output cut short by bad input: `<stem>.partial<suffix>`."""
    return partial_path(output)


def _same_file(a: Path, b: Path) -> bool:
    if a.absolute() == b.absolute():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def open_sink(info: SourceInfo, output: Path, video: VideoOptions, workdir: Path | None = None) -> FrameSink:
    """A sink of the same kind as the source, writing in `workdir` (the run's private folder beside
    `output`; one of its own when None) until `close()` or `finish()`."""
    if _same_file(output, info.path):
        raise OutputError(f"{shown(output)}: the output would overwrite the input")
    if info.kind == "video":
        return VideoSink(info, output, video, workdir)
    if info.kind == "image":
        if not is_image_name(output):
            raise OutputError(f"{shown(output)}: an image input needs a .png, .jpg, .jpeg or .webp output")
        return ImageSink(output, workdir)
    if info.kind == "folder":
        return FolderSink(output, workdir)
    raise OutputError(f"{shown(output)}: unknown source kind '{info.kind}'")
