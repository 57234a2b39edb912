"""A table scrolls under a fixed header row whose OCR box reaches a few pixels into the scrolled
rows (engines pad boxes): the scroll is still detected, the header line is re-read, and the rows
are shifted instead of re-read (issue 4: the office bench's customer table was re-read whole on
every scroll step because of this)."""

from __future__ import annotations

import cv2
import numpy as np

from tests.test_pipeline import pipeline
from tests.track.test_diff_scroll import textured
from veil.models import Box, Frame, Pixels, TextLine
from veil.ocr.base import OcrEngine
from veil.track.incremental import IncrementalPipeline

WIDTH, HEIGHT, HEADER, STEP = 400, 400, 40, 24


class ScreenEngine(OcrEngine):
    """Reads the lines of `screen` that lie wholly inside the crop it is given (found by exact
    match), in the crop's coordinates."""

    name = "screen"

    def __init__(self) -> None:
        self.screen = np.zeros((1, 1, 3), np.uint8)
        self.lines: list[TextLine] = []

    def read(self, pixels: Pixels) -> list[TextLine]:
        h, w = pixels.shape[:2]
        scores = cv2.matchTemplate(self.screen, np.ascontiguousarray(pixels), cv2.TM_SQDIFF)
        _, _, (x, y), _ = cv2.minMaxLoc(scores)
        crop = Box(x, y, w, h)
        return [_moved(ln, -x, -y) for ln in self.lines if crop.contains(ln.box)]


def _line(text: str, box: Box) -> TextLine:
    step = box.w // len(text)
    chars = tuple(Box(box.x + i * step, box.y, step, box.h) for i in range(len(text)))
    return TextLine(text, box, chars, 0.95, "screen")


def _moved(line: TextLine, dx: int, dy: int) -> TextLine:
    return _line(line.text, Box(line.box.x + dx, line.box.y + dy, line.box.w, line.box.h))


def _screen(page: np.ndarray, offset: int) -> np.ndarray:
    pixels = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    pixels[:HEADER] = textured(HEADER, WIDTH, seed=9)
    pixels[HEADER:] = page[offset : offset + HEIGHT - HEADER]
    return pixels


def test_a_scroll_under_a_fixed_header_is_shifted_not_reread() -> None:
    page = textured(900, WIDTH, seed=4)
    header = _line("Customer list", Box(10, 8, 300, HEADER - 8 + 10))  # 10 px into the rows
    row = "order list"  # a row of the table: no personal value, nothing to mask

    def rows(offset: int) -> list[TextLine]:
        # Padded boxes: they start left of the ink the changed pixels begin at.
        tops = range(HEADER + 4 - offset % 24, HEIGHT - 19, 24)
        return [_line(row, Box(4, top, 200, 20)) for top in tops if top - 4 >= HEADER]

    engine = ScreenEngine()
    tracker = IncrementalPipeline(pipeline(engine))
    for index, offset in enumerate((0, STEP)):
        engine.screen = _screen(page, offset)
        engine.lines = [header, *rows(offset)]
        outcome = tracker.process(Frame(index=index, pixels=engine.screen.copy()))
    assert tracker.stats["frames_scrolled"] == 1, tracker.stats
    assert header in outcome.lines  # re-read, not dropped with the rows it straddles
    assert set(rows(STEP)) <= set(outcome.lines)  # shifted with the rows (or re-read)
    # The first frame was read whole; the second only around the header, the rows cut by the
    # region's edge and the new rows (re-reading the scrolled rows would cost 90 % of the frame).
    second = tracker.stats["ocr_pixels"] - WIDTH * HEIGHT
    assert second < WIDTH * HEIGHT // 2, second
