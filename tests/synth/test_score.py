"""The scorer on hand-built frames: covered, partly covered, decoys, area outside."""

from __future__ import annotations

import numpy as np
import pytest

from veil.exceptions import InputError
from veil.models import Box
from veil.synth.score import Score, boxes_mask, fill_mask, score_boxes, score_pixels
from veil.synth.screens import TruthItem

SIZE = (200, 100)
PHONE = TruthItem("phone", "ko", Box(10, 10, 40, 10), "synthetic", False)
CARD = TruthItem("card", "en", Box(10, 40, 60, 10), "synthetic", False,
                 parts=(Box(10, 40, 25, 10), Box(45, 40, 25, 10)))  # fmt: skip
NAME = TruthItem("person_name", "ja", Box(100, 10, 30, 10), "synthetic", False)
ORDER = TruthItem("order_number", "en", Box(100, 60, 50, 10), "ORD", True)


@pytest.mark.parametrize(
    ("masked", "phone_ok", "card_ok"),
    [
        ([Box(6, 6, 48, 18)], True, False),  # phone covered with a margin
        ([Box(10, 10, 40, 10)], True, False),  # exactly covered
        ([Box(10, 10, 39, 10)], False, False),  # one column short: a leak
        ([Box(10, 10, 20, 10), Box(30, 10, 20, 10)], True, False),  # two halves add up
        ([Box(10, 40, 25, 10), Box(45, 40, 25, 10)], False, True),  # card word by word; gap needs no cover
        ([Box(10, 40, 25, 10)], False, False),  # one word of two
    ],
)
def test_whole_value_must_be_covered(masked: list[Box], phone_ok: bool, card_ok: bool) -> None:
    score = score_boxes([PHONE, CARD], masked, SIZE)
    assert score.counts("ko", "phone").redacted == int(phone_ok)
    assert score.counts("en", "card").redacted == int(card_ok)
    assert score.counts().instances == 2


def test_names_are_scored_apart_and_decoys_count() -> None:
    score = score_boxes([PHONE, NAME, ORDER], [Box(100, 10, 30, 10), Box(100, 60, 30, 10)], SIZE)
    assert score.counts().instances == 1 and score.counts().redacted == 0  # structured only
    assert score.counts(type_="person_name").redacted == 1
    assert (score.decoys, score.decoys_masked) == (1, 1)  # 60 % of the decoy covered
    assert score_boxes([ORDER], [Box(100, 60, 20, 10)], SIZE).decoys_masked == 0  # 40 %


def test_outside_area_share() -> None:
    exact = score_boxes([PHONE], [PHONE.box], SIZE)
    assert exact.outside_share == 0.0
    far = score_boxes([PHONE], [PHONE.box, Box(150, 80, 20, 20)], SIZE)
    assert far.outside_px == 400 and far.masked_px == 800
    assert far.outside_share == pytest.approx(0.5)
    margin = score_boxes([PHONE], [PHONE.box.grow(4)], SIZE)
    assert margin.outside_px == 0  # the redactor's margin is not waste


def test_scores_add_across_frames() -> None:
    a = score_boxes([PHONE], [PHONE.box], SIZE)
    b = score_boxes([PHONE, ORDER], [ORDER.box], SIZE)
    total = a + b
    assert total.counts("ko", "phone").instances == 2 and total.counts("ko", "phone").redacted == 1
    assert total.decoys_masked == 1 and total.masked_px == a.masked_px + b.masked_px
    assert Score().counts().recall != Score().counts().recall  # NaN when there is nothing


def _frame() -> np.ndarray:
    before = np.full((SIZE[1], SIZE[0], 3), 255, np.uint8)
    before[12:18, 12:48] = 0  # "ink" of the phone, same colour as the fill below
    before[42:48, 12:68] = 30
    return before


def test_pixels_solid_fill_counts_and_blur_does_not() -> None:
    before = _frame()
    filled = before.copy()
    filled[8:22, 8:52] = 0  # solid black over the phone, text pixels unchanged
    score = score_pixels([PHONE, CARD], before, filled)
    assert score.counts("ko", "phone").redacted == 1 and score.counts("en", "card").redacted == 0
    assert score.masked_px == 14 * 44

    blurred = before.copy()
    blurred[8:22, 8:52] = (before[8:22, 8:52] // 2 + 64).astype(np.uint8)  # changed, but not solid
    assert score_pixels([PHONE], before, blurred).counts().redacted == 0


def test_fill_mask_matches_boxes_mask() -> None:
    before = _frame()
    after = before.copy()
    for b in (Box(8, 8, 44, 14), Box(100, 50, 30, 30)):
        after[b.y : b.y2, b.x : b.x2] = (200, 0, 0)
    expected = boxes_mask([Box(8, 8, 44, 14), Box(100, 50, 30, 30)], SIZE)
    assert np.array_equal(fill_mask(before, after), expected)


def test_shape_mismatch_is_an_input_error() -> None:
    with pytest.raises(InputError):
        fill_mask(_frame(), _frame()[:50])
