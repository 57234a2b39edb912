"""Typed, frozen models that cross stage boundaries. None of them holds a raw personal value
except `TextLine.text` and `Frame.pixels`, which never leave the process that read them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction

import numpy as np
import numpy.typing as npt

Pixels = npt.NDArray[np.uint8]  # H x W x 3, RGB


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned pixel rectangle: x, y of the top-left corner, width and height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return max(self.w, 0) * max(self.h, 0)

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y)

    def moved(self, dx: int, dy: int) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)

    def grow(self, margin: int) -> Box:
        return Box(self.x - margin, self.y - margin, self.w + 2 * margin, self.h + 2 * margin)

    def clip(self, width: int, height: int) -> Box:
        x, y = max(self.x, 0), max(self.y, 0)
        return Box(x, y, max(min(self.x2, width) - x, 0), max(min(self.y2, height) - y, 0))

    def contains(self, other: Box) -> bool:
        return self.x <= other.x and self.y <= other.y and self.x2 >= other.x2 and self.y2 >= other.y2

    def intersection_area(self, other: Box) -> int:
        w = min(self.x2, other.x2) - max(self.x, other.x)
        h = min(self.y2, other.y2) - max(self.y, other.y)
        return max(w, 0) * max(h, 0)

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    @staticmethod
    def covering(boxes: list[Box]) -> Box:
        out = boxes[0]
        for b in boxes[1:]:
            out = out.union(b)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One decoded picture. `pts`/`time_base` are kept so video output keeps its timestamps."""

    index: int
    pixels: Pixels
    pts: int | None = None
    time_base: Fraction | None = None
    source_name: str = ""

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def seconds(self) -> float:
        if self.pts is None or self.time_base is None:
            return 0.0
        return float(self.pts * self.time_base)


@dataclass(frozen=True, slots=True)
class TextLine:
    """A line of recognised text with one pixel box per character of `text` (spaces included),
    so a finding's character span maps to exactly the pixels it covers."""

    text: str
    box: Box
    char_boxes: tuple[Box, ...]
    confidence: float
    engine: str

    def moved(self, dx: int, dy: int) -> TextLine:
        """The same line `dx`, `dy` pixels away (read in a crop, placed in the frame)."""
        chars = tuple(b.moved(dx, dy) for b in self.char_boxes)
        return replace(self, box=self.box.moved(dx, dy), char_boxes=chars)

    def span_boxes(self, start: int, end: int) -> list[Box]:
        """Boxes of characters [start, end), merged into one box (a span lies on one line)."""
        chars = [b for b in self.char_boxes[start:end] if b.area > 0]
        if not chars:
            return [self.box]
        covering = Box.covering(chars)
        # Keep the full line height: OCR character boxes hug glyphs, descenders must go too.
        top, bottom = min(covering.y, self.box.y), max(covering.y2, self.box.y2)
        # Recognisers place a span's first and last characters less exactly than its middle
        # (CTC positions): reach a quarter of the line height further on each side.
        pad = max((bottom - top) // 4, 2)
        left = max(covering.x - pad, min(covering.x, self.box.x))
        right = min(covering.x2 + pad, max(covering.x2, self.box.x2))
        # A span that starts (ends) the line takes the line's edge too: a glyph the OCR dropped
        # there (a "〒" before a postcode) is part of the value's ink.
        if not self.text[:start].strip():
            left = min(left, self.box.x)
        if not self.text[end:].strip():
            right = max(right, self.box.x2)
        return [Box(left, top, right - left, bottom - top)]


@dataclass(frozen=True, slots=True)
class TextSpan:
    """A detector's match in a string: character offsets and what it is, never the value."""

    start: int
    end: int
    type: str
    score: float
    recognizer: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A personal value located on a frame: type, boxes, who found it, and a keyed hash for
    linking the same value across frames (HMAC-SHA256 with a key that never leaves the host)."""

    type: str
    boxes: tuple[Box, ...]
    recognizer: str
    score: float
    value_hmac: str
    frame_index: int = -1
    script: str = "latin"  # latin | hangul | kana: the script of the value, for pseudonym labels


class MaskReason(StrEnum):
    OCR_FAILED = "ocr-failed"
    OCR_TIMEOUT = "ocr-timeout"
    DETECTOR_FAILED = "detector-failed"
    UNREADABLE_FRAME = "unreadable-frame"
    VERIFIER_FOUND = "verifier-found-residual"
    VERIFIER_FAILED = "verifier-failed"
    POLICY_DENIED = "policy-denied-window"
    REDACTOR_FAILED = "redactor-failed"
    WORKER_FAILED = "worker-failed"  # the worker process reading this frame died


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What happened to one frame; this, not the pixels, goes into reports."""

    index: int
    seconds: float
    findings: tuple[Finding, ...]
    masked_whole: bool = False
    mask_reason: MaskReason | None = None
    verifier_findings: tuple[Finding, ...] = field(default=())
    verified: bool = False
