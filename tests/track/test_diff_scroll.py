"""Dirty regions, re-read rectangles and scroll detection on synthetic screens."""

from __future__ import annotations

import numpy as np
import pytest

from veil.models import Box
from veil.track.diff import changed_mask, dirty_boxes, regions, spans_of
from veil.track.scroll import detect_shift, exposed_strip, shifted


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
    line_boxes = [Box(10, 100, 300, 20), Box(10, 121, 300, 20), Box(900, 100, 200, 20)]
    rects = regions([Box(50, 110, 5, 3)], line_boxes, width=1920, height=400, margin=2)
    # Grown to line 1, which then touches line 2; the far cell on the same row is not read.
    assert rects == [Box(8, 98, 304, 45)]
    far = regions([Box(0, 10, 5, 5), Box(600, 300, 5, 5)], [], width=1920, height=400, margin=2)
    assert far == [Box(0, 8, 10, 9), Box(595, 298, 15, 9)]  # no line: the change and a margin
    assert spans_of([*rects, *far, Box(0, 100, 5, 60)]) == [(8, 17), (98, 160), (298, 307)]


def test_a_typed_character_reaches_the_value_it_extends() -> None:
    """The first character typed past a value's end is a change one glyph wide: the rectangle
    reaches the value beside it, so OCR sees the whole value, never the new glyph alone."""
    value = Box(300, 140, 90, 18)
    rects = regions([Box(392, 140, 8, 18)], [value, Box(180, 140, 60, 18)], width=1920, height=1080, margin=6)
    assert len(rects) == 1 and rects[0].contains(value) and rects[0].x2 < 1000
    assert not rects[0].intersection_area(Box(180, 140, 60, 18))  # the label stays as it was read


@pytest.mark.parametrize("dy", [24, 48, -24, 72])
def test_scroll_is_detected_and_compensated(dy: int) -> None:
    page = textured(700, 400, seed=3)
    prev = page[100:500].copy()
    cur = page[100 + dy : 500 + dy].copy()
    region = Box(0, 0, 400, 400)
    assert detect_shift(prev, cur, region) == dy
    compensated = shifted(prev, region, dy)
    mask = changed_mask(compensated, cur)
    strip = exposed_strip(region, dy)
    outside = mask.copy()
    outside[strip.y : strip.y2, strip.x : strip.x2] = False
    assert not outside.any()  # after compensation only the exposed strip may differ


def test_unrelated_change_is_not_a_scroll() -> None:
    prev = textured(400, 400, seed=3)
    cur = textured(400, 400, seed=9)
    assert detect_shift(prev, cur, Box(0, 0, 400, 400)) is None
