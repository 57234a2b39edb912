"""Screen grabs (mss) and the cheap test of whether the screen changed.

A grab is compared with the last kept frame at a quarter of its size (grey, each pixel the mean of a
4x4 block, OpenCV INTER_AREA: ~2 ms for 1920x1080): the screen changed when any block moved by more
than `change_threshold`. A typed character changes its blocks by tens of levels; noise does not.
Only a kept frame is converted to RGB; a discarded grab's buffer is dropped at once.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from veil.models import Pixels

SCALE = 4


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


class ChangeTest:
    """Whether a grab differs from the last kept one."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._last: np.ndarray | None = None

    def changed(self, pixels: Pixels) -> bool:
        small = thumbnail(pixels)
        last = self._last
        if last is None or last.shape != small.shape:
            return True
        return bool(np.abs(small - last).max() > self.threshold)

    def keep(self, pixels: Pixels) -> None:
        self._last = thumbnail(pixels)

    def forget(self) -> None:
        """After a gap (paused, a confidential window): the next grab is kept whatever it shows."""
        self._last = None
