"""A worker spools each frame as the rows that changed since the segment's previous frame; the
main process rebuilds every frame exactly (issue 4: a still screen no longer costs a compressed
full frame on both sides)."""

from __future__ import annotations

import numpy as np

from veil.workers import _applied, _patch


def test_patches_rebuild_every_frame_exactly() -> None:
    rng = np.random.default_rng(7)
    first = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    typed = first.copy()
    typed[40:52, 30:38] = 0  # a glyph typed
    frames = [first, first.copy(), typed, typed.copy(), rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)]
    previous_out = None
    previous_in = None
    sizes = []
    for pixels in frames:
        patch = _patch(pixels, previous_in)
        sizes.append(patch.bottom - patch.top)
        out = _applied(patch, pixels.shape, previous_out)
        assert np.array_equal(out, pixels)
        assert not out.flags.writeable  # the sink may keep it as its last picture
        if sizes[-1] == 0:
            assert out is previous_out  # a still frame is the same array again
        previous_in, previous_out = pixels, out
    assert sizes == [120, 0, 12, 0, 120]


def test_a_segment_start_needs_no_previous_frame() -> None:
    pixels = np.full((10, 20, 3), 9, np.uint8)
    patch = _patch(pixels, None)
    assert (patch.top, patch.bottom) == (0, 10)
    assert np.array_equal(_applied(patch, pixels.shape, None), pixels)
