"""Sources of frames (video file, image, folder of images) and sinks for redacted output."""

from veil.capture.base import FrameSink, FrameSource, SourceInfo
from veil.capture.open import (
    SUPPORTED_EXTENSIONS,
    default_output_path,
    open_sink,
    open_source,
    partial_output_path,
)

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "FrameSink",
    "FrameSource",
    "SourceInfo",
    "default_output_path",
    "open_sink",
    "open_source",
    "partial_output_path",
]
