"""Re-scan with an independent OCR engine and the same detectors."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from veil.detect.analyzer import Analyzer
from veil.locate import MASK_ENGINE, kept_runs, locate
from veil.models import Box, Pixels, TextLine
from veil.ocr.base import OcrEngine
from veil.verify.base import Verdict, Verifier


class RescanVerifier(Verifier):
    def __init__(self, engine: OcrEngine, analyzer: Analyzer, key: bytes) -> None:
        self.engine = engine
        self.analyzer = analyzer
        self.key = key

    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        """A frame whose masks are not known (the gateway's re-scan, an auditor's): the solid
        fills on it are taken for masks (see `solid_fills`), so it reads as the pipeline's own
        verifier read it."""
        return self.check_masked(pixels, frame_index, solid_fills(pixels))

    def check_masked(self, pixels: Pixels, frame_index: int, masks: Sequence[Box]) -> Verdict:
        """`check`, ignoring what is read inside `masks`: solid fills the caller painted and
        checked (see `outside_masks`)."""
        lines = outside_masks(self.engine.read(pixels), masks)
        findings = locate([*lines, *mask_cells(masks)], self.analyzer, self.key, frame_index)
        return Verdict(findings=tuple(findings), lines=tuple(lines))


MASK_TEXT = "\u2588" * 8  # no recognizer matches it, and it is too long to be a field's prefix


def mask_cells(masks: Sequence[Box]) -> list[TextLine]:
    """Each mask as a cell of the screen's layout, so what the verifier reads around it has the
    context the primary pass had: the label left of a masked value reaches the mask, not the next
    field's label beyond it ("E-mail | ▇▇▇ | IBAN"); a fragment touching a mask is read both ways
    (see `veil.locate.locate`)."""
    cells = []
    for m in masks:
        step = max(m.w // len(MASK_TEXT), 1)
        boxes = tuple(Box(m.x + i * step, m.y, step, m.h) for i in range(len(MASK_TEXT)))
        cells.append(TextLine(MASK_TEXT, m, boxes, 1.0, MASK_ENGINE))
    return cells


def outside_masks(lines: Sequence[TextLine], masks: Sequence[Box]) -> list[TextLine]:
    """`lines` without the characters read inside `masks` (solid fills the caller has checked are
    painted): an engine reads mask edges as letters ("oun Sw —_ SF") and a pseudonym label as a
    name, and neither is anything of the screen's. Lines are cut where characters go; nothing
    outside a mask is ever dropped."""
    if not masks:
        return list(lines)
    out: list[TextLine] = []
    for line in lines:
        touching = [m for m in masks if m.intersection_area(line.box)]
        if not touching or len(line.char_boxes) != len(line.text):
            out.append(line)
            continue
        keep = [not any(_holds_centre(m, b) for m in touching) for b in line.char_boxes]
        if all(keep):
            out.append(line)
            continue
        out += kept_runs(line, keep)
    return out


def _holds_centre(mask: Box, box: Box) -> bool:
    x, y = box.x + box.w // 2, box.y + box.h // 2
    return mask.x <= x < mask.x2 and mask.y <= y < mask.y2


FILL_MAX_LEVEL = 24  # every channel at most this: black, as a mask is painted (codec noise allowed)
FILL_MIN_SIDE = 8


def solid_fills(pixels: Pixels) -> list[Box]:
    """Rectangles of solid black at least 8 px a side, as masks are painted. A rectangle counts
    only when every pixel inside it (2 px in from its edge, where a codec smears) is black, so
    text drawn on a black area (a terminal, a video's subtitles) is never taken for a mask."""
    dark = (pixels.max(axis=2) <= FILL_MAX_LEVEL).astype(np.uint8)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=4)
    out = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if w < FILL_MIN_SIDE or h < FILL_MIN_SIDE or area < 0.97 * w * h:
            continue
        inner = dark[y + 2 : y + h - 2, x + 2 : x + w - 2]
        if inner.size and bool(inner.all()):
            out.append(Box(x, y, w, h))
    return out
