"""Helpers shared by the OCR engines: input checks and per-character box geometry."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

from veil.exceptions import EngineError
from veil.models import Box, Pixels

_CHANNELS = 3


def check_pixels(pixels: object) -> Pixels:
    """`pixels` as an H x W x 3 uint8 array, or EngineError naming what is wrong (never content)."""
    if not isinstance(pixels, np.ndarray):
        raise EngineError(f"OCR input must be a numpy array, got {type(pixels).__name__}")
    if pixels.dtype != np.uint8:
        raise EngineError(f"OCR input must be uint8, got {pixels.dtype}")
    if pixels.ndim != 3 or pixels.shape[2] != _CHANNELS:
        raise EngineError(f"OCR input must be H x W x 3 (RGB), got shape {tuple(pixels.shape)}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise EngineError(f"OCR input has zero size: shape {tuple(pixels.shape)}")
    return pixels


def char_weight(char: str) -> float:
    """Relative advance of a character: full-width (CJK, Hangul, kana) ~2x a Latin one."""
    if char.isspace():
        return 0.6
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2.0
    return 1.0


def split_proportionally(text: str, box: Box) -> tuple[Box, ...]:
    """One box per character of `text`, cutting `box` by each character's relative advance."""
    if not text:
        return ()
    weights = [char_weight(c) for c in text]
    total = sum(weights)
    edges = [box.x + box.w * sum(weights[:i]) / total for i in range(len(text) + 1)]
    return tuple(_span(edges[i], edges[i + 1], box) for i in range(len(text)))


def boxes_from_centers(centers: Sequence[float], box: Box) -> tuple[Box, ...]:
    """Character boxes that tile `box` horizontally, cut halfway between neighbouring centres.

    Tiling (no gaps) is deliberate: a redaction built from these boxes must not leave slivers of a
    value visible between two characters.
    """
    n = len(centers)
    if n == 0:
        return ()
    if n == 1:
        return (box,)
    cuts = [(centers[i] + centers[i + 1]) / 2 for i in range(n - 1)]
    left = max(float(box.x), centers[0] - (cuts[0] - centers[0]))
    right = min(float(box.x2), centers[-1] + (centers[-1] - cuts[-1]))
    edges = [left, *cuts, right]
    return tuple(_span(edges[i], edges[i + 1], box) for i in range(n))


def interpolate_centers(text: str, known: Sequence[float]) -> list[float]:
    """Centres for every character of `text` given centres of its non-space characters only.

    Spaces get the midpoint of their neighbours (the recogniser reports no position for them).
    """
    if len(known) != sum(1 for c in text if not c.isspace()):
        raise EngineError("OCR character positions do not match the recognised text length")
    out: list[float | None] = []
    it = iter(known)
    for c in text:
        out.append(None if c.isspace() else next(it))
    return _fill_gaps(out)


def _fill_gaps(values: list[float | None]) -> list[float]:
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return [0.0] * len(values)
    result: list[float] = []
    for i, v in enumerate(values):
        if v is not None:
            result.append(v)
            continue
        before = [(j, w) for j, w in known if j < i]
        after = [(j, w) for j, w in known if j > i]
        if before and after:
            (j0, w0), (j1, w1) = before[-1], after[0]
            result.append(w0 + (w1 - w0) * (i - j0) / (j1 - j0))
        else:
            result.append((before[-1] if before else after[0])[1])
    return result


def _span(x0: float, x1: float, box: Box) -> Box:
    left, right = int(np.floor(x0)), int(np.ceil(x1))
    return Box(left, box.y, max(right - left, 0), box.h)
