"""The crops the incremental path reads, and what it remembers of them.

What to re-read comes as parts (`veil.track.diff.parts`): changed boxes and the whole boxes of
the lines they take in. Parts that overlap are read as one crop, their bounding rectangle, with
everything of it outside the parts painted over in the crop's background colour: a wide line
that straddles a tall exposed strip must be read whole, but the rows above and below it, inside
the rectangle only, keep their reading and are not read again. What the engine is given is the
painted crop, so it never sees anything the parts leave out, and nothing inside a part is
painted.

A crop whose pixels (as given to the engine) are byte-identical to one read before gets that
reading again (a bounded cache keyed by a hash of the pixels alone).
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from veil.models import Box, Pixels, TextLine

CROP_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Crop:
    box: Box  # the rectangle cut from the frame
    parts: tuple[Box, ...]  # what of it is read; the rest is painted over


def offset_line(line: TextLine, dx: int, dy: int) -> TextLine:
    def move(b: Box) -> Box:
        return Box(b.x + dx, b.y + dy, b.w, b.h)

    return replace(line, box=move(line.box), char_boxes=tuple(move(b) for b in line.char_boxes))


def crops(parts: Sequence[Box]) -> list[Crop]:
    """`parts` grouped into crops: parts that overlap (directly or through others) share one."""
    boxes = [p for p in parts if p.area > 0]
    root = list(range(len(boxes)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            if a.intersection_area(boxes[j]):
                root[find(j)] = find(i)
    groups: dict[int, list[Box]] = {}
    for i, b in enumerate(boxes):
        groups.setdefault(find(i), []).append(b)
    out = [Crop(Box.covering(g), tuple(g)) for g in groups.values()]
    return sorted(out, key=lambda c: (c.box.y, c.box.x))


def cut(pixels: Pixels, crop: Crop) -> tuple[Pixels, int]:
    """The crop's pixels, everything outside its parts painted in its most common colour; and
    the number of pixels left as they are."""
    box = crop.box
    image = np.ascontiguousarray(pixels[box.y : box.y2, box.x : box.x2]).copy()
    keep = np.zeros(image.shape[:2], dtype=bool)
    for p in crop.parts:
        keep[p.y - box.y : p.y2 - box.y, p.x - box.x : p.x2 - box.x] = True
    if keep.all():
        return image, keep.size
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    level = int(np.bincount(gray.ravel(), minlength=256).argmax())
    image[~keep] = image[gray == level][0]
    return image, int(keep.sum())


class CropReader:
    """Reads parts of a frame with an engine, crop by crop, through the cache."""

    def __init__(self, stats: Counter[str], size: int = CROP_CACHE_SIZE) -> None:
        self.stats = stats
        self.size = size
        self._cache: OrderedDict[tuple[bool, tuple[int, ...], bytes], list[TextLine]] = OrderedDict()

    def read(
        self, pixels: Pixels, parts: Sequence[Box], engine: Callable[[Pixels], list[TextLine]], verifier: bool
    ) -> list[TextLine]:
        """The lines `engine` reads in `parts` of `pixels`, in frame coordinates. `verifier`
        keeps the two engines' readings apart in the cache."""
        out: list[TextLine] = []
        for crop in crops(parts):
            image, kept = cut(pixels, crop)
            key = (verifier, image.shape, hashlib.blake2b(image.tobytes(), digest_size=16).digest())
            read = self._cache.get(key)
            if read is None:
                read = engine(image)
                self._cache[key] = read
                if len(self._cache) > self.size:
                    self._cache.popitem(last=False)
                if not verifier:
                    self.stats["ocr_pixels"] += kept
            else:
                self._cache.move_to_end(key)
                self.stats["band_cache_hits"] += 1
            out += [offset_line(ln, crop.box.x, crop.box.y) for ln in read]
        return out
