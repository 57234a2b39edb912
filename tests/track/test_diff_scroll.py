"""Dirty regions, re-read rectangles and scroll detection on synthetic screens."""

from __future__ import annotations

import numpy as np
import pytest

from veil.models import Box
from veil.track.diff import changed_mask, dirty_boxes, reaches, regions
from veil.track.scroll import Shift, detect_shift, exposed_strip, shifted


def textured(height: int, width: int, seed: int = 1) -> np.ndarray:
    """A screen-like image: white with dark 'text' blocks on every 24-px row."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 255, np.uint8)
    for y in range(4, height - 16, 24):
        x = 10
        while x < width - 40:
            w = int(rng.integers(8, 40))
            img[y : y + 14, x : x + w] = rng.integers(0, 90)
            x += w + int(rng.integers(4, 12))
    return img


def test_identical_frames_have_no_change() -> None:
    a = textured(200, 300)
    assert not changed_mask(a, a.copy()).any()
    assert dirty_boxes(changed_mask(a, a.copy())) == []


def test_small_noise_is_not_change_but_a_typed_glyph_is() -> None:
    a = textured(200, 300)
    noisy = np.clip(a.astype(np.int16) + 5, 0, 255).astype(np.uint8)
    assert not changed_mask(a, noisy).any()
    typed = a.copy()
    typed[100:112, 150:157] = 0
    boxes = dirty_boxes(changed_mask(a, typed))
    assert len(boxes) == 1
    assert boxes[0].contains(Box(150, 100, 7, 12)) or boxes[0].intersection_area(Box(150, 100, 7, 12)) > 0


def test_regions_grow_to_whole_lines_and_merge() -> None:
    line_boxes = [Box(10, 100, 300, 20), Box(10, 112, 300, 20), Box(900, 100, 200, 20)]
    rects = regions([Box(50, 104, 5, 3)], line_boxes, width=1920, height=400, margin=2)
    # Grown to line 1, which then reaches well into line 2; the far cell on the same row is not read.
    assert rects == [Box(8, 98, 304, 36)]
    far = regions([Box(0, 10, 5, 5), Box(600, 300, 5, 5)], [], width=1920, height=400, margin=2)
    assert far == [Box(0, 8, 10, 9), Box(595, 298, 15, 9)]  # no line: the change and a margin


def test_the_rows_of_a_dense_table_do_not_pull_each_other_in() -> None:
    """Engines pad line boxes: the rows of a table overlap by a few pixels. A change in one row
    re-reads that row, not the whole column chained row by row."""
    rows = [Box(10, 100 + 26 * i, 120, 28) for i in range(30)]  # each overlaps the next by 2 px
    rects = regions([Box(40, 100 + 26 * 10 + 8, 6, 12)], rows, width=1920, height=1080, margin=6)
    assert len(rects) == 1 and rects[0].contains(rows[10])
    assert rects[0].h < 2 * 28, rects
    assert not any(reaches(rects[0], row) for i, row in enumerate(rows) if i != 10)
    # A change that does touch the next row's box re-reads that row too.
    both = regions([Box(40, 100 + 26 * 11 - 1, 6, 3)], rows, width=1920, height=1080, margin=6)
    assert both[0].contains(rows[10]) and both[0].contains(rows[11])


def test_a_typed_character_reaches_the_value_it_extends() -> None:
    """The first character typed past a value's end is a change one glyph wide: the rectangle
    reaches the value beside it, so OCR sees the whole value, never the new glyph alone."""
    value = Box(300, 140, 90, 18)
    rects = regions([Box(392, 140, 8, 18)], [value, Box(180, 140, 60, 18)], width=1920, height=1080, margin=6)
    assert len(rects) == 1 and rects[0].contains(value) and rects[0].x2 < 1000
    assert not rects[0].intersection_area(Box(180, 140, 60, 18))  # the label stays as it was read


def _view(page: np.ndarray, shift: Shift, top: int = 100, left: int = 100) -> np.ndarray:
    """The 400 x 400 window of `page` at (left, top), moved by `shift`."""
    y, x = top + shift.dy, left + shift.dx
    return page[y : y + 400, x : x + 400].copy()


@pytest.mark.parametrize(
    "shift",
    [
        Shift(0, 24),
        Shift(0, 48),
        Shift(0, -24),
        Shift(0, 72),
        Shift(30, 0),
        Shift(-7, 0),
        Shift(96, 0),
        Shift(-61, 0),
    ],
)
def test_scroll_is_detected_and_compensated(shift: Shift) -> None:
    page = textured(700, 700, seed=3)
    prev, cur = _view(page, Shift(0, 0)), _view(page, shift)
    region = Box(0, 0, 400, 400)
    assert detect_shift(prev, cur, region) == shift
    compensated = shifted(prev, region, shift)
    mask = changed_mask(compensated, cur)
    strip = exposed_strip(region, shift)
    assert strip.area == 400 * abs(shift.dx + shift.dy)  # one axis at a time
    assert mask[strip.y : strip.y2, strip.x : strip.x2].any()  # new content did come in there
    outside = mask.copy()
    outside[strip.y : strip.y2, strip.x : strip.x2] = False
    assert not outside.any()  # after compensation only the exposed strip may differ


def test_sideways_scroll_inside_a_larger_screen() -> None:
    """Only the cells of a spreadsheet scroll; what lies outside them stays, and the exposed
    columns are those at the edge the content moved away from."""
    page = textured(700, 900, seed=5)
    prev = textured(600, 800, seed=6)
    cur = prev.copy()
    region = Box(150, 120, 500, 300)
    prev[120:420, 150:650] = page[200:500, 100:600]
    cur[120:420, 150:650] = page[200:500, 58:558]  # scrolled left: content moved right by 42
    shift = detect_shift(prev, cur, region)
    assert shift == Shift(-42, 0)
    assert exposed_strip(region, shift) == Box(150, 120, 42, 300)
    mask = changed_mask(shifted(prev, region, shift), cur)
    mask[120:420, 150:192] = False
    assert not mask.any()
    # The region grown over a frozen first column (a line of it reached into the cells): the
    # columns that did not change take no part in the match, and are re-read (exposed strip).
    grown = Box(110, 120, 540, 300)
    assert detect_shift(prev, cur, grown) == Shift(-42, 0)
    assert exposed_strip(grown, shift).contains(Box(110, 120, 40, 300))


def test_unrelated_change_is_not_a_scroll() -> None:
    prev = textured(400, 400, seed=3)
    cur = textured(400, 400, seed=9)
    assert detect_shift(prev, cur, Box(0, 0, 400, 400)) is None


def test_rows_moved_by_different_amounts_are_not_a_scroll() -> None:
    """Text reflowed sideways, each half of the rows by its own amount: no single dx explains it,
    so nothing may be shifted (each half alone would pass)."""
    page = textured(700, 700, seed=3)
    prev = _view(page, Shift(0, 0))
    cur = prev.copy()
    cur[:200] = _view(page, Shift(30, 0))[:200]
    cur[200:] = _view(page, Shift(60, 0))[200:]
    assert detect_shift(prev, cur, Box(0, 0, 400, 400)) is None
    assert detect_shift(prev[:200], cur[:200], Box(0, 0, 400, 200)) == Shift(30, 0)
    assert detect_shift(prev[200:], cur[200:], Box(0, 0, 400, 200)) == Shift(60, 0)


def test_an_edit_beside_a_sideways_shift_is_not_a_scroll() -> None:
    page = textured(700, 700, seed=3)
    prev, cur = _view(page, Shift(0, 0)), _view(page, Shift(30, 0))
    cur[150:250, 50:350] = 255  # a block of rows cleared as the columns moved
    assert detect_shift(prev, cur, Box(0, 0, 400, 400)) is None


def test_a_tall_change_grows_sideways_by_a_line_at_most() -> None:
    """A column scrolled into view (640 px tall, 40 wide) is re-read with a line's margin on its
    sides, not 640 px of the screen beside it."""
    (rect,) = regions([Box(900, 200, 40, 640)], [], width=1920, height=1080, margin=6)
    assert rect.x >= 900 - 40 and rect.x2 <= 940 + 40
