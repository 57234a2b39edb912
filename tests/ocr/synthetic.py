"""Synthetic text pictures for OCR tests, with the true pixel box of any substring."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from veil.models import Box, Pixels, TextLine

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@dataclass(frozen=True)
class Rendered:
    pixels: Pixels
    text: str
    origin: tuple[int, int]
    font: ImageFont.FreeTypeFont

    def true_box(self, substring: str) -> Box:
        """Ink box of the first occurrence of `substring`, from the font's own metrics."""
        start = self.text.index(substring)
        advance = self.font.getlength(self.text[:start])
        left, top, right, bottom = self.font.getbbox(substring)
        x0 = self.origin[0] + advance + left
        x1 = self.origin[0] + advance + right
        return Box(int(x0), int(self.origin[1] + top), int(np.ceil(x1 - x0)), int(bottom - top))


def render(
    text: str,
    font_path: str,
    *,
    size: int = 20,
    canvas: tuple[int, int] | None = None,
    at: tuple[int, int] = (10, 10),
    fg: tuple[int, int, int] = (20, 20, 20),
    bg: tuple[int, int, int] = (255, 255, 255),
) -> Rendered:
    font = ImageFont.truetype(font_path, size)
    width = canvas[0] if canvas else int(font.getlength(text)) + 2 * at[0]
    height = canvas[1] if canvas else size * 2
    image = Image.new("RGB", (width, height), bg)
    ImageDraw.Draw(image).text(at, text, font=font, fill=fg)
    return Rendered(np.asarray(image).copy(), text, at, font)


def norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def find_value(lines: list[TextLine], value: str) -> tuple[TextLine, int, int] | None:
    """The line holding `value` (spaces ignored) and the value's [start, end) in that line's text."""
    wanted = norm(value)
    for line in lines:
        kept = [(i, c) for i, c in enumerate(unicodedata.normalize("NFKC", line.text)) if not c.isspace()]
        squeezed = "".join(c for _, c in kept)
        at = squeezed.find(wanted)
        if at >= 0 and len(unicodedata.normalize("NFKC", line.text)) == len(line.text):
            return line, kept[at][0], kept[at + len(wanted) - 1][0] + 1
    return None


def assert_boxes_on_value(line: TextLine, start: int, end: int, truth: Box, tolerance: int) -> None:
    """The value's character boxes lie on the true ink (within `tolerance` px) and cover most of it."""
    assert len(line.char_boxes) == len(line.text)
    covering = Box.covering(list(line.char_boxes[start:end]))
    assert truth.grow(tolerance).contains(Box(covering.x, truth.y, covering.w, truth.h)), (covering, truth)
    overlap = min(covering.x2, truth.x2) - max(covering.x, truth.x)
    assert overlap >= 0.85 * truth.w, (covering, truth)
    # Vertically the boxes sit on the text line.
    assert covering.y <= truth.y + tolerance and covering.y2 >= truth.y2 - tolerance, (covering, truth)
