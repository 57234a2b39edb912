"""Still images through Pillow: one image, or a folder of images, in and out.

Sizes are checked from the header before any pixel is decoded. Outputs are written fresh from the
pixels, so no metadata of the input (EXIF, GPS, author, ICC comments) is carried over."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from veil.capture._staging import Staging, partial_path, reason
from veil.capture.base import FrameSink, FrameSource, SourceInfo, Wanted
from veil.exceptions import InputError, OutputError
from veil.models import Frame, Pixels
from veil.names import shown, shown_name
from veil.options import VideoOptions

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp"})
_PIL_FORMATS = ("PNG", "JPEG", "WEBP")
# Pillow raises these (besides OSError) on damaged data; none carries pixel content.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)

# JPEG keeps full-resolution chroma (subsampling=0) so 1-px coloured strokes stay legible.
_SAVE_ARGS: dict[str, tuple[str, dict[str, Any]]] = {
    ".png": ("PNG", {"compress_level": 6}),
    ".jpg": ("JPEG", {"quality": 95, "subsampling": 0}),
    ".jpeg": ("JPEG", {"quality": 95, "subsampling": 0}),
    ".webp": ("WEBP", {"lossless": True, "quality": 100, "method": 4}),
}


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _open_header(path: Path, video: VideoOptions) -> Image.Image:
    """Open lazily (header only) and refuse oversized or animated images before decoding pixels."""
    try:
        with warnings.catch_warnings():
            # Our own limit below replaces Pillow's warning; its hard DecompressionBombError still applies.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=_PIL_FORMATS)
    except Image.DecompressionBombError as exc:
        raise InputError(f"{shown(path)}: image is too large to process safely") from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"{shown(path)}: not a readable PNG, JPEG or WebP image") from exc
    except PermissionError as exc:
        raise InputError(f"{shown(path)}: cannot read the file (permission denied)") from exc
    except _DECODE_ERRORS as exc:
        raise InputError(f"{shown(path)}: image header is damaged ({type(exc).__name__})") from exc
    width, height = image.size
    if width * height > video.max_frame_pixels:
        image.close()
        raise InputError(
            f"{shown(path)}: image is {width}x{height}, over the limit of {video.max_frame_pixels} pixels"
        )
    if getattr(image, "n_frames", 1) > 1:
        image.close()
        raise InputError(f"{shown(path)}: animated images are not supported")
    return image


def _decode(path: Path, video: VideoOptions, index: int) -> Pixels:
    image = _open_header(path, video)
    try:
        with image:
            # Apply the EXIF rotation so text is upright for OCR; the output is then saved upright too.
            upright = ImageOps.exif_transpose(image)
            return np.asarray(upright.convert("RGB"), dtype=np.uint8).copy()
    except _DECODE_ERRORS as exc:
        raise InputError(
            f"{shown(path)}: image data is damaged or truncated (frame {index}, {type(exc).__name__})"
        ) from exc


def _info_for(kind: str, path: Path, first: Path, count: int, video: VideoOptions) -> SourceInfo:
    image = _open_header(first, video)
    image.close()
    width, height = image.size
    return SourceInfo(kind=kind, path=path, frame_count=count, width=width, height=height)


class ImageSource(FrameSource):
    """One still image: a single frame with no timestamp."""

    def __init__(self, path: Path, video: VideoOptions) -> None:
        self._video = video
        self.info = _info_for("image", path, path, 1, video)

    def frames(self, wanted: Wanted | None = None) -> Iterator[Frame]:
        path = self.info.path
        yield Frame(index=0, pixels=_decode(path, self._video, 0), source_name=path.name)


def list_images(folder: Path) -> list[Path]:
    """Image files of `folder`, sorted by name; other files, sub-folders and hidden files are ignored
    (hidden names include our own `.partial` outputs)."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(
                e.name
                for e in entries
                if not e.name.startswith(".") and e.is_file() and is_image_name(Path(e.name))
            )
    except OSError as exc:
        raise InputError(f"{shown(folder)}: cannot read the folder ({reason(exc)})") from exc
    return [folder / name for name in names]


class FolderSource(FrameSource):
    """A folder of images, one frame per image in name order. Every header is checked up front so a
    bad or oversized image stops the run before any output is written."""

    def __init__(self, folder: Path, video: VideoOptions) -> None:
        self._video = video
        self._files = list_images(folder)
        if not self._files:
            raise InputError(f"{shown(folder)}: the folder holds no PNG, JPEG or WebP image")
        for path in self._files[1:]:
            _open_header(path, video).close()
        self.info = _info_for("folder", folder, self._files[0], len(self._files), video)

    def frames(self, wanted: Wanted | None = None) -> Iterator[Frame]:
        for index, path in enumerate(self._files):
            yield Frame(index=index, pixels=_decode(path, self._video, index), source_name=path.name)


def _save(pixels: Pixels, target: Path, name: str) -> None:
    """Save RGB pixels to `target` in the format that `name`'s extension asks for."""
    fmt, args = _SAVE_ARGS[Path(name).suffix.lower()]
    try:
        Image.fromarray(np.ascontiguousarray(pixels), mode="RGB").save(target, format=fmt, **args)
    except OSError as exc:
        raise OutputError(f"{shown_name(name)}: could not write the image ({reason(exc)})") from exc


def _check_pixels(pixels: Pixels, name: str) -> None:
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise OutputError(
            f"{shown_name(name)}: frames must be H x W x 3 uint8 RGB, got {pixels.dtype} {pixels.shape}"
        )


class ImageSink(FrameSink):
    """One image, in the format of the output's extension (PNG and WebP lossless, JPEG quality 95)."""

    def __init__(self, output: Path, workdir: Path | None = None) -> None:
        if output.suffix.lower() not in _SAVE_ARGS:
            raise OutputError(f"{shown(output)}: an image output must end in .png, .jpg, .jpeg or .webp")
        self._staging = Staging(output, workdir=workdir)
        self._written = False

    def write(self, frame: Frame, pixels: Pixels) -> None:
        name = self._staging.final.name
        try:
            if self._written:
                raise OutputError(f"{shown_name(name)}: an image output takes exactly one frame")
            _check_pixels(pixels, name)
            _save(pixels, self._staging.path, name)
        except OutputError:
            self.abort()
            raise
        self._written = True

    def close(self) -> Path:
        return self.finish(self._staging.final)

    def close_partial(self) -> Path:
        return self.finish(partial_path(self._staging.final))

    def finish(self, target: Path) -> Path:
        if not self._written:
            self.abort()
            raise OutputError(f"{shown(target)}: no frame was written")
        return self._staging.commit(target)

    def abort(self) -> None:
        self._staging.discard()


class FolderSink(FrameSink):
    """Images named like their source files, in a folder that appears complete or not at all."""

    def __init__(self, output: Path, workdir: Path | None = None) -> None:
        self._staging = Staging(output, folder=True, workdir=workdir)
        self._names: set[str] = set()

    def write(self, frame: Frame, pixels: Pixels) -> None:
        name = frame.source_name or f"frame_{frame.index:06d}.png"
        try:
            if not is_image_name(Path(name)) or Path(name).name != name:
                raise OutputError(f"{shown_name(name)}: not a plain image file name for a folder output")
            if name in self._names:
                raise OutputError(f"{shown_name(name)}: two frames would be written to the same file")
            _check_pixels(pixels, name)
            _save(pixels, self._staging.path / name, name)
        except OutputError:
            self.abort()
            raise
        self._names.add(name)

    def close(self) -> Path:
        return self.finish(self._staging.final)

    def close_partial(self) -> Path:
        return self.finish(partial_path(self._staging.final))

    def finish(self, target: Path) -> Path:
        if not self._names:
            self.abort()
            raise OutputError(f"{shown(target)}: no frame was written")
        return self._staging.commit(target)

    def abort(self) -> None:
        self._staging.discard()
