"""Screen grabs (mss) and the cheap test of whether the screen changed.

A grab is compared with the last kept frame at a quarter of its size (grey, each pixel the mean of a
4x4 block, OpenCV INTER_AREA: ~2 ms for 1920x1080): the screen changed when any block moved by more
than `change_threshold`. A typed character changes its blocks by tens of levels; noise does not.
Only a kept frame is converted to RGB; a discarded grab's buffer is dropped at once. Which changes
are kept (not a caret's blink; a moving screen once settled) is `ChangeTest`'s.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from veil.models import Pixels

SCALE = 4
CARET_BLOCKS = (2, 16)  # a caret spans at most 2 blocks across and 16 down (8 x 64 px)


class Screen(Protocol):
    width: int
    height: int

    def grab(self) -> Pixels:
        """The screen now, H x W x 3 RGB."""
        ...

    def close(self) -> None: ...


class MssScreen:
    """The first monitor of the display (`DISPLAY` on X11), through mss."""

    def __init__(self, monitor: int = 1) -> None:
        import mss

        self._mss = mss.MSS()
        monitors = self._mss.monitors
        self._monitor = monitors[monitor] if len(monitors) > monitor else monitors[0]
        self.width = int(self._monitor["width"])
        self.height = int(self._monitor["height"])

    def grab(self) -> Pixels:
        shot = self._mss.grab(self._monitor)
        bgra = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
        return np.asarray(cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGB), dtype=np.uint8)

    def close(self) -> None:
        self._mss.close()


def thumbnail(pixels: Pixels) -> np.ndarray:
    """A quarter-size grey picture of `pixels` (the change test's input)."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    size = (max(width // SCALE, 1), max(height // SCALE, 1))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.int16)


def _caret_sized(changed: np.ndarray) -> bool:
    """Whether the changed blocks fit in a text caret's box (a blink, not an edit)."""
    rows, cols = np.nonzero(changed)
    if not rows.size:
        return False
    return int(np.ptp(cols)) < CARET_BLOCKS[0] and int(np.ptp(rows)) < CARET_BLOCKS[1]


class ChangeTest:
    """Which grabs are worth keeping: those that show the screen changed since the last kept frame.

    A caret blinking back to a picture kept just before is no change (else a focused text field
    keeps two frames a second on an idle desk). With `settle_seconds`, a screen that is moving (a
    scroll, a typist, a video: each grab differs from the one before it) is kept once it settles,
    or after moving that long: the states someone saw, not each step between them."""

    def __init__(self, threshold: float, settle_seconds: float = 0.0) -> None:
        self.threshold = threshold
        self.settle_seconds = settle_seconds
        self._kept: list[np.ndarray] = []  # the last two kept, newest last
        self._previous: np.ndarray | None = None  # the grab looked at before this one
        self._moving_since: float | None = None
        self._looked: Pixels | None = None  # the grab `_previous` is the thumbnail of

    def _changed(self, small: np.ndarray, other: np.ndarray | None) -> np.ndarray | None:
        """The blocks that changed, or None when there is nothing alike to compare with."""
        if other is None or other.shape != small.shape:
            return None
        return np.asarray(np.abs(small - other) > self.threshold)

    def wants(self, pixels: Pixels, now: float) -> bool:
        """Whether to keep this grab, taken at `now` (seconds, monotonic)."""
        small = thumbnail(pixels)
        previous, self._previous = self._previous, small
        self._looked = pixels  # `keep` of this very grab takes `small` as it is
        since_kept = self._changed(small, self._kept[-1] if self._kept else None)
        if since_kept is None:
            return True
        if not since_kept.any():
            self._moving_since = None
            return False
        if _caret_sized(since_kept) and len(self._kept) == 2:
            back = self._changed(small, self._kept[0])
            if back is not None and not back.any():
                return False  # the caret blinked back
        if self.settle_seconds > 0:
            step = self._changed(small, previous)
            if step is None or (step.any() and not _caret_sized(step)):  # still moving
                self._moving_since = now if self._moving_since is None else self._moving_since
                if now - self._moving_since < self.settle_seconds:
                    return False
        return True

    def keep(self, pixels: Pixels) -> None:
        small = self._previous if pixels is self._looked and self._previous is not None else thumbnail(pixels)
        self._kept = [*self._kept[-1:], small]
        self._moving_since = None

    def forget(self) -> None:
        """After a gap (paused, a confidential window): the next grab is kept whatever it shows."""
        self._kept, self._previous, self._moving_since, self._looked = [], None, None, None
