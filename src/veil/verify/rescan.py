"""Re-scan with an independent OCR engine and the same detectors."""

from __future__ import annotations

from collections.abc import Sequence

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
        return self.check_masked(pixels, frame_index, ())

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
