"""A column scrolled into view is re-read row by row, not as one bounding box (issue 18).

On a sheet scrolled sideways the exposed strip is as tall as the screen and meets the last cell of
every row; before, it grew to one rectangle holding all of those cells, and one cell wider than the
rest (an address spilling over its neighbours) pulled in whole rows, then the rows' neighbours:
the whole screen was read again for a 60-pixel strip. The strip is now cut at rows without ink,
each band grows to its own row's lines, and bands that overlap by a line's padding stay apart.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.ocr.synthetic import LATIN_FONT
from veil.models import Box, Pixels
from veil.track.diff import MIN_BAND, core, cut_at_blank_rows, regions

WIDTH, HEIGHT, ROW_PX, FONT_PX = 1280, 720, 24, 14
COLUMNS = (0, 120, 300, 420, 620, 1110)  # left edges of the cells; the last is cut by the screen
STRIP = Box(1186, 0, WIDTH - 1186, HEIGHT)  # scrolled into view
WIDE_ROW = 5  # its address spills from column 4 over the next one, as a sheet lets it


def sheet() -> tuple[Pixels, list[Box], list[Box]]:
    """A grid with zebra stripes and vertical borders with a text in each cell; the engine-like
    line box of each text (its ink plus a few pixels of padding), and its ink box."""
    font = ImageFont.truetype(LATIN_FONT, FONT_PX)
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    lines: list[Box] = []
    inks: list[Box] = []
    for r in range(HEIGHT // ROW_PX):
        top = r * ROW_PX
        if r % 2:
            draw.rectangle([0, top, WIDTH, top + ROW_PX - 1], fill=(244, 246, 250))
        draw.line([(0, top), (WIDTH, top)], fill=(200, 200, 200))
        for c, x in enumerate(COLUMNS):
            if r == WIDE_ROW and c == 5:
                continue  # covered by the spilling address
            text = f"Cell {r}-{c} Rue de la Paix 12" if r == WIDE_ROW and c == 4 else f"{r:02d}-{c} 5528 2116"
            if r == WIDE_ROW and c == 4:
                text += ", Bâtiment B, 3e étage, porte 14, 75002 Paris, France (livraison le matin)"
            draw.text((x + 6, top + 5), text, font=font, fill=(30, 30, 30))
            left, y0, right, y1 = draw.textbbox((x + 6, top + 5), text, font=font)
            inks.append(Box(left, y0, right - left, y1 - y0))
            lines.append(Box(left - 4, y0 - 6, right - left + 8, y1 - y0 + 12).clip(WIDTH, HEIGHT))
    for x in COLUMNS[1:]:
        draw.line([(x, 0), (x, HEIGHT)], fill=(200, 200, 200))
    return np.asarray(image), lines, inks


def test_a_tall_strip_is_cut_between_rows_never_through_a_glyph() -> None:
    pixels, _, inks = sheet()
    bands = cut_at_blank_rows(pixels, STRIP)
    # Cut every few rows (borders and stripes are background), each band MIN_BAND tall at least.
    assert len(bands) >= HEIGHT // (MIN_BAND + ROW_PX)
    assert all(b.h >= MIN_BAND for b in bands)
    assert sum(b.h for b in bands) == STRIP.h and bands[0].y == 0 and bands[-1].y2 == HEIGHT
    inside = [ink for ink in inks if STRIP.intersection_area(ink)]
    assert len(inside) >= 25
    for ink in inside:  # no cut crosses ink inside the strip
        assert sum(1 for b in bands if b.y < ink.y2 and ink.y < b.y2) == 1


def test_the_strip_grows_to_each_rows_lines_not_to_the_screen() -> None:
    pixels, lines, _ = sheet()
    cut = [ln for ln in lines if ln.x < STRIP.x < ln.x2]  # the cells the strip's edge cuts
    assert len(cut) >= 25
    rects = regions([], lines, WIDTH, HEIGHT, 6, [STRIP], pixels, cut)
    # Every line the strip or a cut cell reaches is read whole, in one rectangle.
    for ln in lines:
        if ln in cut or STRIP.intersection_area(core(ln)):
            assert any(r.contains(ln) for r in rects), ln
    # A strip and a column of cells plus one wide row: about a fifth of the screen, not all of it.
    area = np.zeros((HEIGHT, WIDTH), bool)
    for r in rects:
        area[r.y : r.y2, r.x : r.x2] = True
    assert area.mean() < 0.25
    # The wide row's band alone reaches far left; the rest of the column does not follow it.
    wide = next(r for r in rects if r.x < COLUMNS[4] + 10)
    assert wide.h < MIN_BAND + 2 * ROW_PX


def test_without_pixels_rectangles_merge_as_before() -> None:
    """Callers that do not give the frame keep the bounding boxes (no blank rows known)."""
    _, lines, _ = sheet()
    cut = [ln for ln in lines if ln.x < STRIP.x < ln.x2]
    (whole,) = regions([], lines, WIDTH, HEIGHT, 6, [STRIP], None, cut)
    assert whole.h == HEIGHT and whole.x < COLUMNS[4]
