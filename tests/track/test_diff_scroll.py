"""Dirty regions, bands and scroll detection on synthetic screens."""

from __future__ import annotations

import numpy as np
import pytest

from veil.models import Box
from veil.track.diff import bands, changed_mask, dirty_boxes
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


def test_bands_grow_to_whole_lines_and_merge() -> None:
    line_boxes = [Box(10, 100, 300, 20), Box(10, 121, 300, 20)]
    spans = bands([Box(50, 110, 5, 3)], line_boxes, height=400, margin=2)
    assert spans == [(98, 143)]  # grown to line 1, which then touches line 2
    far = bands([Box(0, 10, 5, 5), Box(0, 300, 5, 5)], [], height=400, margin=2)
    assert far == [(8, 17), (298, 307)]


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
