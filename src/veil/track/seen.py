"""Screens seen before: the last few distinct frames the change tracker read, with their reading.

A recording returns to screens it showed: a mail reader opens the mail it showed two mails ago,
a window switch brings back the window left a few seconds before. A frame whose pixels are
byte-identical to one of these is that frame again (keyed by a hash of its pixels alone); a frame
that differs from the previous one too much to be tracked from it may still be tracked from one of
these (a window shown again, scrolled a little since): the tracker then diffs against that frame
and re-reads every pixel that differs, exactly as it does against the previous frame.

Bounded: `SEEN_FRAMES` frames (each its pixels and its outcome, so a few frame sizes of memory).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from veil.models import Pixels
from veil.pipeline import FrameOutcome
from veil.track.diff import changed_mask

SEEN_FRAMES = 4


@dataclass(frozen=True, slots=True)
class Seen:
    """A frame read before: its pixels, what was delivered for it, and the reading the tracker
    goes on from (the same, except for a frame masked whole for a verifier residual: its complete
    reading, see `IncrementalPipeline.process`)."""

    pixels: Pixels
    delivered: FrameOutcome
    tracked: FrameOutcome


class SeenFrames:
    """The last `size` distinct frames read, most recent last."""

    def __init__(self, size: int = SEEN_FRAMES) -> None:
        self.size = size
        self._frames: OrderedDict[bytes, Seen] = OrderedDict()

    def __len__(self) -> int:
        return len(self._frames)

    def clear(self) -> None:
        self._frames.clear()

    def add(self, key: bytes, seen: Seen) -> None:
        self._frames[key] = seen
        self._frames.move_to_end(key)
        if len(self._frames) > self.size:
            self._frames.popitem(last=False)

    def get(self, key: bytes) -> Seen | None:
        """The frame read before with exactly these pixels (see `frame_digest`), or None."""
        hit = self._frames.get(key)
        if hit is not None:
            self._frames.move_to_end(key)
        return hit

    def closest(self, pixels: Pixels, skip: Pixels | None = None) -> Iterator[Seen]:
        """The frames of the same size as `pixels` (but `skip`), fewest changed pixels first."""
        same = [s for s in self._frames.values() if s.pixels.shape == pixels.shape and s.pixels is not skip]
        shares = [float(changed_mask(s.pixels, pixels).mean()) for s in same]
        for i in sorted(range(len(same)), key=shares.__getitem__):
            yield same[i]
