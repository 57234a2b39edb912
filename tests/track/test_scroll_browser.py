"""Scroll detection on pages rendered by Debian's Chromium (Playwright), not drawn ones: a table
under a sticky header, a chat pane scrolled inside a page at zoom 1.25 (fractional offsets), a
grid with a sticky first column scrolled sideways. Each scroll is recognised, the sticky part is
left out of the region that scrolled, and what the compensated comparison leaves to re-read is
little more than the strip scrolled into view (issue 18)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import cv2
import numpy as np
import pytest
from bench.browser.render import screenshot

from tests.test_pipeline import pipeline
from veil.models import Box, Frame, Pixels, TextLine
from veil.ocr.base import OcrEngine
from veil.track.diff import changed_mask, dirty_boxes
from veil.track.incremental import IncrementalPipeline
from veil.track.scroll import detect_scroll, exposed_strip, shifted

WIDTH, HEIGHT = 640, 400
ROWS = "".join(
    f"<tr><td>{i:03d}</td><td>Row {i} alpha</td><td>{i * 7919 % 100000:05d}</td><td>bravo {i * 31 % 97}</td></tr>"
    for i in range(60)
)
TABLE = f"""<style>body{{margin:0;font:14px 'DejaVu Sans'}} .main{{height:100vh;overflow:auto;padding:16px}} th{{border-bottom:2px solid #bbb}}
table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left}}
th{{position:sticky;top:0;background:#dde6f0;font-weight:bold}}</style>
<div class="main"><table><tr><th>No</th><th>Name</th><th>Code</th><th>Note</th></tr>{ROWS}</table></div>"""
CHAT = "".join(
    f"<p class=m>Message {i}: the parcel {i * 37 % 1000} left depot {i % 9} at {i % 24}:15.</p>"
    for i in range(40)
)
PANE = f"""<style>body{{margin:0;font:13px 'DejaVu Sans'}} header{{height:40px;background:#246;color:#fff}}
.pane{{margin:20px 60px;height:220px;overflow:auto;border:1px solid #999}} .m{{margin:6px 10px}}</style>
<header>Support</header><div class="pane">{CHAT}</div><footer>footer text stays</footer>"""
CELLS = "".join(
    f"<tr><td class=rn>{i}</td>" + "".join(f"<td>c{i}-{j} {i * j % 89}</td>" for j in range(14)) + "</tr>"
    for i in range(30)
)
GRID = f"""<style>body{{margin:0;font:13px 'DejaVu Sans'}} table{{border-collapse:collapse}}
td{{border:1px solid #ccc;padding:3px 6px;white-space:nowrap;min-width:80px;background:#fff}}
td.rn{{position:sticky;left:0;background:#eee;min-width:30px}}</style><table>{CELLS}</table>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path="/usr/bin/chromium")
        except Exception as exc:  # noqa: BLE001 - no browser on this machine
            pytest.skip(f"no Chromium: {type(exc).__name__}")
        yield chromium
        chromium.close()


def frames(browser: Any, html: str, script: str, offsets: Sequence[Any], zoom: float = 1.0) -> list[Pixels]:
    """The page scrolled by `script` (a function of one offset) to each offset, screenshotted."""
    page = browser.new_page(
        viewport={"width": round(WIDTH / zoom), "height": round(HEIGHT / zoom)}, device_scale_factor=zoom
    )
    try:
        page.set_content(html, wait_until="load")
        out = []
        for offset in offsets:
            page.evaluate(script, offset)
            out.append(screenshot(page))
        return out
    finally:
        page.close()


def left_to_read(prev: Pixels, cur: Pixels) -> tuple[Box, Any, float]:
    """The scroll found in the changed box, and the share of the changed box that still needs a
    read after compensating it (the exposed strip counted as changed)."""
    mask = changed_mask(prev, cur)
    changed = Box.covering(dirty_boxes(mask, dilate=0))
    found = detect_scroll(prev, cur, changed)
    assert found is not None
    region, shift = found
    after = changed_mask(shifted(prev, region, shift), cur)
    strip = exposed_strip(region, shift)
    after[strip.y : strip.y2, strip.x : strip.x2] = True
    return region, shift, float(after.sum()) / changed.area


def test_a_table_scrolled_under_a_sticky_header(browser: Any) -> None:
    script = "(y) => { document.querySelector('.main').scrollTop = y; }"
    shots = frames(browser, TABLE, script, (0, 30, 66, 130))
    for prev, cur, step in zip(shots, shots[1:], (30, 36, 64), strict=False):
        region, shift, left = left_to_read(prev, cur)
        assert shift.dx == 0 and shift.dy == step
        assert region.y >= 20  # the sticky header row is not in the region that scrolled
        assert left < (step + 40) / HEIGHT, left  # the exposed rows, the header, little else


def test_a_chat_pane_inside_a_page_at_zoom_125(browser: Any) -> None:
    script = "(y) => { document.querySelector('.pane').scrollTop = y; }"
    shots = frames(browser, PANE, script, (0, 37, 74, 111, 150), zoom=1.25)
    for prev, cur in itertools.pairwise(shots):
        region, shift, left = left_to_read(prev, cur)
        assert shift.dx == 0 and 44 <= shift.dy <= 51  # 37-39 CSS px at 1.25, rounded by the browser
        assert region.y >= 50 and region.y2 <= 400  # inside the pane: the header and footer stay
        assert left < 0.4, left


def test_a_grid_scrolled_sideways_beside_a_sticky_column(browser: Any) -> None:
    script = "(x) => { document.scrollingElement.scrollLeft = x; }"
    shots = frames(browser, GRID, script, (0, 45, 120))
    for prev, cur, step in zip(shots, shots[1:], (45, 75), strict=False):
        region, shift, left = left_to_read(prev, cur)
        assert shift == (step, 0)
        assert region.x >= 30  # the sticky column is not in the region that scrolled
        assert left < 0.3, left


class DomEngine(OcrEngine):
    """Reads the text rows of the current screen (boxes found by scanning for ink rows) lying
    wholly inside the crop it is given, located by exact match."""

    name = "dom"

    def __init__(self) -> None:
        self.screen = np.zeros((1, 1, 3), np.uint8)

    def read(self, pixels: Pixels) -> list[TextLine]:
        h, w = pixels.shape[:2]
        scores = cv2.matchTemplate(self.screen, np.ascontiguousarray(pixels), cv2.TM_SQDIFF)
        _, _, (x, y), _ = cv2.minMaxLoc(scores)
        crop = Box(x, y, w, h)
        out = []
        for box in ink_rows(self.screen):
            if crop.contains(box):
                moved = Box(box.x - x, box.y - y, box.w, box.h)
                out.append(TextLine("table row", moved, (moved,), 0.95, "dom"))
        return out


def ink_rows(pixels: Pixels) -> list[Box]:
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    ink = (gray < 128).any(axis=1)
    rows, start = [], None
    for y, on in enumerate((*ink.tolist(), False)):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start >= 6:
                rows.append(
                    Box(0, max(start - 1, 0), pixels.shape[1], min(y - start + 2, pixels.shape[0] - start))
                )
            start = None
    return rows


def test_the_tracker_shifts_a_table_under_a_sticky_header_instead_of_rereading_it(browser: Any) -> None:
    script = "(y) => { document.querySelector('.main').scrollTop = y; }"
    shots = frames(browser, TABLE, script, (0, 48))
    engine = DomEngine()
    tracker = IncrementalPipeline(pipeline(engine))
    for index, shot in enumerate(shots):
        engine.screen = shot
        tracker.process(Frame(index=index, pixels=shot.copy()))
    assert tracker.stats["frames_scrolled"] == 1, tracker.stats
    second = tracker.stats["ocr_pixels"] - WIDTH * HEIGHT
    # The header, the exposed rows and a line and a half beside them (the row the edge cut): not the table.
    assert second < WIDTH * HEIGHT * 0.45, second


class CellEngine(OcrEngine):
    """Reads each cell of the crop it is given as a line: blobs of dark ink joined along the row
    (a cell's padding keeps its neighbours apart), in the crop's own pixels."""

    name = "cells"

    def read(self, pixels: Pixels) -> list[TextLine]:
        ink = (cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY) < 128).astype(np.uint8)
        joined = cv2.dilate(ink, np.ones((3, 9), np.uint8))
        count, _, stats, _ = cv2.connectedComponentsWithStats(joined)
        boxes = [Box(int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:count] if h >= 6]
        return [TextLine("cell", b, (b,), 0.95, "cells") for b in boxes]


def test_the_tracker_reads_little_of_a_grid_scrolled_sideways_beside_a_sticky_column(browser: Any) -> None:
    # A toolbar that scrolls with the page beside a sticky column: the exposed strip and the
    # cells the sticky column cuts are read as rectangles of their own, not joined with the
    # toolbar's change into one connected area whose bounding box spans the page (55 % before).
    wide = "".join(f"<tr><td class=rn>{i}</td><td>{'w' * (3 + i % 7)}</td>" for i in range(3))
    page = GRID.replace("<table>", f"<div style='width:1400px'>toolbar x1 y2 z3</div><table>{wide}")
    script = "(x) => { document.scrollingElement.scrollLeft = x; }"
    shots = frames(browser, page, script, (0, 45, 120))
    tracker = IncrementalPipeline(pipeline(CellEngine()))
    for index, shot in enumerate(shots):
        tracker.process(Frame(index=index, pixels=shot.copy()))
    assert tracker.stats["frames_scrolled"] == 2, tracker.stats
    later = tracker.stats["ocr_pixels"] - WIDTH * HEIGHT
    assert later < 2 * WIDTH * HEIGHT * 0.45, later / (2 * WIDTH * HEIGHT)
