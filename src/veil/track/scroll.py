"""Scroll detection inside a changed region: content moved up or down (dy) or sideways (dx).

Screens scroll along one axis per step, so a region is tried for a vertical shift, then for a
horizontal one. Vertically, a band of rows of the current frame is matched against the previous
frame in the same columns; horizontally, a tile of the current frame is matched against the
previous frame in the same rows (a one-row search: a few ms on a full HD frame). Either shift is
accepted only if, after compensating it, nearly every pixel of the overlap agrees. Content that
merely shifted then keeps its OCR lines and findings (moved by the shift) instead of being re-read.

Real pages scroll under things that do not move: a sticky table header, a sticky first column, the
frame of a chat pane, a header row whose collapsed border scrolls away under its text.
`detect_scroll` therefore also accepts a shift that only a band of the region agrees with (the
longest run of rows, or columns, that match after the shift, most of them changed before it) and
returns that band as the region that scrolled: what lies outside it is compared unshifted by the
caller and re-read where it changed. Safety never rests on the match: the caller re-reads every
pixel that the compensated comparison does not find unchanged.
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


MATCH_COLUMN_STEP = 4  # columns of a band a vertical offset is searched with (see `_vertical_candidates`)
MIN_RUN = 96  # rows (or columns) of a band that scrolled, at least
ROW_AGREEMENT = 0.99  # share of a row's (column's) pixels that match after the shift
MIN_EXPLAINED = 0.5  # share of the band's rows that changed before the shift, at least


def detect_scroll(prev: Pixels, cur: Pixels, region: Box) -> tuple[Box, Shift] | None:
    """The part of `region` that scrolled and by how much (see `Shift`), or None. The whole region
    when it all agrees after the shift (`detect_shift`); else the longest band of it that does:
    a table scrolled under its sticky header, a grid scrolled sideways beside its sticky column."""
    if region.h < MIN_REGION_HEIGHT or region.w < 32:
        return None
    before, after = _gray(prev, region), _gray(cur, region)
    vertical = [s for s in _vertical_candidates(before, after) if s.dy]
    found = _smallest_agreeing(before, after, vertical)
    if found is None:
        found = _horizontal_shift(before, after)
    if found is not None:
        return region, found
    horizontal = [s for s in _horizontal_candidates(before, after) if s.dx]
    bands = [(s, b) for s in dict.fromkeys((*vertical, *horizontal)) if (b := _band(before, after, s))]
    if not bands:
        return None
    shift, (start, end) = max(bands, key=lambda sb: (sb[1][1] - sb[1][0], -abs(sb[0].dx) - abs(sb[0].dy)))
    if shift.dy:
        return Box(region.x, region.y + start, region.w, end - start), shift
    return Box(region.x + start, region.y, end - start, region.h), shift


def _band(before: np.ndarray, after: np.ndarray, shift: Shift) -> tuple[int, int] | None:
    """The longest run of rows (for a vertical shift; columns for a sideways one) of the region
    that agree after `shift`, grown by the strip the shift exposes, as (start, end) within the
    region; None if too short or if most of it had not changed (blank rows match any shift)."""
    height, width = after.shape
    if abs(shift.dy) >= height - 16 or abs(shift.dx) >= width - 16:
        return None
    where, source = _overlap(shift, height, width)
    axis = 1 if shift.dy else 0
    now = np.ascontiguousarray(after[where])
    close = cv2.absdiff(now, np.ascontiguousarray(before[source])) <= DIFF_THRESHOLD
    ok = close.mean(axis=axis) >= ROW_AGREEMENT
    still = cv2.absdiff(now, np.ascontiguousarray(before[where])) <= DIFF_THRESHOLD
    moved = still.mean(axis=axis) < ROW_AGREEMENT
    best, run_start = (0, 0), None
    for i, good in enumerate((*ok.tolist(), False)):
        if good and run_start is None:
            run_start = i
        elif not good and run_start is not None:
            if i - run_start > best[1] - best[0]:
                best = (run_start, i)
            run_start = None
    start, end = best
    if end - start < MIN_RUN or float(moved[start:end].mean()) < MIN_EXPLAINED:
        return None
    d = shift.dy or shift.dx
    offset = (where[0] if shift.dy else where[1]).start  # overlap rows start here in the region
    start, end = start + offset, end + offset
    return (start, end + d) if d > 0 else (start + d, end)


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
    # Every `MATCH_COLUMN_STEP`th column: a vertical offset is as well told by a quarter of a
    # band's columns (the match runs over every row), and the caller checks every candidate on
    # all pixels (`_agrees`, `_band`).
    sparse = np.ascontiguousarray(before[:, ::MATCH_COLUMN_STEP])
    out = []
    for top in (height // 2 - band_h // 2, height // 5, height - height // 5 - band_h):
        band = after[top : top + band_h]
        if float(band.std()) < 8.0:  # a blank band matches anywhere
            continue
        scores = cv2.matchTemplate(
            sparse, np.ascontiguousarray(band[:, ::MATCH_COLUMN_STEP]), cv2.TM_SQDIFF_NORMED
        )
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
    close = cv2.absdiff(np.ascontiguousarray(after[where]), np.ascontiguousarray(before[source]))
    return float((close <= DIFF_THRESHOLD).mean()) >= AGREEMENT


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
