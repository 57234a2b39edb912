"""The default ("auto") engine: PP-OCR finds and reads every line; Korean lines go to Tesseract.

PP-OCRv6's dictionary has no Hangul. On a Korean line it does not fail loudly: it drops the Hangul
and reads the rest with high confidence (`연락처: 010-1234-5678` -> `:010-1234-5678` at 0.98), or
emits a few look-alike Han characters (`주민등록번호` -> `号出京` at 0.91). Confidence alone therefore
cannot route, but the pixels can: Hangul the recogniser skipped is ink on the line that no
recognised character accounts for. The rule, per detected line:

    re-read with Tesseract kor+eng (2x upscaled line crop) when
      - PP-OCR read nothing on it, or its confidence is under `reread_below` (0.8), or
      - the widest run of ink columns no recognised character explains is wider than
        `unread_ink` (0.45) x the line height (a Hangul syllable is about one line height wide), or
    The re-read replaces PP-OCR's reading only if it contains Hangul. When kor+eng reads no Hangul
    the line is read once more with `kor` alone (kor+eng can settle on English glyphs for a short
    name); that reading, if it holds Hangul, is kept beside PP-OCR's. When neither holds Hangul and
    PP-OCR read no Latin letter or kana there, the line's own box is read without the margin (in a
    packed list the margin takes in the ink of the lines above and below).

A character "explains" the columns within 0.75 of its expected advance around its CTC centre (the
advance is estimated per line, full-width characters counting double); rule rows (table borders)
are ignored. Measured on the synthetic lines of `bench/ocr_corpus.py` (120 per language, 18 px),
the widest unexplained run / line height is 0.57-9 on Korean lines (5th percentile 1.11) and at
most 0.33 on Japanese, French and English ones. `bench/ocr_engines.py --route` (50 lines per
language at 14/18/24 px): Korean lines re-read 148/150 (the two misses: `주민등록번호` read as
five look-alike Han characters at 0.87-0.88 confidence, digits still read right); Japanese, French
and English lines 0/150 each. A "Han without kana -> re-read" rule caught those two but turned
kanji-only Japanese lines into Hangul garbage (JA char accuracy 0.99 -> 0.73) when the re-read
replaced PP-OCR's reading. So Han-only lines are probed only on a screen where Hangul was read,
and the probe is added beside PP-OCR's reading, never instead of it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

import cv2
import numpy as np

from veil.models import Box, Pixels, TextLine
from veil.ocr._common import boxes_from_centers, char_weight, check_pixels
from veil.ocr.base import OcrEngine
from veil.ocr.rapid import RapidOcrEngine, RawLine
from veil.ocr.tess import TesseractEngine

KOREAN_LANGUAGES = "kor+eng"
KOREAN_ONLY = "kor"
# A Han-only line on a Korean screen may be a Japanese name in a Korean sentence ("山口 翔太님께"):
# kor+eng reads the kanji as Latin garbage, kor+jpn reads both.
PROBE_LANGUAGES = "kor+jpn+eng"
KOREAN_ONLY_SUFFIX = "-kor"
CODES_SUFFIX = "-codes"
# A code in a Korean line: a run of non-Hangul ink holding a digit, at least 4 characters.
_CODE = re.compile(r"(?=[^\s\uac00-\ud7a3]*\d)[^\s\uac00-\ud7a3]{4,}")
PROBE_CONFIDENCE = 0.7  # a probe's Hangul reading is kept only this sure
_CODE_CONFIDENCE = 0.9  # PP-OCR's re-reading of a code replaces Tesseract's only when this sure
_INK_CONTRAST = 60  # grey levels from the background that count as ink
_RULE_ROW = 0.6  # a row with more ink than this fraction of its width is a rule line
_BRIDGE = 0.25  # white gaps up to this x line height inside unread ink are bridged
_EXPLAINED = 0.75  # half-width, in advances, of the columns one character accounts for


class RoutedEngine(OcrEngine):
    """PP-OCR for detection and reading; Tesseract `kor+eng` for the lines PP-OCR cannot read."""

    name = "auto"

    def __init__(
        self,
        rapid: RapidOcrEngine | None = None,
        tesseract: TesseractEngine | None = None,
        *,
        unread_ink: float = 0.45,
        reread_below: float = 0.8,
        min_confidence: float = 0.5,
    ) -> None:
        self.rapid = rapid or RapidOcrEngine()
        self.tesseract = tesseract or TesseractEngine(KOREAN_LANGUAGES)
        self.unread_ink = unread_ink
        self.reread_below = reread_below
        self.min_confidence = min_confidence

    def read(self, pixels: Pixels) -> list[TextLine]:
        return self._read(pixels, native=False)

    def read_part(self, pixels: Pixels) -> list[TextLine]:
        return self._read(pixels, native=True)

    def _read(self, pixels: Pixels, native: bool) -> list[TextLine]:
        image = check_pixels(pixels)
        gray = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        lines: list[TextLine] = []
        han_only: list[RawLine] = []
        for raw in self.rapid.read_raw(image, native=native):
            line = None
            if self.needs_korean(gray, raw):
                line = self._korean(image, raw)
            if line is not None:
                lines += _with_joined(line)
                spliced = self._reread_codes(image, line, raw.text)
                if spliced is not None:
                    lines += _with_joined(spliced)
                korean_only = line.engine.endswith(KOREAN_ONLY_SUFFIX)
                if korean_only or any(c.isdigit() or c == "@" for c in raw.text):
                    # Tesseract's Korean model misreads some digits (010 -> 0210) and, alone,
                    # Latin codes, that PP-OCR reads right: keep PP-OCR's reading of the same line
                    # too, so the detectors see them either way (the primary pass may only ever
                    # find more).
                    lines.append(_renamed(self.rapid.to_text_line(raw), f"{self.name}:rapidocr-digits"))
            elif raw.text.strip() and raw.confidence >= self.min_confidence:
                lines.append(_renamed(self.rapid.to_text_line(raw), f"{self.name}:rapidocr"))
                if _han_without_kana(raw.text):
                    han_only.append(raw)
        if any(_is_hangul(c) for ln in lines for c in ln.text):
            # A Korean screen: PP-OCR also reads some Hangul names as look-alike Han characters at
            # high confidence ("오준혁" -> "歪"). Its Han-only lines are read by Tesseract too, and
            # both readings kept (on a Japanese screen, with no Hangul, nothing changes).
            for raw in han_only:
                probe = self._korean(image, raw, PROBE_LANGUAGES)
                # Tesseract reading Hangul into a kanji-only label is garbage at low confidence
                # ("口座普通" -> "ㅁ 또 끔 괜" at 0.46); a Hangul name PP-OCR misread is read sure.
                if probe is not None and probe.confidence >= PROBE_CONFIDENCE:
                    lines += _with_joined(_renamed(probe, f"{self.name}:tesseract-probe"))
        return lines

    def _korean(self, image: Pixels, raw: RawLine, languages: str = KOREAN_LANGUAGES) -> TextLine | None:
        """Tesseract's kor+eng re-read of the line, or None when it holds no Hangul (a false route:
        PP-OCR's reading is kept, so a false route costs time, not accuracy)."""
        line = self.tesseract.read_line(image, raw.box, languages)
        if line is not None and any(_is_hangul(c) for c in line.text):
            return _renamed(line, f"{self.name}:tesseract")
        # kor+eng sometimes settles on English for a few syllables ("정새롬" -> "SM") where the
        # Korean model alone reads them; it misreads Latin codes, so PP-OCR's line stays beside it.
        line = self.tesseract.read_line(image, raw.box, KOREAN_ONLY)
        if line is not None and any(_is_hangul(c) for c in line.text):
            return _renamed(line, f"{self.name}:tesseract{KOREAN_ONLY_SUFFIX}")
        if any((c.isascii() and c.isalpha()) or _is_kana(c) for c in raw.text):
            return None  # PP-OCR read Latin letters or kana there: not a Korean line it misread
        # Lines packed 1-2 px apart (a mail list: a bold name and its time over the subject):
        # the margin around the crop takes in the ink of the lines above and below, and the
        # single-line read comes back empty or as Latin garbage ("홍명숙 10:41" -> "SYS lol").
        # Read the line's own box alone.
        line = self.tesseract.read_line(image, raw.box, languages, margin=0)
        if line is None or not any(_is_hangul(c) for c in line.text):
            return None
        return _renamed(line, f"{self.name}:tesseract-tight")

    def _reread_codes(self, image: Pixels, line: TextLine, rapid_text: str) -> TextLine | None:
        """Tesseract's Korean reading with its codes re-read by PP-OCR, or None when none needed it.

        Tesseract's Korean model misreads Latin letters in codes ("M01187401" -> "101187401",
        "M701A3669" -> "470143669"), and PP-OCR's reading of the whole Korean line is garbage
        around them ("8740"); PP-OCR reads the code right from a crop of the code alone. A code
        (a run of non-Hangul ink with a digit) is re-read when its digits are not among the digits
        PP-OCR read on the line; the re-reading is spliced into Tesseract's line, so the label
        before the code ("여권번호") stays on it."""
        codes = [m for m in _CODE.finditer(line.text) if _digits(m.group(0)) not in _digits(rapid_text)]
        if not codes or len(line.char_boxes) != len(line.text):
            return None
        boxes = [_code_box(line, m.start(), m.end()) for m in codes]
        reads = self.rapid.recognize(image, boxes)
        text, chars, last = "", list[Box](), 0
        for m, box, raw in zip(codes, boxes, reads, strict=True):
            if (
                raw.confidence < _CODE_CONFIDENCE
                or not _digits(raw.text)
                or any(c.isspace() for c in raw.text)
            ):
                continue
            text += line.text[last : m.start()] + raw.text
            chars += [*line.char_boxes[last : m.start()], *boxes_from_centers(raw.centers, box)]
            last = m.end()
        if not last:
            return None
        text += line.text[last:]
        chars += line.char_boxes[last:]
        return replace(line, text=text, char_boxes=tuple(chars), engine=f"{line.engine}{CODES_SUFFIX}")

    def needs_korean(self, gray: Pixels, raw: RawLine) -> bool:
        """Whether PP-OCR's reading of `raw` misses text (the routing rule of the module docstring)."""
        if not raw.text.strip() or raw.confidence < self.reread_below:
            return True
        return unread_ink_run(gray, raw) > self.unread_ink * raw.box.h


def join_spaced_hangul(line: TextLine) -> TextLine:
    """Drop the spaces Tesseract's Korean model puts between syllables ("서 하 윤 입니다" ->
    "서하윤 입니다"): a space between two Hangul syllables goes when the token on either side of it
    is a single syllable. Real word spaces between longer words stay; boxes follow the text."""
    text = line.text
    tokens = text.split(" ")
    keep: list[int] = []
    position = 0
    for i, token in enumerate(tokens):
        keep.extend(range(position, position + len(token)))
        position += len(token)
        if i + 1 < len(tokens):
            nxt = tokens[i + 1]
            joined = (
                token
                and nxt
                and _is_hangul(token[-1])
                and _is_hangul(nxt[0])
                and (len(token) == 1 or len(nxt) == 1)
            )
            if not joined:
                keep.append(position)  # the space
            position += 1
    if len(keep) == len(text):
        return line
    return replace(
        line, text="".join(text[i] for i in keep), char_boxes=tuple(line.char_boxes[i] for i in keep)
    )


def unread_ink_run(gray: Pixels, raw: RawLine) -> float:
    """Width in pixels of the widest run of ink columns in `raw.box` no recognised character explains."""
    box = raw.box
    crop = gray[box.y : box.y2, box.x : box.x2].astype(np.int16)
    if crop.size == 0:
        return 0.0
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
    ink_pixels = np.abs(crop - int(np.median(border))) > _INK_CONTRAST
    # Rows that are mostly ink are rules (table borders, underlines), not text.
    text_rows = ink_pixels.mean(axis=1) < _RULE_ROW
    ink = ink_pixels[text_rows].any(axis=0) if text_rows.any() else np.zeros(box.w, dtype=bool)
    explained = np.zeros(box.w, dtype=bool)
    advance = unit_advance(raw)
    for char, center in zip(raw.text, raw.centers, strict=True):
        if char.isspace():
            continue
        half = _EXPLAINED * advance * char_weight(char)
        lo, hi = int(center - half) - box.x, int(np.ceil(center + half)) - box.x
        explained[max(lo, 0) : max(hi, 0)] = True
    unread = (ink & ~explained).astype(np.uint8)[None, :]
    # Bridge the white columns inside a syllable or between syllables of one word, never across a
    # recognised character.
    bridge = max(int(box.h * _BRIDGE), 1) * 2 + 1
    closed = cv2.morphologyEx(unread, cv2.MORPH_CLOSE, np.ones((1, bridge), np.uint8))[0].astype(bool)
    return float(_longest_run(closed & ~explained))


def unit_advance(raw: RawLine) -> float:
    """Median pixels per unit of character weight on this line (a Latin character is one unit)."""
    pairs = [
        (raw.centers[i + 1] - raw.centers[i]) / ((char_weight(a) + char_weight(b)) / 2)
        for i, (a, b) in enumerate(zip(raw.text, raw.text[1:], strict=False))
    ]
    positive = sorted(p for p in pairs if p > 0)
    return positive[len(positive) // 2] if positive else raw.box.h * 0.5


def _longest_run(mask: np.ndarray) -> int:
    best = run = 0
    for value in mask.tolist():
        run = run + 1 if value else 0
        best = max(best, run)
    return best


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f"


def _with_joined(line: TextLine) -> list[TextLine]:
    """The line, and its spelling without Tesseract's spaces between syllables when it differs:
    names read "서 하 윤", addresses need the real word spaces, so the detectors get both (the
    primary pass may only ever find more)."""
    joined = join_spaced_hangul(line)
    return [line] if joined is line else [line, _renamed(joined, f"{line.engine}-joined")]


def _digits(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isdigit())


def _code_box(line: TextLine, start: int, end: int) -> Box:
    """The box of characters [start, end) of `line`, with a quarter line height of margin that
    stops at the neighbouring characters' ink."""
    cover = Box.covering([b for b in line.char_boxes[start:end] if b.area > 0] or [line.box])
    pad = max(line.box.h // 4, 2)
    before = [
        b.x2 for c, b in zip(line.text[:start], line.char_boxes[:start], strict=True) if not c.isspace()
    ]
    after = [b.x for c, b in zip(line.text[end:], line.char_boxes[end:], strict=True) if not c.isspace()]
    left = max(cover.x - pad, before[-1] if before else line.box.x)
    right = min(cover.x2 + pad, after[0] if after else line.box.x2)
    return Box(left, line.box.y, max(right - left, 1), line.box.h)


def _is_kana(char: str) -> bool:
    return "\u3040" <= char <= "\u30ff"


def _han_without_kana(text: str) -> bool:
    han = any("\u4e00" <= c <= "\u9fff" for c in text)
    return han and not any(_is_kana(c) for c in text)


def _renamed(line: TextLine, engine: str) -> TextLine:
    return TextLine(line.text, line.box, line.char_boxes, line.confidence, engine)
