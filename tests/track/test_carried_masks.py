"""The incremental path keeps a mask where the value under it did not change (#18): detection reads
a line in the context of the others, and on a scrolled table the incremental path's lines are not
the full read's, so a name found in one frame was not found again in the next and left readable
(13 values on the busy-screen bench's sticky-header table). And the strip a scroll exposes is read
with the line the viewport's edge cut, so a value entering the screen is read whole."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from veil.models import Box, Finding, FrameResult, TextLine
from veil.pipeline import VERIFIER_MASK, FrameOutcome
from veil.track.incremental import STRIP_OVERLAP, _carried_findings, _Plan, _strip_to_read
from veil.track.scroll import Shift

REGION = Box(0, 50, 800, 550)  # a table's body under a 50-pixel sticky header


def _outcome(*findings: Finding) -> FrameOutcome:
    pixels = np.zeros((600, 800, 3), dtype=np.uint8)
    return FrameOutcome(pixels, FrameResult(3, 1.5, tuple(findings)), (), ())


def _finding(box: Box, kind: str = "person_name", recognizer: str = "labelled-value") -> Finding:
    return Finding(kind, (box,), recognizer, 0.9, "h", 3)


DOWN = Shift(0, 84)


def _plan(rects: tuple[Box, ...] = (), shift: Shift | None = DOWN) -> _Plan:
    return _Plan(rects, (), (), REGION if shift is not None else None, shift, (), ())


def test_a_mask_moves_with_the_content_it_hides() -> None:
    name = _finding(Box(100, 264, 95, 25))
    carried = _carried_findings(_outcome(name), _plan(), 4, [])
    assert [f.boxes for f in carried] == [(Box(100, 180, 95, 25),)]
    assert carried[0].frame_index == 4 and carried[0].recognizer == "labelled-value"


def test_the_verifier_s_masks_move_too() -> None:
    mask = _finding(Box(300, 400, 60, 20), recognizer=VERIFIER_MASK)
    assert [f.boxes for f in _carried_findings(_outcome(mask), _plan(), 4, [])] == [(Box(300, 316, 60, 20),)]


def test_without_a_scroll_a_mask_stays_where_nothing_was_re_read() -> None:
    still, reread = _finding(Box(100, 300, 90, 20)), _finding(Box(100, 500, 90, 20))
    plan = _plan(rects=(Box(0, 490, 800, 40),), shift=None)
    assert [f.boxes for f in _carried_findings(_outcome(still, reread), plan, 4, [])] == [still.boxes]


def test_masks_the_scroll_cut_or_moved_out_or_a_new_finding_covers_are_dropped() -> None:
    cut = _finding(Box(100, 40, 90, 20))  # straddles the header's edge
    out = _finding(Box(100, 60, 90, 20))  # scrolled under the header
    header = _finding(Box(100, 10, 90, 20))  # the header does not move: stays
    found_again = _finding(Box(100, 300, 90, 20))
    face = _finding(Box(500, 300, 60, 60), kind="face")  # faces are tracked apart
    new = [_finding(Box(98, 214, 96, 24))]  # found_again, moved, is found by this frame's pass
    carried = _carried_findings(_outcome(cut, out, header, found_again, face), _plan(), 4, new)
    assert [f.boxes for f in carried] == [header.boxes]


def test_the_exposed_strip_is_read_with_the_line_the_edge_cut() -> None:
    down = _strip_to_read(REGION, Shift(0, 84), [])
    assert down == Box(0, REGION.y2 - 84 - STRIP_OVERLAP, 800, 84 + STRIP_OVERLAP)
    up = _strip_to_read(REGION, Shift(0, -30), [])
    assert up == Box(0, REGION.y, 800, 30 + STRIP_OVERLAP)
    right = _strip_to_read(REGION, Shift(40, 0), [])
    assert right == Box(800 - 40 - STRIP_OVERLAP, REGION.y, 40 + STRIP_OVERLAP, REGION.h)
    tall = [TextLine("x", Box(0, y, 100, 30), (), 0.9, "dom") for y in (100, 200, 300)]
    assert _strip_to_read(REGION, Shift(0, 84), tall).h == 84 + 45  # a line and a half of 30 px


def test_a_mask_the_edge_cuts_as_its_value_leaves_view_keeps_what_stays_in_view() -> None:
    """The row scrolling under the header: what stays in view of its value stays masked (its line
    is not read again by the primary pass, so nothing else would mask it)."""
    leaving = _finding(Box(100, 120, 90, 20))  # 120 - 84 = 36: 6 px of it stay below the header
    assert [f.boxes for f in _carried_findings(_outcome(leaving), _plan(), 4, [])] == [(Box(100, 50, 90, 6),)]


def test_the_primary_pass_does_not_reread_ink_leaving_view_the_verifier_does() -> None:
    from veil.track.incremental import _shift_lines

    def line(y: int) -> TextLine:
        return TextLine("Jane Roe", Box(100, y, 90, 20), (), 0.9, "dom")

    straddling, leaving, inside = line(40), line(120), line(300)
    kept, reread, left = _shift_lines([straddling, leaving, inside], REGION, DOWN, 800, 600)
    assert [ln.box for ln in kept] == [Box(100, 216, 90, 20)]  # moved with the content
    assert reread == [Box(100, 40, 90, 20)]  # part stayed, part moved: read again
    assert left == [Box(100, 50, 90, 6)]  # read by the verifier only


def test_a_wrapped_value_whose_first_line_the_edge_cuts_keeps_its_other_lines_masked() -> None:
    """A name wrapped on two lines: its first line straddles the header's edge (read again), its
    second moves up and is cut as it leaves view; that part stays masked."""
    name = Finding(
        "person_name", (Box(100, 40, 90, 20), Box(100, 120, 90, 20)), "labelled-value", 0.9, "h", 3
    )
    assert [f.boxes for f in _carried_findings(_outcome(name), _plan(), 4, [])] == [(Box(100, 50, 90, 6),)]


def test_after_a_scroll_a_mask_on_unchanged_pixels_stays_though_a_re_read_meets_it() -> None:
    """A name half under a sticky header is re-read with the header band (its pixels did not
    change, they moved): the re-read may not find it; its mask stays. Where its pixels changed,
    the re-read decides."""
    name = _finding(Box(100, 120, 90, 20))  # moves to y 36: cut to 50..56 by the header's edge
    band = (Box(0, 0, 800, 80),)  # the header band, re-read for pixels that changed in it
    still = np.zeros((600, 800), dtype=bool)
    plan = replace(_plan(rects=band), changed=still)
    assert [f.boxes for f in _carried_findings(_outcome(name), plan, 4, [])] == [(Box(100, 50, 90, 6),)]
    changed = still.copy()
    changed[52, 120] = True
    plan = replace(_plan(rects=band), changed=changed)
    assert _carried_findings(_outcome(name), plan, 4, []) == []


def test_a_mask_reaching_past_the_frame_s_edge_is_judged_by_its_pixels_inside() -> None:
    """A mask grown past the frame's left edge, whose pixels inside the frame changed: the re-read
    decides (a negative slice would be empty, and the mask taken for unchanged)."""
    edge = _finding(Box(-10, 10, 60, 20))  # outside the scrolled region: stays where it is
    band = (Box(0, 0, 800, 40),)
    still = np.zeros((600, 800), dtype=bool)
    assert [
        f.boxes for f in _carried_findings(_outcome(edge), replace(_plan(rects=band), changed=still), 4, [])
    ] == [edge.boxes]
    changed = still.copy()
    changed[15, 5] = True
    assert _carried_findings(_outcome(edge), replace(_plan(rects=band), changed=changed), 4, []) == []
