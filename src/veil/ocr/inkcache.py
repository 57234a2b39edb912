"""Readings kept by the ink they read: the same text on screen again is not recognised again.

A busy screen shows the same ink again and again: a cell scrolled back into a re-read strip, a
line cut by the viewport edge and read whole again, the same status word in every row. Measured on
the busy-screen benchmark's sheet, 525 of 970 lines PP-OCR recognised were ink it had recognised
before. The box an engine reads around that ink differs by a pixel from one read to the next (the
detector's boxes jitter), so a cache keyed by the box's pixels hardly ever hits (7 hits in 385
lines, bench/README). `ink_key` keys the ink alone: the exact pixels of the tightest rectangle
holding every pixel that stands out from the box's border, with that rectangle's shape. A reading
is stored relative to the ink's corner and moved to wherever the same ink is found again.

Bounded (least recently used out), in memory only, per engine instance; readings hold screen text,
so nothing here is ever written or logged.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from veil.models import Box, Pixels

INK_CONTRAST = 40  # grey levels from the box border's median that count as ink
# Fainter pixels outside the ink's rectangle are not in the key, so a box holding any there (a
# value dimmed behind a modal's backdrop, light placeholder text) gets no key and is read afresh.
# Rules and plain fills (a table's cell borders, a shaded cell: rows or columns of one faint grey
# across the box) are allowed.
FAINT_CONTRAST = 12
FRINGE_PX = 2  # anti-aliasing around the ink: not "beside" it
RULE_SHARE = 0.8  # a row or column this full of faint pixels is a rule, not text
CACHE_SIZE = 4096  # readings kept per engine

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class InkKey:
    digest: bytes
    x: int  # the ink's corner in the image
    y: int


def ink_key(image: Pixels, box: Box, salt: bytes = b"") -> InkKey | None:
    """The key of the ink inside `box` of `image`; None when there is no ink, or faint pixels
    beside it (see `FAINT_CONTRAST`). `salt` separates readings made differently (other
    languages, other modes) of the same ink."""
    crop = image[box.y : box.y2, box.x : box.x2]
    if crop.size == 0:
        return None
    gray = crop.mean(axis=2) if crop.ndim == 3 else crop.astype(np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    contrast = np.abs(gray - np.median(border))
    ink = contrast > INK_CONTRAST
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    faint = contrast > FAINT_CONTRAST
    rules_across, rules_down = _rules(gray, faint, 1), _rules(gray, faint, 0)
    faint[rules_across, :] = False
    faint[:, rules_down] = False
    # Anti-aliased glyph edges reach a pixel or two past the ink's rectangle.
    edge = FRINGE_PX
    faint[max(0, rows[0] - edge) : rows[-1] + 1 + edge, max(0, cols[0] - edge) : cols[-1] + 1 + edge] = False
    if faint.any():
        return None  # something faint beside the ink: not keyed
    tight = np.ascontiguousarray(crop[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    digest = hashlib.blake2b(salt + repr(tight.shape).encode(), digest_size=16)
    digest.update(tight.tobytes())
    return InkKey(digest.digest(), box.x + int(cols[0]), box.y + int(rows[0]))


def _rules(gray: np.ndarray, faint: np.ndarray, axis: int) -> np.ndarray:
    """Rows (axis 1) or columns (axis 0) that are a rule or a plain fill: nearly all faint, and
    all of one grey (text on a faint fill varies along the row, so it is no rule)."""
    full: np.ndarray = faint.mean(axis=axis) >= RULE_SHARE
    if not full.any():
        return full
    highest = np.where(faint, gray, -np.inf).max(axis=axis)
    lowest = np.where(faint, gray, np.inf).min(axis=axis)
    spread = highest - lowest  # only read where `full`: there are faint pixels there
    plain: np.ndarray = full & (spread <= FAINT_CONTRAST)
    return plain


class InkCache(Generic[T]):
    """Readings by ink: `get` and `put` take the key and give/take the reading *relative to the
    ink's corner* (the caller moves it); thread-safe, at most `size` readings."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[bytes, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: InkKey | None) -> T | None:
        if key is None:
            return None
        with self._lock:
            item = self._items.get(key.digest)
            if item is not None:
                self._items.move_to_end(key.digest)
            return item

    def put(self, key: InkKey | None, item: T) -> None:
        if key is None:
            return
        with self._lock:
            self._items[key.digest] = item
            self._items.move_to_end(key.digest)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
