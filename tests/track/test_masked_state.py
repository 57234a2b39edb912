"""With `redact.on_verifier_hit: mask-frame`, a frame masked whole for a verifier residual keeps its
reading for the change tracker: the next frames are tracked from it (not re-read whole), and stay
masked while the residual is on screen. With the default (mask and recheck), the verifier's masks
are carried like faces while nothing under them changes."""

from __future__ import annotations

import numpy as np

from tests.plugins.ocr_faults import FixedEngine
from tests.test_pipeline import blank_frame, fixed_line, pipeline
from veil.models import Frame, MaskReason
from veil.pipeline import VERIFIER_MASK, FramePipeline
from veil.track.incremental import IncrementalPipeline


def framed(pipe: FramePipeline) -> FramePipeline:
    pipe.recheck = False
    return pipe


def test_the_verifiers_masks_are_carried_without_full_reads() -> None:
    residual_line = fixed_line(y=70)  # the verifier reads a value the primary pass missed
    verifier = FixedEngine([residual_line])
    tracker = IncrementalPipeline(pipeline(FixedEngine([fixed_line()]), verifier=verifier))
    first = blank_frame(height=120)
    outcomes = [tracker.process(Frame(index=i, pixels=first.pixels.copy())) for i in range(3)]
    typed = first.pixels.copy()
    typed[10:22, 300:308] = 0  # a small change elsewhere: read as a crop
    outcomes.append(tracker.process(Frame(index=3, pixels=typed)))
    box = residual_line.box
    for o in outcomes:
        assert o.result.verified and not o.result.masked_whole
        assert (o.pixels[box.y : box.y2, box.x : box.x2] == 0).all()
        assert VERIFIER_MASK in [f.recognizer for f in o.result.findings]
    assert tracker.stats["frames_full"] == 1, tracker.stats
    assert tracker.stats["frames_still"] == 2 and tracker.stats["frames_incremental"] == 1


def test_a_residual_keeps_masking_without_full_reads_until_it_goes() -> None:
    primary = FixedEngine([fixed_line()])
    residual_line = fixed_line(y=70)  # the verifier reads a value the primary pass missed
    verifier = FixedEngine([residual_line])
    tracker = IncrementalPipeline(framed(pipeline(primary, verifier=verifier)))
    first = blank_frame(height=120)
    outcomes = [tracker.process(Frame(index=i, pixels=first.pixels.copy())) for i in range(3)]
    # A small change elsewhere: re-read as a crop, the residual (kept verified line) still found.
    typed = first.pixels.copy()
    typed[10:22, 300:308] = 0
    outcomes.append(tracker.process(Frame(index=3, pixels=typed)))
    assert [o.result.mask_reason for o in outcomes] == [MaskReason.VERIFIER_FOUND] * 4
    assert all((o.pixels == 0).all() for o in outcomes)  # masked whole every time
    assert tracker.stats["frames_full"] == 1, tracker.stats
    assert tracker.stats["frames_incremental"] == 1 and tracker.stats["frames_still"] == 2


def test_when_the_residual_goes_the_tracked_frame_clears_without_a_full_read() -> None:
    verifier = FixedEngine([fixed_line(y=70)])
    tracker = IncrementalPipeline(framed(pipeline(FixedEngine([fixed_line()]), verifier=verifier)))
    first = blank_frame(height=120)
    for i in range(3):
        assert tracker.process(Frame(index=i, pixels=first.pixels.copy())).result.masked_whole
    verifier.lines = []  # the residual's line changed: the verifier re-reads it and finds nothing
    gone = first.pixels.copy()
    gone[60:90, 10:20] = 0
    last = tracker.process(Frame(index=3, pixels=gone))
    assert not last.result.masked_whole and last.result.verified
    assert tracker.stats["frames_full"] == 1 and tracker.stats["frames_incremental"] == 1
    assert not (last.pixels == 0).all()


def test_a_failed_frame_still_restarts_from_a_full_read() -> None:
    from tests.plugins.ocr_faults import CrashingEngine

    tracker = IncrementalPipeline(pipeline(CrashingEngine()))
    frame = blank_frame()
    for i in range(2):
        out = tracker.process(Frame(index=i, pixels=np.ascontiguousarray(frame.pixels)))
        assert out.result.mask_reason == MaskReason.OCR_FAILED
    assert tracker.stats["frames_full"] == 2
