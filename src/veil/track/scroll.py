"""Scroll detection inside a changed region: content moved up or down (dy) or sideways (dx).

Screens scroll along one axis per step, so a region is tried for a vertical shift, then for a
horizontal one. Vertically, a band of rows of the current frame is matched against the previous
frame in the same columns; horizontally, a tile of the current frame is matched against the
previous frame in the same rows (a one-row search: a few ms on a full HD frame). Either shift is
accepted only if, after compensating it, nearly every pixel of the overlap agrees. Content that
merely shifted then keeps its OCR lines and findings (moved by the shift) instead of being re-read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import cv2
import numpy as np

from veil.models import Box, Pixels
from veil.track.diff import DIFF_THRESHOLD

MIN_REGION_HEIGHT = 120
MIN_REGION_WIDTH = 120  # for a horizontal shift
AGREEMENT = 0.995  # share of overlap pixels that must match after compensation
MAX_TILE_HEIGHT = 96  # rows of a horizontal probe: enough text to be unique, cheap to match


class Shift(NamedTuple):
    """cur[y, x] == prev[y + dy, x + dx] inside a region: dy > 0 when the content moved up
    (scrolled down), dx > 0 when it moved left (scrolled right). One of the two is 0."""

    dx: int
    dy: int


def _gray(pixels: Pixels, region: Box) -> np.ndarray:
    crop = pixels[region.y : region.y2, region.x : region.x2]
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY))


def detect_shift(prev: Pixels, cur: Pixels, region: Box) -> Shift | None:
    """The shift that turns `prev` into `cur` inside `region` (see `Shift`), or None."""
    if region.h < MIN_REGION_HEIGHT or region.w < 32:
        return None
    before, after = _gray(prev, region), _gray(cur, region)
    found = _smallest_agreeing(before, after, _vertical_candidates(before, after))
    return found if found is not None else _horizontal_shift(before, after)


def _horizontal_shift(before: np.ndarray, after: np.ndarray) -> Shift | None:
    # Columns that did not change (a frozen first column the region was grown over) would fail
    # the agreement of a sideways shift: they are left out of the match, and the caller's
    # compensated diff re-reads them.
    changed = np.flatnonzero((cv2.absdiff(before, after) > DIFF_THRESHOLD).any(axis=0))
    if not len(changed) or changed[-1] + 1 - changed[0] < MIN_REGION_WIDTH:
        return None
    cols = slice(int(changed[0]), int(changed[-1]) + 1)
    before, after = before[:, cols], after[:, cols]
    return _smallest_agreeing(before, after, _horizontal_candidates(before, after))


def _vertical_candidates(before: np.ndarray, after: np.ndarray) -> list[Shift]:
    """Bands of rows of `after`, each found in `before` within the same columns."""
    height = after.shape[0]
    band_h = max(height // 4, 24)
    out = []
    for top in (height // 2 - band_h // 2, height // 5, height - height // 5 - band_h):
        band = after[top : top + band_h]
        if float(band.std()) < 8.0:  # a blank band matches anywhere
            continue
        scores = cv2.matchTemplate(before, band, cv2.TM_SQDIFF_NORMED)
        _, _, (_, y), _ = cv2.minMaxLoc(scores)
        out.append(Shift(0, int(y) - top))
    return out


def _horizontal_candidates(before: np.ndarray, after: np.ndarray) -> list[Shift]:
    """The middle third of a few row bands of `after`, each found in `before` within the same rows
    (so a shift of up to a third of the region's width: a few columns of a spreadsheet)."""
    height, width = after.shape
    tile_h, tile_w = min(max(height // 8, 24), MAX_TILE_HEIGHT), width // 3
    left = width // 2 - tile_w // 2
    out = []
    for top in (height // 2 - tile_h // 2, height // 5, height - height // 5 - tile_h):
        tile = after[top : top + tile_h, left : left + tile_w]
        if float(tile.std()) < 8.0:
            continue
        scores = cv2.matchTemplate(before[top : top + tile_h], tile, cv2.TM_SQDIFF_NORMED)
        _, _, (x, _), _ = cv2.minMaxLoc(scores)
        out.append(Shift(int(x) - left, 0))
    return out


def _smallest_agreeing(before: np.ndarray, after: np.ndarray, candidates: Iterable[Shift]) -> Shift | None:
    agreeing = [s for s in candidates if s != (0, 0) and _agrees(before, after, s)]
    return min(agreeing, key=lambda s: abs(s.dx) + abs(s.dy), default=None)


def _overlap(shift: Shift, height: int, width: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """(where, where from): the part of a region that has a counterpart in the previous frame,
    and that counterpart."""

    def axis(d: int, n: int) -> tuple[slice, slice]:
        return (slice(0, n - d), slice(d, n)) if d >= 0 else (slice(-d, n), slice(0, n + d))

    (rows, rows_from), (cols, cols_from) = axis(shift.dy, height), axis(shift.dx, width)
    return (rows, cols), (rows_from, cols_from)


def _agrees(before: np.ndarray, after: np.ndarray, shift: Shift) -> bool:
    height, width = after.shape
    if abs(shift.dy) >= height - 16 or abs(shift.dx) >= width - 16:
        return False
    where, source = _overlap(shift, height, width)
    close = np.abs(after[where].astype(np.int16) - before[source].astype(np.int16)) <= DIFF_THRESHOLD
    return float(close.mean()) >= AGREEMENT


def shifted(prev: Pixels, region: Box, shift: Shift) -> Pixels:
    """`prev` with the content of `region` moved by `shift`. The exposed strip keeps stale pixels:
    the caller must treat `exposed_strip(region, shift)` as changed whatever the pixels say."""
    out = prev.copy()
    where, source = _overlap(shift, region.h, region.w)
    out[region.y : region.y2, region.x : region.x2][where] = prev[region.y : region.y2, region.x : region.x2][
        source
    ]
    return out


def exposed_strip(region: Box, shift: Shift) -> Box:
    """The rows (or columns, for a sideways shift) of `region` that scrolled into view and have no
    counterpart in the previous frame."""
    dx, dy = shift
    if dy > 0:
        return Box(region.x, region.y2 - dy, region.w, dy)
    if dy < 0:
        return Box(region.x, region.y, region.w, -dy)
    if dx > 0:
        return Box(region.x2 - dx, region.y, dx, region.h)
    return Box(region.x, region.y, -dx, region.h)
