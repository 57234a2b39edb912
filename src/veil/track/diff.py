"""Dirty regions between two frames, and the rectangles OCR re-reads.

The threshold sits above the noise a high-quality H.264 round trip leaves on a still screen
(measured: max channel difference <= 6 at CRF 12 yuv444p) and far below the contrast of text, a
cursor or a selection highlight.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from veil.models import Box, Pixels

DIFF_THRESHOLD = 14
DILATE_PX = 4
# A changed box grows sideways by its own height (a typed glyph reaches the text it extends), at
# most this much: a column scrolled into view is tall, not wide.
MAX_SIDE_GROWTH = 40
# Pixels of a line box's padding that a re-read rectangle may graze (vertically: a quarter of the
# line's height, for the boxes of adjacent rows overlap by their padding plus the 2 px of context
# a re-read line is given).
EDGE_SLACK = 3
# A changed or marked box taller than this (and than `TALL_LINES` of the screen's lines) is cut
# into bands at rows that hold no ink, so that a column scrolled into view grows to the lines of
# each row it crosses, not to one bounding box of all of them (on a sheet scrolled sideways, one
# wide cell would pull the whole screen in).
TALL_MIN = 96
# Rows a band holds at least: PP-OCR's detector given a crop one table row high (34 px) read an
# e-mail and the date in the next cell as one line ("…example.com09/06/2024"), and the e-mail's
# mask fell short of its end; given 60 px it read them apart.
MIN_BAND = 64
TALL_LINES = 3
# Rectangles stacked one over the other that overlap by at most this many rows are read apart:
# those rows are the padding of a line one of them holds whole (`reaches`), no ink.
SLIVER = 12


def changed_mask(prev: Pixels, cur: Pixels, threshold: int = DIFF_THRESHOLD) -> np.ndarray:
    """Boolean H x W mask of pixels whose largest channel difference exceeds `threshold`."""
    if np.array_equal(prev, cur):  # most frames of a screen recording: ~5x faster than the diff
        return np.zeros(cur.shape[:2], dtype=bool)
    diff = cv2.absdiff(prev, cur)
    c0, c1, c2 = cv2.split(diff)  # cv2.max over channels: ~8x faster than ndarray.max(axis=2)
    return np.asarray(cv2.max(cv2.max(c0, c1), c2) > threshold)


def dirty_boxes(mask: np.ndarray, dilate: int = DILATE_PX) -> list[Box]:
    """Bounding boxes of the connected changed areas (after a small dilation to join glyphs)."""
    if not mask.any():
        return []
    grown = mask.astype(np.uint8)
    if dilate:
        kernel = np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8)
        grown = np.asarray(cv2.dilate(grown, kernel), dtype=np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    return [Box(int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:count]]


def core(line: Box) -> Box:
    """A text line's box without the few pixels of padding an engine draws around the ink: the
    boxes of two rows of a dense table overlap by those pixels, and must not chain into one."""
    sx = min(EDGE_SLACK, max(line.w - 2, 0) // 2)
    sy = min(max(EDGE_SLACK, line.h // 4), max(line.h - 2, 0) // 2)
    return Box(line.x + sx, line.y + sy, line.w - 2 * sx, line.h - 2 * sy)


def reaches(rect: Box, line: Box) -> bool:
    """Whether re-reading `rect` takes in `line` (so `line` must be re-read whole): the rectangle
    meets the line beyond its padding."""
    return rect.intersection_area(core(line)) > 0


def regions(
    boxes: Sequence[Box],
    lines: Sequence[Box],
    width: int,
    height: int,
    margin: int,
    marked: Sequence[Box] = (),
    pixels: Pixels | None = None,
    cut_lines: Sequence[Box] = (),
) -> list[Box]:
    """Merge dirty boxes into the rectangles to re-read: each grown by `margin` (and sideways by
    its own height, up to `MAX_SIDE_GROWTH`, so a typed character reaches the text it extends),
    then to the whole box of every known text line whose pixels changed or that the rectangle
    `reaches`, so OCR always sees whole lines; rectangles that meet merge. A line the rectangle
    only grazes (its padding, the margin) is not re-read: the rows of a table do not pull each
    other in.
    A caret blinking in a form costs a crop of one field, not a band across the screen.
    `marked`: boxes to re-read whatever their pixels say (a strip a scroll exposed, a line it cut),
    each its own rectangle grown by `margin` only: joined with the dirty pixels into one connected
    area first, a column of cut cells and a toolbar that moved would make a bounding box over
    everything between them.
    With `pixels` (the frame the rectangles are read from), a tall box is first cut into bands
    at rows without ink (`cut_at_blank_rows`), each grown on its own; rectangles stacked with an
    overlap of at most `SLIVER` rows (a line's padding) are then not merged.
    `cut_lines`: known lines a scroll cut, re-read whole whatever their pixels say, grown
    sideways by `margin` only (their boxes hold their padding: grown taller, the lines of a
    table's rows would overlap and chain into one column)."""
    known = LineBoxes(lines, width, height)
    sides = [
        *(max(margin, min(b.h, MAX_SIDE_GROWTH)) for b in boxes),
        *(margin for _ in (*marked, *cut_lines)),
    ]
    tops = [*(margin for _ in (*boxes, *marked)), *(0 for _ in cut_lines)]
    tall = max(TALL_MIN, TALL_LINES * int(np.median([ln.h for ln in lines]))) if lines else TALL_MIN
    rects: list[Box] = []
    for b, side, top in zip([*boxes, *marked, *cut_lines], sides, tops, strict=True):
        rect = Box(b.x - side, b.y - top, b.w + 2 * side, b.h + 2 * top).clip(width, height)
        bands = cut_at_blank_rows(pixels, rect) if pixels is not None and b.h > tall else [rect]
        ink_changed = known.reached(b)  # lines whose ink changed
        rects += [known.union(band, known.reached(band) & ink_changed) for band in bands]
    merged = grow_and_merge(rects, known.pull_in, _meets_beyond_sliver if pixels is not None else None)
    return _stack_columns(merged) if pixels is not None else merged


class LineBoxes:
    """Known text lines as arrays, for the re-read rectangles' many "which lines does this reach"
    questions (a busy table holds hundreds of lines and rectangles): each line's `core` and its
    box grown by 2 px of context (what a rectangle takes in when it pulls the line)."""

    def __init__(self, lines: Sequence[Box], width: int, height: int) -> None:
        self.cores = _corners([core(ln) for ln in lines])
        self.grown = _corners([ln.grow(2).clip(width, height) for ln in lines])

    def reached(self, rect: Box) -> np.ndarray:
        """Per line: whether `rect` meets its core (see `reaches`)."""
        return _meeting(self.cores, rect)

    def union(self, rect: Box, chosen: np.ndarray) -> Box:
        """`rect` grown to the grown boxes of the `chosen` lines."""
        if not chosen.any():
            return rect
        g = self.grown[chosen]
        x, y = min(rect.x, int(g[:, 0].min())), min(rect.y, int(g[:, 1].min()))
        return Box(x, y, max(rect.x2, int(g[:, 2].max())) - x, max(rect.y2, int(g[:, 3].max())) - y)

    def outside(self, rect: Box) -> np.ndarray:
        """Per line: whether its grown box is not wholly inside `rect`."""
        x, y, x2, y2 = self.grown.T
        return np.asarray((x < rect.x) | (y < rect.y) | (x2 > rect.x2) | (y2 > rect.y2), dtype=bool)

    def pull_in(self, rect: Box) -> Box:
        """`rect` grown to every line it `reaches`, and to the lines those bring in reach."""
        while (pull := self.reached(rect) & self.outside(rect)).any():
            rect = self.union(rect, pull)
        return rect


def _corners(boxes: Sequence[Box]) -> np.ndarray:
    return np.array([(b.x, b.y, b.x2, b.y2) for b in boxes], dtype=np.int64).reshape(-1, 4)


def _meeting(corners: np.ndarray, rect: Box) -> np.ndarray:
    """Per box (rows of x, y, x2, y2): whether it overlaps `rect` by a pixel at least."""
    x, y, x2, y2 = corners.T
    across = np.minimum(x2, rect.x2) > np.maximum(x, rect.x)
    return np.asarray(across & (np.minimum(y2, rect.y2) > np.maximum(y, rect.y)), dtype=bool)


def reached_lines(rects: Sequence[Box], lines: Sequence[Box]) -> list[bool]:
    """Per line: whether re-reading `rects` re-reads it (a rectangle `reaches` it)."""
    if not lines or not rects:
        return [False] * len(lines)
    cores = _corners([core(ln) for ln in lines])
    hit = np.zeros(len(lines), bool)
    for rect in rects:
        hit |= _meeting(cores, rect)
    return [bool(v) for v in hit]


def cut_at_blank_rows(pixels: Pixels, rect: Box) -> list[Box]:
    """`rect` cut in the middle of every run of blank rows: rows whose every pixel is its column's
    usual colour (the column's median over the rectangle, up to `DIFF_THRESHOLD`), so a grid's
    vertical borders and a zebra table's stripes are background while any glyph is not. No ink
    lies on a cut: each band holds its text lines whole. Bands are `MIN_BAND` tall at least."""
    crop = pixels[rect.y : rect.y2, rect.x : rect.x2]
    if crop.size == 0:
        return [rect]
    usual = np.median(crop, axis=0).astype(np.int16)
    blank = np.abs(crop.astype(np.int16) - usual).max(axis=(1, 2)) <= DIFF_THRESHOLD
    cuts: list[int] = []
    y = 0
    while y < len(blank):
        if not blank[y]:
            y += 1
            continue
        start = y
        while y < len(blank) and blank[y]:
            y += 1
        cut = (start + y) // 2
        # Blank rows between ink, not at the rectangle's ends; bands at least `MIN_BAND` tall.
        if start > 0 and y < len(blank) and cut - (cuts[-1] if cuts else 0) >= MIN_BAND:
            cuts.append(cut)
    if cuts and rect.h - cuts[-1] < MIN_BAND:
        cuts.pop()  # the last band joins the one above it
    edges = [0, *cuts, rect.h]
    return [Box(rect.x, rect.y + a, rect.w, b - a) for a, b in itertools.pairwise(edges) if b > a]


def _meets_beyond_sliver(a: Box, b: Box) -> bool:
    """Whether two rectangles must be read as one: they overlap, and not only by a few rows of
    the padding of a line one of them holds (one above the other)."""
    w = min(a.x2, b.x2) - max(a.x, b.x)
    h = min(a.y2, b.y2) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return False
    stacked = (a.y < b.y and a.y2 < b.y2) or (b.y < a.y and b.y2 < a.y2)
    return not (stacked and h <= SLIVER)


def _stack_columns(rects: list[Box]) -> list[Box]:
    """Bands of one column left as they were cut (same left and right edges, touching or
    overlapping) joined again: one crop, no area added."""
    out: list[Box] = []
    for rect in sorted(rects, key=lambda r: (r.x, r.x2, r.y)):
        last = out[-1] if out else None
        if last is not None and (last.x, last.x2) == (rect.x, rect.x2) and rect.y <= last.y2:
            out[-1] = last.union(rect)
        else:
            out.append(rect)
    return out


def grow_and_merge(
    rects: Sequence[Box],
    grow: Callable[[Box], Box],
    meets: Callable[[Box, Box], bool] | None = None,
) -> list[Box]:
    """Grow each rectangle (`grow`: to what it pulls in) and merge rectangles that meet (overlap,
    or `meets`), until nothing changes."""
    out = list(rects)
    changed = True
    while changed:
        changed = False
        merged: list[Box] = []
        for start in sorted(out, key=lambda r: (r.y, r.x)):
            rect = grow(start)
            changed |= rect != start
            for i, other in enumerate(merged):
                if meets(other, rect) if meets is not None else other.intersection_area(rect):
                    merged[i], changed = other.union(rect), True
                    break
            else:
                merged.append(rect)
        out = merged
    return out
