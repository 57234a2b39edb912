"""Splice two readings of one Korean line: PP-OCR's Latin characters and digits, Tesseract's Hangul.

On Korean lines Tesseract reads the Hangul PP-OCR cannot, but reads digits worse than PP-OCR
(`010-2222-3333` -> `0210-2222-3333`). So a re-read line keeps every Latin-script character PP-OCR
read with its position, and takes from Tesseract only the characters lying where PP-OCR read no
Latin character. PP-OCR's full-width output on such a line is look-alike Han for Hangul: dropped.
"""

from __future__ import annotations

from veil.models import Box, TextLine
from veil.ocr._common import char_weight
from veil.ocr.rapid import RawLine

_SPACE_GAP = 0.3  # a gap wider than this x line height between two characters is a space


def splice(rapid: RawLine, tess: TextLine, engine: str) -> TextLine:
    chars = _latin_from_rapid(rapid)
    taken = [b for _, b in chars]
    for char, box in zip(tess.text, tess.char_boxes, strict=True):
        middle = box.x + box.w / 2
        if char.isspace() or any(b.x <= middle <= b.x2 for b in taken):
            continue
        chars.append((char, box))
    if not chars:
        return TextLine(tess.text, tess.box, tess.char_boxes, tess.confidence, engine)
    chars.sort(key=lambda cb: cb[1].x + cb[1].w / 2)
    line_box = Box.covering([rapid.box, tess.box])
    text: list[str] = []
    boxes: list[Box] = []
    for char, box in chars:
        if boxes and box.x - boxes[-1].x2 > _SPACE_GAP * line_box.h:
            text.append(" ")
            boxes.append(Box(boxes[-1].x2, line_box.y, box.x - boxes[-1].x2, line_box.h))
        text.append(char)
        boxes.append(Box(box.x, line_box.y, box.w, line_box.h))
    confidence = min(rapid.confidence, tess.confidence)
    return TextLine("".join(text), line_box, tuple(boxes), confidence, engine)


def _latin_from_rapid(raw: RawLine) -> list[tuple[str, Box]]:
    """PP-OCR's narrow (non-CJK) characters, each boxed half an advance either side of its centre."""
    advance = unit_advance(raw)
    out: list[tuple[str, Box]] = []
    for char, center in zip(raw.text, raw.centers, strict=True):
        if char.isspace() or char_weight(char) != 1.0 or not char.isprintable():
            continue
        left = int(center - advance / 2)
        out.append((char, Box(left, raw.box.y, max(int(advance), 1), raw.box.h)))
    return out


def unit_advance(raw: RawLine) -> float:
    """Median pixels per unit of character weight on this line (a Latin character is one unit)."""
    pairs = [
        (raw.centers[i + 1] - raw.centers[i]) / ((char_weight(a) + char_weight(b)) / 2)
        for i, (a, b) in enumerate(zip(raw.text, raw.text[1:], strict=False))
    ]
    positive = sorted(p for p in pairs if p > 0)
    return positive[len(positive) // 2] if positive else raw.box.h * 0.5
