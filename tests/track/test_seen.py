"""Screens seen before: a frame whose pixels are those of a frame read a few frames ago costs a
hash; a window switched back to is tracked from the frame that last showed it, not read whole."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.plugins.ocr_faults import FixedEngine
from tests.test_pipeline import blank_frame, fixed_line, pipeline
from veil.exceptions import EngineError
from veil.models import Frame, MaskReason, Pixels, TextLine
from veil.pipeline import frame_digest as digest
from veil.track.incremental import IncrementalPipeline
from veil.track.seen import Seen, SeenFrames


def _other_window(like: Pixels) -> Pixels:
    """A screen that differs from `like` nearly everywhere (another application)."""
    rng = np.random.default_rng(5)
    return rng.integers(0, 255, like.shape, dtype=np.uint8)


def _tracker() -> tuple[IncrementalPipeline, FixedEngine]:
    engine = FixedEngine([fixed_line()])
    return IncrementalPipeline(pipeline(engine)), engine


def test_a_screen_shown_again_is_not_read_again() -> None:
    tracker, engine = _tracker()
    first = blank_frame(height=120).pixels
    a = tracker.process(Frame(index=0, pixels=first.copy()))
    tracker.process(Frame(index=1, pixels=_other_window(first)))
    reads = engine.calls
    again = tracker.process(Frame(index=2, pixels=first.copy()))
    assert engine.calls == reads  # no OCR at all
    assert tracker.stats["frames_full"] == 2 and tracker.stats["frames_seen_before"] == 1
    assert np.array_equal(again.pixels, a.pixels) and again.result.verified
    assert again.result.index == 2 and {f.frame_index for f in again.result.findings} == {2}
    assert [f.type for f in again.result.findings] == [f.type for f in a.result.findings]


def _half_other(like: Pixels) -> Pixels:
    """Another window over part of the screen only (less than the share a full read needs)."""
    out = like.copy()
    out[:, : like.shape[1] * 2 // 5] = _other_window(like)[:, : like.shape[1] * 2 // 5]
    return out


@pytest.mark.parametrize("other", [_other_window, _half_other], ids=["whole", "part"])
def test_a_window_switched_back_to_is_tracked_from_the_frame_that_showed_it(
    other: Callable[[Pixels], Pixels],
) -> None:
    tracker, _ = _tracker()
    first = blank_frame(height=120).pixels
    tracker.process(Frame(index=0, pixels=first.copy()))
    tracker.process(Frame(index=1, pixels=other(first)))
    back = first.copy()
    back[90:102, 300:330] = 0  # shown again, a little changed since
    out = tracker.process(Frame(index=2, pixels=back))
    stats = tracker.stats
    assert stats["frames_from_seen"] == 1 and stats["frames_full"] + stats["frames_incremental"] == 3
    box = fixed_line().box  # the value read on the first frame stays masked
    assert out.result.verified and (out.pixels[box.y : box.y2, box.x + 60 : box.x + 120] == 0).all()


class _FailsWhenTold(FixedEngine):
    def __init__(self, lines: list[TextLine]) -> None:
        super().__init__(lines)
        self.fail = False

    def read(self, pixels: Pixels) -> list[TextLine]:
        if self.fail:
            raise EngineError("injected")
        return super().read(pixels)


def test_after_a_failure_the_screens_seen_before_are_forgotten() -> None:
    engine = _FailsWhenTold([fixed_line()])
    tracker = IncrementalPipeline(pipeline(engine))
    first = blank_frame(height=120).pixels
    tracker.process(Frame(index=0, pixels=first.copy()))
    engine.fail = True
    failed = tracker.process(Frame(index=1, pixels=_other_window(first)))
    assert failed.result.mask_reason == MaskReason.OCR_FAILED
    engine.fail = False
    tracker.process(Frame(index=2, pixels=first.copy()))
    assert tracker.stats["frames_full"] == 3 and tracker.stats["frames_seen_before"] == 0


def test_seen_frames_are_bounded_and_keyed_by_their_pixels_alone() -> None:
    seen = SeenFrames(size=2)
    frames = [np.full((4, 4, 3), v, np.uint8) for v in (0, 1, 2)]
    outcome = IncrementalPipeline(pipeline(FixedEngine([]))).process(Frame(index=0, pixels=frames[0]))
    for f in frames:
        seen.add(digest(f), Seen(f, outcome, outcome))
    assert len(seen) == 2 and seen.get(digest(frames[0])) is None
    assert seen.get(digest(frames[2].copy())) is not None
    assert digest(frames[1]) != digest(frames[1].reshape(2, 8, 3))  # same bytes, another shape
    assert [s.pixels[0, 0, 0] for s in seen.closest(frames[1])] == [1, 2]


def test_content_that_scrolled_is_tracked_from_the_last_frame_not_an_older_one() -> None:
    """Scrolled back near where it was two frames ago: an older frame would leave less to read,
    but a scroll is tracked from the last frame (see `IncrementalPipeline._best_plan`)."""
    rng = np.random.default_rng(9)
    page = rng.integers(0, 255, (900, 400, 3), dtype=np.uint8)  # a long page, textured

    def at(offset: int) -> Pixels:
        return np.ascontiguousarray(page[offset : offset + 400])

    tracker, _ = _tracker()
    for index, offset in enumerate((0, 100, 10)):
        tracker.process(Frame(index=index, pixels=at(offset)))
    assert tracker.stats["frames_scrolled"] == 2, tracker.stats
    assert tracker.stats["frames_from_seen"] == 0
