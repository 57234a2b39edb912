"""Dirty regions between two frames, and the rectangles OCR re-reads.

The threshold sits above the noise a high-quality H.264 round trip leaves on a still screen
(measured: max channel difference <= 6 at CRF 12 yuv444p) and far below the contrast of text, a
cursor or a selection highlight.
"""

from __future__ import annotations

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
    everything between them."""
    grown = [ln.grow(2).clip(width, height) for ln in lines]
    sides = [*(max(margin, min(b.h, MAX_SIDE_GROWTH)) for b in boxes), *(margin for _ in marked)]
    rects: list[Box] = []
    for b, side in zip([*boxes, *marked], sides, strict=True):
        rect = Box(b.x - side, b.y - margin, b.w + 2 * side, b.h + 2 * margin).clip(width, height)
        for ln, box in zip(lines, grown, strict=True):
            if b.intersection_area(ln):  # its pixels changed
                rect = rect.union(box)
        rects.append(rect)
    return grow_and_merge(rects, grown, lambda rect, i: reaches(rect, lines[i]))


def grow_and_merge(
    rects: Sequence[Box], targets: Sequence[Box], pulls: Callable[[Box, int], bool]
) -> list[Box]:
    """Grow each rectangle to every box of `targets` it pulls in (`pulls(rect, index)`) and merge
    rectangles that meet, until nothing changes."""
    out = list(rects)
    changed = True
    while changed:
        changed = False
        merged: list[Box] = []
        for start in sorted(out, key=lambda r: (r.y, r.x)):
            rect = start
            for i, box in enumerate(targets):
                if pulls(rect, i) and not rect.contains(box):
                    rect, changed = rect.union(box), True
            for i, other in enumerate(merged):
                if other.intersection_area(rect):
                    merged[i], changed = other.union(rect), True
                    break
            else:
                merged.append(rect)
        out = merged
    return out
