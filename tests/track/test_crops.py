"""What the incremental path re-reads is left in parts: a wide line that straddles a tall strip a
sideways scroll exposed is read whole, but the rows above and below it, inside the bounding
rectangle only, are not; the engine is given the crop with everything outside the parts painted
over, so it never reads them."""

from __future__ import annotations

from collections import Counter

import numpy as np

from veil.models import Box, Pixels, TextLine
from veil.track.crops import CropReader, crops, cut
from veil.track.diff import parts, reaches, regions

WIDTH, HEIGHT = 1280, 720
STRIP = Box(1220, 0, 60, 720)  # scrolled into view: read whatever its pixels say
WIDE = Box(600, 300, 660, 24)  # a wide line (two cells the engine read as one) reaching into it
ROWS = [Box(700, 60 + 30 * i, 300, 20) for i in range(8)]  # rows above it, inside its rectangle


def test_a_wide_line_through_an_exposed_strip_does_not_pull_in_the_rows_around_it() -> None:
    lines = [WIDE, *ROWS]
    got = parts([], lines, WIDTH, HEIGHT, 6, marked=[STRIP])
    assert any(p.contains(WIDE) for p in got)  # straddles the strip: read whole
    assert not any(reaches(p, row) for p in got for row in ROWS)
    # The bounding rectangles of `regions` would read them all.
    assert all(any(reaches(r, row) for r in regions([], lines, WIDTH, HEIGHT, 6, [STRIP])) for row in ROWS)


def test_lines_reached_by_a_part_are_taken_in_transitively() -> None:
    chain = [Box(100, 100, 200, 20), Box(290, 100, 200, 20), Box(480, 100, 200, 20)]
    got = parts([Box(120, 105, 4, 8)], chain, WIDTH, HEIGHT, 6)
    assert all(any(p.contains(ln) for p in got) for ln in chain)


def _screen() -> Pixels:
    pixels = np.full((HEIGHT, WIDTH, 3), 250, np.uint8)
    for box in (WIDE, *ROWS):
        pixels[box.y + 4 : box.y2 - 4, box.x + 2 : box.x2 - 2] = 20  # ink
    return pixels


def test_the_engine_sees_nothing_outside_the_parts() -> None:
    screen = _screen()
    got = parts([], [WIDE, *ROWS], WIDTH, HEIGHT, 6, marked=[STRIP])
    (crop,) = crops(got)
    image, kept = cut(screen, crop)
    assert kept < crop.box.area
    for row in ROWS:  # inside the crop's rectangle, painted over in the background colour
        inside = image[row.y - crop.box.y : row.y2 - crop.box.y, row.x - crop.box.x : row.x2 - crop.box.x]
        assert (inside == 250).all()
    w = WIDE
    assert (image[w.y - crop.box.y + 6, w.x - crop.box.x + 6] == 20).all()  # the wide line's ink is there


def test_crops_read_again_with_the_same_pixels_come_from_the_cache() -> None:
    seen: list[tuple[int, ...]] = []

    def engine(image: Pixels) -> list[TextLine]:
        seen.append(image.shape)
        return [TextLine("x", Box(0, 0, 4, 4), (Box(0, 0, 4, 4),), 0.9, "fake")]

    stats: Counter[str] = Counter()
    reader = CropReader(stats)
    screen = _screen()
    first = reader.read(screen, [WIDE], engine, verifier=False)
    again = reader.read(screen, [WIDE], engine, verifier=False)
    other = reader.read(screen, [WIDE], engine, verifier=True)  # the other engine: never shared
    assert len(seen) == 2 and stats["band_cache_hits"] == 1
    assert first == again == other and first[0].box.x == WIDE.x
    assert stats["ocr_pixels"] == WIDE.area
