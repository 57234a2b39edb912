"""Vertical scroll detection inside a changed region.

A band of the current frame is matched against the previous frame in the same columns; the shift
is accepted only if, after compensating it, nearly every pixel of the overlap agrees. Content that
merely shifted then keeps its OCR lines and findings (moved by the shift) instead of being re-read.
"""

from __future__ import annotations

import cv2
import numpy as np

from veil.models import Box, Pixels
from veil.track.diff import DIFF_THRESHOLD

MIN_REGION_HEIGHT = 120
AGREEMENT = 0.995  # share of overlap pixels that must match after compensation


def _gray(pixels: Pixels, region: Box) -> np.ndarray:
    crop = pixels[region.y : region.y2, region.x : region.x2]
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY))


def detect_shift(prev: Pixels, cur: Pixels, region: Box) -> int | None:
    """dy such that cur[y] == prev[y + dy] inside `region` (dy > 0: content moved up), or None."""
    if region.h < MIN_REGION_HEIGHT or region.w < 32:
        return None
    before, after = _gray(prev, region), _gray(cur, region)
    band_h = max(region.h // 4, 24)
    best: tuple[float, int] | None = None
    for top in (region.h // 2 - band_h // 2, region.h // 5, region.h - region.h // 5 - band_h):
        band = after[top : top + band_h]
        if float(band.std()) < 8.0:  # a blank band matches anywhere
            continue
        scores = cv2.matchTemplate(before, band, cv2.TM_SQDIFF_NORMED)
        _, _, (_, y), _ = cv2.minMaxLoc(scores)
        dy = int(y) - top
        if dy != 0 and _agrees(before, after, dy) and (best is None or abs(dy) < best[0]):
            best = (abs(dy), dy)
    return None if best is None else best[1]


def _agrees(before: np.ndarray, after: np.ndarray, dy: int) -> bool:
    height = after.shape[0]
    if abs(dy) >= height - 16:
        return False
    if dy > 0:
        a, b = after[: height - dy], before[dy:]
    else:
        a, b = after[-dy:], before[: height + dy]
    close = np.abs(a.astype(np.int16) - b.astype(np.int16)) <= DIFF_THRESHOLD
    # Rows that are uniform in both (blank gaps) say nothing; judge on the textured part.
    return float(close.mean()) >= AGREEMENT


def shifted(prev: Pixels, region: Box, dy: int) -> Pixels:
    """`prev` with the content of `region` moved by dy. The exposed strip keeps stale pixels: the
    caller must treat `exposed_strip(region, dy)` as changed whatever the pixels say."""
    out = prev.copy()
    src = prev[region.y : region.y2, region.x : region.x2]
    dst = out[region.y : region.y2, region.x : region.x2]
    if dy > 0:
        dst[: region.h - dy] = src[dy:]
    else:
        dst[-dy:] = src[: region.h + dy]
    return out


def exposed_strip(region: Box, dy: int) -> Box:
    """The rows of `region` that scrolled into view and have no counterpart in the previous frame."""
    if dy > 0:
        return Box(region.x, region.y2 - dy, region.w, dy)
    return Box(region.x, region.y, region.w, -dy)
