"""Scores a redaction against the ground truth, independently of the redactor.

A personal value counts as redacted only if its WHOLE box is covered (precisely: the whole ink box
of each of its glyph runs, `TruthItem.parts`, since the blank between two words shows nothing): by
the masked boxes, or,
from before/after pixels, by a solid fill (a connected region where the after-image changed, holes
included, painted in one colour). A decoy counts as masked when at least half of its box is
covered: it has then lost its use to the reader. Masked area outside personal data is the covered
area farther than `tolerance_px` from any personal value's box (the redactor's margin is not waste),
as a share of all covered area.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from veil.exceptions import InputError
from veil.models import Box, Pixels
from veil.synth.fakedata import NAME_TYPE, STRUCTURED_TYPES
from veil.synth.screens import TruthItem

Mask = npt.NDArray[np.bool_]
DECOY_MASKED_SHARE = 0.5
DEFAULT_TOLERANCE_PX = 8


@dataclass(frozen=True, slots=True)
class Counts:
    instances: int = 0
    redacted: int = 0

    @property
    def recall(self) -> float:
        return self.redacted / self.instances if self.instances else float("nan")

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.instances + other.instances, self.redacted + other.redacted)


@dataclass(frozen=True, slots=True)
class Score:
    """Counts per (language, type). Scores add up across frames with `+`."""

    by_key: dict[tuple[str, str], Counts] = field(default_factory=dict)
    decoys: int = 0
    decoys_masked: int = 0
    masked_px: int = 0
    outside_px: int = 0

    def __add__(self, other: Score) -> Score:
        keys = set(self.by_key) | set(other.by_key)
        merged = {k: self.by_key.get(k, Counts()) + other.by_key.get(k, Counts()) for k in keys}
        return Score(
            merged,
            self.decoys + other.decoys,
            self.decoys_masked + other.decoys_masked,
            self.masked_px + other.masked_px,
            self.outside_px + other.outside_px,
        )

    def counts(self, language: str | None = None, type_: str | None = None) -> Counts:
        """Summed over the matching keys; `type_=None` means the structured types (names apart)."""
        total = Counts()
        for (lang, typ), c in self.by_key.items():
            if language is not None and lang != language:
                continue
            if (type_ is None and typ in STRUCTURED_TYPES) or typ == type_:
                total = total + c
        return total

    @property
    def decoy_rate(self) -> float:
        return self.decoys_masked / self.decoys if self.decoys else float("nan")

    @property
    def outside_share(self) -> float:
        return self.outside_px / self.masked_px if self.masked_px else 0.0


def score_mask(items: Iterable[TruthItem], covered: Mask, tolerance_px: int = DEFAULT_TOLERANCE_PX) -> Score:
    """Score one frame given the boolean mask of covered pixels (H x W)."""
    height, width = covered.shape
    personal = np.zeros_like(covered)
    by_key: dict[tuple[str, str], Counts] = {}
    decoys = decoys_masked = 0
    for item in items:
        box = item.box.clip(width, height)
        region = covered[box.y : box.y2, box.x : box.x2]
        if item.decoy:
            decoys += 1
            if box.area and region.mean() >= DECOY_MASKED_SHARE:
                decoys_masked += 1
            continue
        whole = box.area > 0 and box == item.box and all(_covered(covered, p) for p in item.parts or (box,))
        key = (item.language, item.type)
        by_key[key] = by_key.get(key, Counts()) + Counts(1, int(whole))
        near = item.box.grow(tolerance_px).clip(width, height)
        personal[near.y : near.y2, near.x : near.x2] = True
    masked = int(covered.sum())
    outside = int((covered & ~personal).sum())
    return Score(by_key, decoys, decoys_masked, masked, outside)


def _covered(covered: Mask, box: Box) -> bool:
    region = covered[box.y : box.y2, box.x : box.x2]
    return bool(region.size) and bool(region.all())


def boxes_mask(boxes: Iterable[Box], size: tuple[int, int]) -> Mask:
    """The union of `boxes` as a mask of `size` (width, height)."""
    width, height = size
    mask = np.zeros((height, width), dtype=bool)
    for b in boxes:
        c = b.clip(width, height)
        mask[c.y : c.y2, c.x : c.x2] = True
    return mask


def fill_mask(before: Pixels, after: Pixels) -> Mask:
    """Pixels covered by solid fills: each changed region (holes filled, since glyph pixels of
    the fill's colour do not change) where the after-image has that region's dominant colour."""
    if before.shape != after.shape or before.ndim != 3:
        raise InputError(f"before/after images differ in shape: {before.shape} vs {after.shape}")
    changed = np.any(before != after, axis=2).astype(np.uint8)
    covered = np.zeros(changed.shape, dtype=bool)
    contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        region = np.zeros((h, w), dtype=np.uint8)
        cv2.drawContours(region, [contour - np.array([x, y])], -1, 1, thickness=cv2.FILLED)
        inside = region.astype(bool)
        local_after = after[y : y + h, x : x + w]
        touched = inside & changed[y : y + h, x : x + w].astype(bool)
        packed = _pack(local_after)
        colours, counts = np.unique(packed[touched], return_counts=True)
        covered[y : y + h, x : x + w] |= inside & (packed == colours[int(np.argmax(counts))])
    return covered


def _pack(pixels: Pixels) -> npt.NDArray[np.int32]:
    """One int per RGB colour, so colours compare and count as scalars (much faster)."""
    p = pixels.astype(np.int32)
    return (p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2]


def score_boxes(
    items: Iterable[TruthItem],
    masked: Sequence[Box],
    size: tuple[int, int],
    tolerance_px: int = DEFAULT_TOLERANCE_PX,
) -> Score:
    """Score one frame of `size` (width, height) given the boxes the redactor masked."""
    return score_mask(items, boxes_mask(masked, size), tolerance_px)


def score_pixels(
    items: Iterable[TruthItem], before: Pixels, after: Pixels, tolerance_px: int = DEFAULT_TOLERANCE_PX
) -> Score:
    """Score one frame from the image before and after redaction."""
    return score_mask(items, fill_mask(before, after), tolerance_px)


__all__ = [
    "NAME_TYPE",
    "Counts",
    "Score",
    "boxes_mask",
    "fill_mask",
    "score_boxes",
    "score_mask",
    "score_pixels",
]
