"""Initials avatars: a uniformly filled coloured disc with one or two glyphs in it ("MD", "민준",
"佐"), which identifies a participant as much as the name tag beside it.

A disc alone proves nothing (a record dot, a help button, a badge), so `find_avatars` keeps a
disc only where a person-name finding sits within a short reach of it: the same condition under
which the issue counts an avatar as identity. Candidate discs are closed Canny edge loops that
fill their enclosing circle (OpenCV contours: ~70 ms on a 2560 x 1440 frame, where the Hough
transform took 1.5-3 s), then checked on the pixels: one colour fills the disc, something else
(the glyphs) covers 2-50 % of its inside, and the fill stops at the edge. A photo, a plain dot,
a ring-shaped letter "O" or a coloured bar fails those checks.

Any OpenCV failure raises `EngineError`: the caller masks the frame whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from veil.exceptions import EngineError
from veil.models import Box, Finding, Pixels

TYPE = "avatar"
NAME_TYPE = "person_name"
RECOGNIZER = "initials-avatar"
_SAME_COLOR = 40.0  # RGB distance under which two pixels are one fill (anti-aliasing, JPEG)
_RING = (1.12, 1.6)  # the band outside a disc, in radii, that must hold none of its colour
_OUTSIDE = 0.04
_ROUND = 0.75  # a contour must cover this share of its enclosing circle (a square covers 0.64)


@dataclass(frozen=True, slots=True)
class Disc:
    """A circle in pixel coordinates: centre and radius."""

    cx: float
    cy: float
    r: float

    def box(self, margin: int = 0) -> Box:
        x, y = int(np.floor(self.cx - self.r)), int(np.floor(self.cy - self.r))
        side = int(np.ceil(2 * self.r)) + 1
        return Box(x - margin, y - margin, side + 2 * margin, side + 2 * margin)


class AvatarDetector:
    """Initials avatars as pixel boxes. `reach` is how far (in disc diameters) a name may sit
    from the disc; a name tag a couple of text lines away always counts."""

    name = RECOGNIZER

    def __init__(
        self, min_diameter: int = 12, max_diameter: int = 400, reach: float = 1.25, margin: int = 2
    ) -> None:
        if not 8 <= min_diameter < max_diameter:
            raise ValueError("need 8 <= min_diameter < max_diameter")
        if reach <= 0:
            raise ValueError("reach must be positive")
        self.min_diameter, self.max_diameter = min_diameter, max_diameter
        self.reach, self.margin = reach, margin

    def __repr__(self) -> str:
        return f"AvatarDetector(min_diameter={self.min_diameter}, reach={self.reach})"

    def detect(self, pixels: Pixels, names: Sequence[Box]) -> list[Box]:
        """Boxes of initials discs with a name box (from `names`) within reach."""
        if not names:
            return []  # no name on screen: nothing a disc could be the avatar of
        height, width = pixels.shape[:2]
        out = []
        for disc in self.discs(pixels):
            if any(self.beside(disc.box(), n) for n in names):
                out.append(disc.box(self.margin).clip(width, height))
        return out

    def beside(self, disc: Box, name: Box) -> bool:
        """Whether a disc can be the avatar of the name in `name` (an OCR line box, which may
        take the disc in when OCR reads its glyphs): about as tall as the line (a letter "O" is
        about half of it) and within reach of it."""
        if disc.h < 0.8 * name.h or disc.contains(name):
            return False
        return _gap(disc, name) <= max(self.reach * disc.w, 2 * name.h)

    def discs(self, pixels: Pixels) -> list[Disc]:
        """Every uniformly filled disc with glyphs inside, wherever it is."""
        if pixels.ndim != 3 or pixels.shape[2] != 3 or min(pixels.shape[:2]) < self.min_diameter:
            raise EngineError("avatar detector needs an H x W x 3 image")
        try:
            candidates = self._circles(pixels)
        except cv2.error as exc:
            raise EngineError(f"avatar detector failed: {type(exc).__name__}") from None
        kept: list[Disc] = []
        for disc in sorted(candidates, key=lambda d: -d.r):
            if any(_same(disc, k) for k in kept):
                continue
            if is_initials_disc(pixels, disc):
                kept.append(disc)
        return kept

    def _circles(self, pixels: Pixels) -> list[Disc]:
        """Closed edge loops that fill their enclosing circle. Canny on the colour image takes
        the strongest gradient of the three channels, so a saturated disc on a grey of the same
        brightness still has an edge."""
        edges = cv2.Canny(pixels, 40, 120)
        contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        lo, hi = self.min_diameter / 2, self.max_diameter / 2
        out = []
        for contour in contours:
            if len(contour) < 2 * np.pi * lo * 0.7:
                continue  # too short to go round a disc of the smallest size
            (x, y), r = cv2.minEnclosingCircle(contour)
            _, _, w, h = cv2.boundingRect(contour)
            # A disc is as wide as high; a letter O or a rounded button is not quite.
            square = abs(w - h) <= max(2.0, 0.08 * max(w, h))
            if square and lo <= r <= hi and cv2.contourArea(contour) >= _ROUND * np.pi * r * r:
                out.append(Disc(float(x), float(y), float(r)))
        return out


def is_initials_disc(pixels: Pixels, disc: Disc) -> bool:
    """Whether `disc` on `pixels` is one flat colour with glyphs inside and a different colour
    just outside it."""
    height, width = pixels.shape[:2]
    reach = disc.r * _RING[1]
    x0, y0 = int(max(disc.cx - reach, 0)), int(max(disc.cy - reach, 0))
    x1, y1 = int(min(disc.cx + reach + 1, width)), int(min(disc.cy + reach + 1, height))
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dist = np.hypot(xx - disc.cx, yy - disc.cy) / disc.r
    inner, ring = dist <= 0.85, (dist >= _RING[0]) & (dist <= _RING[1])
    if inner.sum() < 40 or ring.sum() < 0.5 * (np.pi * (_RING[1] ** 2 - _RING[0] ** 2) * disc.r**2):
        return False  # too small to judge, or the ring falls off the picture
    fill = _dominant(crop[inner])
    near_fill = np.linalg.norm(crop - fill, axis=2) < _SAME_COLOR
    fill_share = float(near_fill[inner].mean())
    ink = np.linalg.norm(crop - fill, axis=2) >= 2 * _SAME_COLOR
    glyphs = float(ink[inner].mean())
    # Nothing of the fill's colour just outside: a bold letter "O" inside a word has its
    # neighbours' strokes there, an avatar has a clear margin before its name tag.
    outside = float(near_fill[ring].mean())
    return fill_share >= 0.5 and 0.02 <= glyphs <= 0.5 and outside <= _OUTSIDE


def _dominant(colors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The most common colour (quantised to 16 levels a channel), as its mean."""
    q = (colors // 16).astype(np.int32)
    packed = (q[:, 0] << 8) | (q[:, 1] << 4) | q[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    top = values[int(np.argmax(counts))]
    return np.asarray(colors[packed == top].mean(axis=0), dtype=np.float32)


def _same(a: Disc, b: Disc) -> bool:
    return bool(np.hypot(a.cx - b.cx, a.cy - b.cy) < 0.5 * max(a.r, b.r)) and abs(a.r - b.r) < 0.5 * max(
        a.r, b.r
    )


def _gap(a: Box, b: Box) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(b.x - a.x2, a.x - b.x2, 0)
    dy = max(b.y - a.y2, a.y - b.y2, 0)
    return float(np.hypot(dx, dy))


def find_avatars(
    pixels: Pixels,
    findings: Sequence[Finding],
    frame_index: int = -1,
    detector: AvatarDetector | None = None,
) -> list[Finding]:
    """Initials avatars beside the person names among `findings` (a frame's text findings), as
    findings of type "avatar" with the frame index given. Raises EngineError on failure."""
    names = [b for f in findings if f.type == NAME_TYPE for b in f.boxes]
    boxes = (detector or AvatarDetector()).detect(pixels, names)
    return [Finding(TYPE, (b,), RECOGNIZER, 1.0, "", frame_index) for b in boxes]
