"""Tesseract 5 (LSTM) through tesserocr, with one box per character from the symbol iterator.

The tesserocr wheel bundles libtesseract; the language data comes from Debian
(`tesseract-ocr-kor`, `-jpn`, `-fra`, `-eng` under /usr/share/tesseract-ocr/5/tessdata).
Images are upscaled (2x by default) before recognition: on screen-size text it is the single
best fix for Tesseract, while binarising ourselves hurts CJK (DESIGN.md), so we hand Tesseract a
grayscale image and let it threshold. `PyTessBaseAPI` is not thread-safe: each engine owns its
APIs (one per language set, created on first use) and serialises calls with a lock.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veil.exceptions import EngineError
from veil.models import Box, Pixels, TextLine
from veil.ocr._common import check_pixels
from veil.ocr._quiet import silence_leptonica
from veil.ocr.base import REREAD_ENGINE, OcrEngine
from veil.ocr.inkcache import InkCache, ink_key

DEBIAN_TESSDATA = (
    Path("/usr/share/tesseract-ocr/5/tessdata"),
    Path("/usr/share/tesseract-ocr/4.00/tessdata"),
    Path("/usr/share/tessdata"),
)
_PSM_AUTO = 3
_PSM_SINGLE_LINE = 7
_PSM_SPARSE = 11
_MAX_REREADS = 12
_MAX_LINE_PX = 96  # taller than any line of screen text: a reading that spans blocks
_RULE_PX = 31  # a straight edge this long is a rule or a border
_MIN_LINE_PX = 6
_LINE_MARGIN = 4  # pixels kept around a line crop: Tesseract misreads glyphs that touch the edge


def find_tessdata(languages: str) -> Path:
    """The tessdata folder holding every language of `languages` ("kor+eng"), or EngineError.

    Looks at $TESSDATA_PREFIX (the folder itself or its `tessdata/`), then Debian's paths.
    """
    wanted = [lang for lang in languages.split("+") if lang]
    if not wanted:
        raise EngineError("no Tesseract language given (expected e.g. 'kor+eng')")
    candidates: list[Path] = []
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        candidates += [Path(prefix), Path(prefix) / "tessdata"]
    candidates += list(DEBIAN_TESSDATA)
    for folder in candidates:
        if all((folder / f"{lang}.traineddata").is_file() for lang in wanted):
            return folder
    searched = ", ".join(str(c) for c in candidates)
    missing = [lang for lang in wanted if not any((c / f"{lang}.traineddata").is_file() for c in candidates)]
    packages = " ".join(f"tesseract-ocr-{lang.lower().replace('_', '-')}" for lang in missing or wanted)
    raise EngineError(
        f"Tesseract language data missing for {'+'.join(missing or wanted)} (searched {searched}); "
        f"install it with: apt-get install {packages}"
    )


class TesseractEngine(OcrEngine):
    """Tesseract over the whole image (page segmentation) with `languages` such as "kor+eng"."""

    name = "tesseract"

    def __init__(
        self, languages: str, upscale: float = 2.0, *, min_confidence: float = 0.0, read_all_ink: bool = False
    ) -> None:
        if not 0.25 <= upscale <= 8:
            raise EngineError(f"Tesseract upscale must be between 0.25 and 8, got {upscale}")
        self.languages = languages
        self.upscale = upscale
        self.min_confidence = min_confidence
        # The verifier's mode: text-like ink that the page read left out is read again line by line.
        self.read_all_ink = read_all_ink
        self.tessdata = find_tessdata(languages)
        self._apis: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._lines: InkCache[_Reading] = InkCache()

    def read(self, pixels: Pixels) -> list[TextLine]:
        image = check_pixels(pixels)
        # Dropped before the ink left out is looked for: the text under a block's glyph is re-read.
        page = self._run(image, self.languages, _PSM_AUTO, self.upscale)
        lines = [ln for ln in page if not _block_glyph(ln)]
        if self.read_all_ink:
            lines = self._read_left_out(image, lines)
        # A "line" of blanks is none: page segmentation returns one now and then, the size of a whole
        # table (a grid it could not split), and as a line it would make every re-read reach it.
        return [ln for ln in lines if ln.confidence >= self.min_confidence and ln.text.strip()]

    def _read_left_out(self, image: Pixels, lines: list[TextLine]) -> list[TextLine]:
        """Page segmentation now and then drops a region or shreds it: a screen holding one short
        line ("고객명: 김민수" alone on a card) comes back empty, or as "H ae où re +". Every
        text-like blob of ink that no line read covers, or that only fragments cover, is read
        again as a single line; with too many such blobs the whole image is read again in
        sparse-text mode. The new readings are added beside the page's, never instead of them
        (named `REREAD_ENGINE`: they are for the detectors; the text layer keeps the page's
        reading; see `veil.locate.locate` for the page's shreds they stand for)."""
        blobs = [b for b in text_blobs(image) if not _read_whole(b, lines)]
        if not blobs:
            return lines
        if len(blobs) > _MAX_REREADS:
            sparse = self._run(image, self.languages, _PSM_SPARSE, self.upscale)
            # Sparse mode now and then makes one "character" of a whole block of masks ('해' in a
            # box 900 px high): no text line is that tall.
            extra = [ln for ln in sparse if ln.box.h <= _MAX_LINE_PX and not _read_whole(ln.box, lines)]
            return lines + [replace(ln, engine=REREAD_ENGINE) for ln in extra if _plausible(ln)]
        found = (self._reread(image, blob) for blob in blobs)
        extra = [ln for ln in found if ln is not None and ln.box.h <= _MAX_LINE_PX and _plausible(ln)]
        return lines + [replace(ln, engine=REREAD_ENGINE) for ln in extra]

    def _reread(self, image: Pixels, box: Box) -> TextLine | None:
        """One blob read as a single line, solid fills in it (a mask beside a label) painted over
        with the background first: Tesseract reads a black box beside text as letters ("= on")."""
        area = box.grow(_LINE_MARGIN).clip(image.shape[1], image.shape[0])
        crop = _without_fills(np.ascontiguousarray(image[area.y : area.y2, area.x : area.x2]))
        line = self._single_line(crop, self.languages, "reread")
        return None if line is None else line.moved(area.x, area.y)

    def read_line(
        self, pixels: Pixels, box: Box, languages: str | None = None, margin: int = _LINE_MARGIN
    ) -> TextLine | None:
        """Re-read one text line of `pixels` inside `box` grown by `margin` pixels; the result is in
        `pixels` coordinates.

        None when Tesseract finds no text there.
        """
        image = check_pixels(pixels)
        area = box.grow(margin).clip(image.shape[1], image.shape[0])
        if area.area == 0:
            raise EngineError(f"line box {box.as_list()} lies outside the image")
        langs = languages or self.languages
        if langs != self.languages:
            find_tessdata(langs)
        crop = np.ascontiguousarray(image[area.y : area.y2, area.x : area.x2])
        line = self._single_line(crop, langs, f"line|{margin}")
        return None if line is None else line.moved(area.x, area.y)

    def _single_line(self, crop: Pixels, languages: str, salt: str) -> TextLine | None:
        """`crop` read as one line, in its own coordinates (None: no text). Ink read before the same
        way (`salt`: how the crop was made) is not read again: its reading, or that there was none."""
        key = ink_key(crop, Box(0, 0, crop.shape[1], crop.shape[0]), f"{languages}|{salt}".encode())
        hit = self._lines.get(key)
        if hit is not None and key is not None:
            return None if hit.line is None else hit.line.moved(key.x, key.y)
        lines = self._run(crop, languages, _PSM_SINGLE_LINE, self.upscale)
        # A single-line read may still come back as pieces; join them left to right.
        line = _join(sorted(lines, key=lambda ln: ln.box.x), self.name) if lines else None
        if key is not None:
            self._lines.put(key, _Reading(None if line is None else line.moved(-key.x, -key.y)))
        return line

    def close(self) -> None:
        with self._lock:
            for api in self._apis.values():
                api.End()
            self._apis.clear()

    def _api(self, languages: str) -> Any:
        api = self._apis.get(languages)
        if api is None:
            import tesserocr

            silence_leptonica()
            try:
                api = tesserocr.PyTessBaseAPI(
                    path=str(self.tessdata), lang=languages, oem=tesserocr.OEM.LSTM_ONLY
                )
            except RuntimeError as exc:
                raise EngineError(f"Tesseract could not load languages {languages}: {exc}") from None
            # Screens carry no vertical text; with jpn loaded, Tesseract otherwise reads a column
            # of Hangul labels as vertical "lines" (garbage syllables stacked over three rows).
            api.SetVariable("textord_tabfind_vertical_text", "0")
            self._apis[languages] = api
        return api

    def _run(self, image: Pixels, languages: str, psm: int, scale: float) -> list[TextLine]:
        from PIL import Image

        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if scale != 1.0:
            size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC)
        with self._lock:
            api = self._api(languages)
            try:
                api.SetPageSegMode(psm)
                api.SetImage(Image.fromarray(gray))
                if not api.Recognize():
                    raise EngineError("Tesseract recognition failed")
                return _collect(api, scale, self.name)
            except EngineError:
                raise
            except Exception as exc:  # noqa: BLE001 - any tesserocr failure fails closed
                raise EngineError(f"Tesseract failed: {type(exc).__name__}") from None
            finally:
                api.Clear()


def _collect(api: Any, scale: float, engine: str) -> list[TextLine]:
    """Lines from the symbol iterator: each symbol its own box; spaces between words interpolated."""
    from tesserocr import RIL, iterate_level

    lines: list[TextLine] = []
    iterator = api.GetIterator()
    if iterator is None:  # nothing recognised
        return lines
    text: list[str] = []
    boxes: list[Box] = []
    line_box, line_conf = Box(0, 0, 0, 0), 0.0
    for symbol in iterate_level(iterator, RIL.SYMBOL):
        bbox = symbol.BoundingBox(RIL.SYMBOL)
        if bbox is None or symbol.Empty(RIL.SYMBOL):
            continue  # an empty page still yields one symbol, with no text and no box
        char = symbol.GetUTF8Text(RIL.SYMBOL)
        if not char:
            continue
        box = _scaled(bbox, scale)
        if symbol.IsAtBeginningOf(RIL.TEXTLINE):
            if text:
                lines.append(TextLine("".join(text), line_box, tuple(boxes), line_conf, engine))
            text, boxes = [], []
            line_box = _scaled(symbol.BoundingBox(RIL.TEXTLINE), scale)
            line_conf = float(symbol.Confidence(RIL.TEXTLINE)) / 100.0
        else:
            _stop_runaway(boxes, box)
            if symbol.IsAtBeginningOf(RIL.WORD) and boxes:
                prev = boxes[-1]
                text.append(" ")
                boxes.append(Box(prev.x2, line_box.y, max(box.x - prev.x2, 0), line_box.h))
        # Tesseract may return a multi-codepoint symbol (a ligature); give each codepoint the box.
        text.extend(char)
        boxes.extend([Box(box.x, line_box.y, box.w, line_box.h)] * len(char))
    if text:
        lines.append(TextLine("".join(text), line_box, tuple(boxes), line_conf, engine))
    return lines


def _stop_runaway(boxes: list[Box], following: Box) -> None:
    """End the last symbol's box where the `following` symbol starts when it reaches past that
    whole symbol: Tesseract now and then gives a word's last symbol a box running to the end of
    the line ("1040 | 000-2024-448924": the last "0" 112 px wide), and a value ending there
    would be masked over its neighbours."""
    if not boxes:
        return
    last = boxes[-1]
    if last.x < following.x and last.x2 > following.x2:
        cut = Box(last.x, last.y, following.x - last.x, last.h)
        i = len(boxes) - 1
        while i >= 0 and boxes[i] == last:  # every codepoint of a multi-codepoint symbol
            boxes[i] = cut
            i -= 1


def _scaled(bbox: tuple[int, int, int, int], scale: float) -> Box:
    x0, y0, x1, y1 = (v / scale for v in bbox)
    left, top = int(np.floor(x0)), int(np.floor(y0))
    return Box(left, top, int(np.ceil(x1)) - left, int(np.ceil(y1)) - top)


@dataclass(frozen=True, slots=True)
class _Reading:
    """A single-line read kept by its ink: the line relative to the ink's corner, or None."""

    line: TextLine | None


def _join(parts: list[TextLine], engine: str) -> TextLine:
    if len(parts) == 1:
        return parts[0]
    text: list[str] = []
    boxes: list[Box] = []
    for part in parts:
        if text:
            prev = boxes[-1]
            text.append(" ")
            boxes.append(Box(prev.x2, prev.y, max(part.box.x - prev.x2, 0), prev.h))
        text.append(part.text)
        boxes.extend(part.char_boxes)
    covering = Box.covering([p.box for p in parts])
    conf = min(p.confidence for p in parts)
    return TextLine("".join(text), covering, tuple(boxes), conf, engine)


_RULE_ROW_COVER = 0.7
_RULE_MIN_ASPECT = 20
_RULE_BAND_PX = 4
_RULE_REST_DENSITY = 0.08


def text_blobs(image: Pixels) -> list[Box]:
    """Boxes of text-like ink: glyph edges (a morphological gradient) joined along the line into
    words and lines; kept when line-sized (8-80 px high) and dense in edges as glyphs are. A solid
    mask, a frame border or a photo's flat area has edges only at its outline and is left out."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    edges = (cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 60).astype(np.uint8)
    # Long straight runs are rules, input-box borders and mask outlines, never glyphs: left out.
    across = np.asarray(cv2.morphologyEx(edges, cv2.MORPH_OPEN, np.ones((1, _RULE_PX), np.uint8)), np.uint8)
    down = np.asarray(cv2.morphologyEx(edges, cv2.MORPH_OPEN, np.ones((_RULE_PX, 1), np.uint8)), np.uint8)
    rules = np.asarray(cv2.dilate(np.maximum(across, down), np.ones((3, 3), np.uint8)), np.uint8)
    edges = np.where(rules > 0, 0, edges).astype(np.uint8)
    joined = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((3, 9), np.uint8))
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out = []
    for x, y, w, h, _area in stats[1:count]:
        if not (8 <= h <= 80 and w >= 8):
            continue
        blob = edges[y : y + h, x : x + w]
        density = float(blob.mean())  # glyph edges are dense
        if 0.12 <= density <= 0.75 and not _drawn_rule(blob):
            out.append(Box(int(x), int(y), int(w), int(h)))
    return out


def _drawn_rule(blob: Pixels) -> bool:
    """A rule drawn with characters ("+------+----+" in a terminal): rows the dashes cover almost
    from end to end, and next to nothing elsewhere (the '+'). Underlined text has such a row too,
    but its letters above it; and a drawn rule is long (a table's width, `_RULE_MIN_ASPECT` times
    its height at least). (Read, a drawn rule comes back as letters: "CS SE ET À".)"""
    height, width = blob.shape
    if width < _RULE_MIN_ASPECT * height:
        return False
    coverage = blob.mean(axis=1)
    band = coverage >= _RULE_ROW_COVER
    if not band.any():
        return False
    rows = np.flatnonzero(band)
    if rows[-1] - rows[0] > _RULE_BAND_PX:  # covered rows at a text's top and bottom: letters
        return False
    near = np.zeros_like(band)
    near[max(int(rows[0]) - 2, 0) : int(rows[-1]) + 3] = True
    rest = blob[~near]
    return rest.size == 0 or float(rest.mean()) < _RULE_REST_DENSITY


def _block_glyph(line: TextLine) -> bool:
    """A "line" taller than any line of screen text that reads as a glyph or two ("Mn" in a box
    460 px high, "『"): page segmentation made letters of a block of masks or of a table's grid.
    As a line it joins every line beside it into one row, and a finding on that row is masked
    over the whole block (order numbers, dates and labels of the table's other columns). A line
    of real text that tall spells more than two letters or digits, and is kept."""
    return line.box.h > _MAX_LINE_PX and sum(c.isalnum() for c in line.text) <= 2


def _plausible(line: TextLine) -> bool:
    """A second reading worth the detectors' time: as tall as small text, two letters or digits at
    least (a rule or a mask's edge comes back as "ーー" in a box 2 px high)."""
    return line.box.h >= _MIN_LINE_PX and sum(c.isalnum() for c in line.text) >= 2


def _without_fills(crop: Pixels) -> Pixels:
    """`crop` with every flat area (no change over 5x5 pixels) far from the background colour (the
    most common grey) painted with the background. Glyph strokes of screen text are thinner than
    5 px, so only fills (masks, filled buttons) go; a dark theme's background is the background."""
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    kernel = np.ones((5, 5), np.uint8)
    flat = cv2.dilate(gray, kernel) == cv2.erode(gray, kernel)
    background = int(np.bincount(gray.ravel(), minlength=256).argmax())
    fill = cv2.dilate((flat & (np.abs(gray.astype(np.int16) - background) > 60)).astype(np.uint8), kernel) > 0
    if not fill.any():
        return crop
    out = crop.copy()
    out[fill] = crop[gray == background][0]
    return out


def _read_whole(box: Box, lines: list[TextLine]) -> bool:
    """Whether at most two lines already read cover at least half of `box` (more pieces than that
    over one blob of ink is a shredded reading)."""
    over = [ln for ln in lines if ln.text.strip() and box.intersection_area(ln.box) > 0]
    return len(over) <= 2 and sum(box.intersection_area(ln.box) for ln in over) * 2 >= box.area
