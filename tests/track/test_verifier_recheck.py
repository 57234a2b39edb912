"""The verifier's cost in proportion on the incremental path (issue 18): a value the primary pass
missed is masked and only what changed plus the neighbourhood of the new mask is re-scanned; a
value that re-scan still finds is a doubt, and the whole frame is re-scanned (with the full path's
rounds of masking and re-scanning, masked whole if they never come out clean); the whole redacted
frame is re-scanned on a schedule."""

from __future__ import annotations

import numpy as np

from tests.plugins.ocr_faults import NullEngine
from tests.test_pipeline import TEXT, fixed_line, pipeline
from veil.models import Box, Frame, Pixels, TextLine
from veil.ocr.base import OcrEngine
from veil.track.incremental import IncrementalPipeline

WIDTH, HEIGHT = 400, 200
INK = 0x80  # set in the blue channel where "text" is drawn


def screen() -> Pixels:
    """Every pixel encodes its own position (red: x, green: y, blue: their high bits), so an engine
    given a crop knows where it was cut from."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    out = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    out[..., 0], out[..., 1] = xs % 256, ys % 256
    out[..., 2] = xs // 256 + 4 * (ys // 256)
    return out


def ink(pixels: Pixels, box: Box) -> None:
    pixels[box.y : box.y2, box.x : box.x2, 2] |= INK


class PlacedEngine(OcrEngine):
    """Reads each of its lines lying wholly in the crop and not masked (mostly black), in the
    crop's coordinates; `if_masked` lines are read only when the box they name is masked (an
    engine cutting the text differently once a value is painted over); `whole_only` lines only
    when given the whole frame."""

    name = "placed"

    def __init__(self) -> None:
        self.lines: list[TextLine] = []
        self.if_masked: list[tuple[Box, TextLine]] = []
        self.whole_only: list[TextLine] = []
        self.crops: list[tuple[int, int]] = []

    def read(self, pixels: Pixels) -> list[TextLine]:
        h, w = pixels.shape[:2]
        self.crops.append((w, h))
        lit = np.argwhere(pixels.any(axis=2))
        j, i = (int(v) for v in lit[0])
        r, g, b = (int(v) for v in pixels[j, i])
        x0, y0 = r + 256 * (b & 3) - i, g + 256 * ((b >> 2) & 3) - j
        crop = Box(x0, y0, w, h)

        def masked(box: Box) -> bool:
            if not crop.contains(box):
                return False
            part = pixels[box.y - y0 : box.y2 - y0, box.x - x0 : box.x2 - x0]
            return float((part.max(axis=2) == 0).mean()) > 0.5

        lines = [ln for ln in self.lines if not masked(ln.box)]
        lines += [ln for box, ln in self.if_masked if masked(box)]
        if (w, h) == (WIDTH, HEIGHT):
            lines += self.whole_only
        out = []
        for ln in lines:
            if crop.contains(ln.box):
                boxes = tuple(Box(c.x - x0, c.y - y0, c.w, c.h) for c in ln.char_boxes)
                out.append(TextLine(ln.text, Box(ln.box.x - x0, ln.box.y - y0, ln.box.w, ln.box.h), boxes,
                                    ln.confidence, ln.engine))  # fmt: skip
        return out


def tracked(verifier: PlacedEngine, verify_every: int = 100) -> IncrementalPipeline:
    return IncrementalPipeline(
        pipeline(NullEngine(), verifier=verifier, timeout=600), verify_every=verify_every
    )


def black(pixels: Pixels, box: Box) -> bool:
    return bool((pixels[box.y : box.y2, box.x : box.x2] == 0).all())


def test_a_missed_value_is_masked_and_only_its_neighbourhood_rescanned() -> None:
    verifier = PlacedEngine()
    first, second = fixed_line(x=10, y=20), fixed_line(x=10, y=120)
    verifier.lines = [first]
    tracker = tracked(verifier)
    pixels = screen()
    ink(pixels, first.box)
    tracker.process(Frame(index=0, pixels=pixels.copy()))
    verifier.crops.clear()
    ink(pixels, second.box)  # a value appears that the primary pass misses
    verifier.lines.append(second)
    out = tracker.process(Frame(index=1, pixels=pixels.copy()))
    assert out.result.verified and not out.result.masked_whole
    assert black(out.pixels, second.box) and black(out.pixels, first.box)
    assert tracker.stats["verifier_rechecks"] == 1 and tracker.stats["verifier_rechecks_whole"] == 0
    assert (WIDTH, HEIGHT) not in verifier.crops, verifier.crops  # no re-scan of the whole frame


def test_a_value_left_after_the_recheck_sends_the_frame_to_the_whole_rescan() -> None:
    verifier = PlacedEngine()
    value = fixed_line(x=10, y=120)
    # Once the value is masked, the engine reads the text beside it as another value.
    beside = fixed_line(x=10, y=150)
    verifier.if_masked = [(value.box, beside)]
    tracker = tracked(verifier)
    pixels = screen()
    tracker.process(Frame(index=0, pixels=pixels.copy()))
    verifier.crops.clear()
    ink(pixels, value.box)
    verifier.lines = [value]
    out = tracker.process(Frame(index=1, pixels=pixels.copy()))
    assert tracker.stats["verifier_rechecks_whole"] == 1, tracker.stats
    assert (WIDTH, HEIGHT) in verifier.crops  # the whole frame was re-scanned
    # The full path's rounds: the value found beside is masked too, the whole frame re-scanned
    # once more, and only that clean re-scan lets the frame out.
    assert out.result.verified and not out.result.masked_whole
    assert black(out.pixels, value.box) and black(out.pixels, beside.box)


def test_the_whole_redacted_frame_is_rescanned_on_a_schedule() -> None:
    verifier = PlacedEngine()
    hidden = fixed_line(x=10, y=150)  # read only in the context of the whole frame
    tracker = tracked(verifier, verify_every=3)
    pixels = screen()
    outcomes = []
    for index in range(4):
        if index == 1:
            verifier.whole_only = [hidden]
        ink(pixels, Box(300, 10 + 8 * index, 6, 6))  # something changes on every frame
        outcomes.append(tracker.process(Frame(index=index, pixels=pixels.copy())))
    assert tracker.stats["verifier_full_rescans"] == 1, tracker.stats
    assert not any(black(o.pixels, hidden.box) for o in outcomes[:3])
    assert black(outcomes[3].pixels, hidden.box) or outcomes[3].result.masked_whole
    assert TEXT in hidden.text


def _mask_moved(before_box: Box, now_box: Box) -> tuple[PlacedEngine, list[Box]]:
    """The verifier's re-read rectangles when the only change of the redacted output is a mask
    painted over `before_box` on the last output and over `now_box` on this one."""
    from veil.models import Finding
    from veil.track.incremental import _Plan

    verifier = PlacedEngine()
    tracker = tracked(verifier)
    pixels = screen()
    ink(pixels, Box(10, 20, 300, 20))

    def value(box: Box) -> Finding:
        return Finding("phone", (box,), "fixed", 0.9, "h", 1)

    before = tracker.full.redact(pixels, [value(before_box)])
    redacted = tracker.full.redact(pixels, [value(now_box)])
    plan = _Plan((), (), (), None, None, (), ())
    frame = Frame(index=1, pixels=pixels)
    _, _, rects = tracker._verify_changes(frame, plan, before, redacted, [value(now_box)], ())
    return verifier, rects


def test_a_mask_grown_by_a_pixel_is_not_reread() -> None:
    """The re-read value's box came out a pixel wider: the output changed only where our mask now
    covers more, which hides more than before (on a chat pane, such mask edges made the verifier
    re-read whole message lines on every frame)."""
    verifier, rects = _mask_moved(Box(100, 20, 80, 20), Box(99, 20, 82, 20))
    assert rects == [] and verifier.crops == []


def test_a_mask_that_shrank_is_reread_where_it_uncovered_pixels() -> None:
    verifier, rects = _mask_moved(Box(100, 20, 80, 20), Box(100, 20, 60, 20))
    # Painted 98-182 before (2 px of margin), 98-162 now: 162-182 is screen again, and read.
    assert any(r.contains(Box(162, 18, 20, 24)) for r in rects), rects
    assert verifier.crops
