"""Initials avatars: a uniformly filled coloured disc with one or two glyphs in it ("MD", "민준",
"佐"), which identifies a participant as much as the name tag beside it.

A disc alone proves nothing (a record dot, a help button, a badge), so `find_avatars` keeps a
disc only where a person-name finding sits within a short reach of it, or where a line near it
holds a name the disc's own glyphs are the initials of (`initials_match`: "민준" beside "김민준",
"佐" over "佐藤 美咲", "MD" under "Marie Dupont"): then the line's name is a name too, though no
detector took it alone (a given name with no title in a participant list).

Candidate discs are closed Canny edge loops that fill their enclosing circle (OpenCV contours:
~70 ms on a 2560 x 1440 frame, where the Hough transform took 1.5-3 s), then checked on the
pixels: one colour fills the disc, something else (the glyphs) covers 2-50 % of its inside, and
the fill stops at the edge. A photo, a plain dot, a ring-shaped letter "O" or a coloured bar
fails those checks.

Any OpenCV failure raises `EngineError`: the caller masks the frame whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from veil.detect.names import known_first_name, word_list
from veil.exceptions import EngineError
from veil.models import Box, Finding, Pixels, TextLine

TYPE = "avatar"
NAME_TYPE = "person_name"
RECOGNIZER = "initials-avatar"
_SAME_COLOR = 40.0  # RGB distance under which two pixels are one fill (anti-aliasing, JPEG)
_RING = (1.12, 1.6)  # the band outside a disc, in radii, that must hold none of its colour
_OUTSIDE = 0.04
_ROUND = 0.75  # a contour must cover this share of its enclosing circle (a square covers 0.64)


# How far (in disc diameters) the line a disc's initials name may stand: a meeting tile's name tag
# sits in its corner, well away from the disc in its middle.
INITIALS_REACH = 3.0
_HANGUL_NAME = re.compile(r"[가-힣]{2,4}")
_JA_NAME = re.compile(r"[一-龥々]{1,3}[ 　]?[一-龥々ぁ-んァ-ヶ]{1,3}")
_LATIN_NAME = re.compile(
    r"[A-ZÀ-Ý][a-zà-ÿ'’-]+(?:[ -](?:(?:de|du|van|von|da|di|le|la) )?[A-ZÀ-Ý][A-Za-zà-ÿ'’-]+){1,3}"
)


@dataclass(frozen=True, slots=True)
class AvatarHit:
    """A disc kept as an initials avatar (`box`, with the margin), and when its glyphs named a
    line near it, that line and the name's offsets in its text."""

    box: Box
    name: tuple[TextLine, int, int] | None = None


def initials_match(glyphs: str, text: str) -> tuple[int, int] | None:
    """Offsets in `text` of the name an initials disc showing `glyphs` stands for, or None. Korean
    discs show the given name (the name's last two syllables) or the surname (a listed one);
    Japanese ones the name's first character; Latin ones the first letters of the first and last
    words of a capitalised name of two to four words whose first is a known first name."""
    g = "".join(glyphs.split())
    if re.fullmatch(r"[가-힣]{1,2}", g):
        surname = len(g) == 1 and g in word_list("ko_surnames.txt")
        for m in _HANGUL_NAME.finditer(text):
            word = m.group()
            if len(word) > len(g) and (
                (word.endswith(g) and len(g) == 2) or (surname and word.startswith(g))
            ):
                return m.span()
        return None
    if re.fullmatch(r"[一-龥々]", g):
        for m in _JA_NAME.finditer(text):
            if m.group().startswith(g) and len(m.group().replace(" ", "").replace("\u3000", "")) >= 2:
                return m.span()
        return None
    if re.fullmatch(r"[A-ZÀ-Ý]{2}", g):
        for m in _LATIN_NAME.finditer(text):
            words = m.group().split()
            if (words[0][0] + words[-1][0]).upper() == g and known_first_name(words[0]):
                return m.span()
    return None


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

    def detect(
        self,
        pixels: Pixels,
        names: Sequence[Box],
        lines: Sequence[TextLine] = (),
        read: Callable[[Box], str] | None = None,
    ) -> list[AvatarHit]:
        """Initials discs with a name box (from `names`) within reach, or whose glyphs (`read`
        from the disc's box) are the initials of a name in one of `lines` near them
        (`initials_match`)."""
        if not names and not lines:
            return []  # no text on screen: nothing a disc could be the avatar of
        height, width = pixels.shape[:2]
        out = []
        for disc in self.discs(pixels):
            box = disc.box()
            if any(self.beside(box, n) for n in names):
                out.append(AvatarHit(disc.box(self.margin).clip(width, height)))
                continue
            if read is None or not lines:
                continue
            named = self.named(box, read(disc.box(4).clip(width, height)), lines)
            if named is not None:
                out.append(AvatarHit(disc.box(self.margin).clip(width, height), named))
        return out

    def named(self, disc: Box, glyphs: str, lines: Sequence[TextLine]) -> tuple[TextLine, int, int] | None:
        """The nearest line within `INITIALS_REACH` diameters of `disc` holding a name whose
        initials are `glyphs` (read inside the disc), with the name's offsets."""
        if not glyphs.strip():
            return None
        near = sorted(
            (
                ln
                for ln in lines
                if not disc.contains(ln.box) and _gap(disc, ln.box) <= INITIALS_REACH * disc.w
            ),
            key=lambda ln: _gap(disc, ln.box),
        )
        for line in near:
            span = initials_match(glyphs, line.text)
            if span is not None:
                return line, span[0], span[1]
        return None

    def beside(self, disc: Box, name: Box) -> bool:
        """Whether a disc can be the avatar of the name in `name` (an OCR line box, which may
        take the disc in when OCR reads its glyphs): about as tall as the line (a letter "O" is
        about half of it) and within reach of it."""
        if disc.h < 0.8 * name.h or disc.contains(name):
            return False
        return _gap(disc, name) <= max(self.reach * disc.w, 2 * name.h)

    def painted_over(self, pixels: Pixels) -> Pixels:
        """`pixels` with every initials disc painted over in the colour around it (a copy), or
        `pixels` itself when there is none (or the picture is too small to hold one). What the OCR
        reads: a disc's glyphs and the name beside it make one line no engine reads ("민준" + "김민준"
        read as "7对司"), while the name alone reads well."""
        if pixels.ndim != 3 or min(pixels.shape[:2]) < 2 * self.min_diameter:
            return pixels
        discs = self.discs(pixels)
        if not discs:
            return pixels
        out = pixels.copy()
        height, width = pixels.shape[:2]
        for disc in discs:
            box = disc.box(self.margin).clip(width, height)
            edge = disc.box(self.margin + 3).clip(width, height)
            around = pixels[edge.y : edge.y2, edge.x : edge.x2].astype(np.float32)
            keep = np.ones(around.shape[:2], np.bool_)
            keep[box.y - edge.y : box.y2 - edge.y, box.x - edge.x : box.x2 - edge.x] = False
            colour = _dominant(around[keep]) if keep.any() else _dominant(around.reshape(-1, 3))
            out[box.y : box.y2, box.x : box.x2] = np.round(colour).astype(np.uint8)
        return out

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
    hits = (detector or AvatarDetector()).detect(pixels, names)
    return [Finding(TYPE, (h.box,), RECOGNIZER, 1.0, "", frame_index) for h in hits]
