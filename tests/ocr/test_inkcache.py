"""Readings kept by their ink: the same ink anywhere (whatever box the detector drew around it) is
recognised once; ink that differs by one glyph is recognised again; readings land on the new
position; the cache is bounded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.ocr.synthetic import CJK_FONT, LATIN_FONT, assert_boxes_on_value, find_value, render
from veil.models import Box, Pixels
from veil.ocr.inkcache import InkCache, ink_key
from veil.ocr.rapid import RapidOcrEngine
from veil.ocr.routed import KOREAN_LANGUAGES
from veil.ocr.tess import TesseractEngine

PHONE = "090-1234-5678"


def _canvas(text: str, at: tuple[int, int], font: str = LATIN_FONT) -> Pixels:
    return render(text, font, canvas=(700, 120), at=at).pixels


def _ink_box(pixels: Pixels, margin: tuple[int, int, int, int]) -> Box:
    """The box of the dark pixels, grown by (left, top, right, bottom)."""
    rows = np.flatnonzero((pixels < 128).any(axis=(1, 2)))
    cols = np.flatnonzero((pixels < 128).any(axis=(0, 2)))
    left, top, right, bottom = margin
    x, y = int(cols[0]) - left, int(rows[0]) - top
    return Box(x, y, int(cols[-1]) + 1 + right - x, int(rows[-1]) + 1 + bottom - y)


def test_the_same_ink_has_one_key_whatever_the_box_and_place() -> None:
    a = _canvas(PHONE, (20, 30))
    b = _canvas(PHONE, (300, 60))
    ka = ink_key(a, _ink_box(a, (2, 2, 2, 2)))
    kb = ink_key(b, _ink_box(b, (6, 1, 3, 5)))  # another place, a jittered box
    assert ka is not None and kb is not None
    assert ka.digest == kb.digest
    assert (kb.x - ka.x, kb.y - ka.y) == (280, 30)
    other = _canvas("090-1234-5679", (20, 30))  # one digit differs
    ko = ink_key(other, _ink_box(other, (2, 2, 2, 2)))
    assert ko is not None and ko.digest != ka.digest
    salted = ink_key(a, _ink_box(a, (2, 2, 2, 2)), b"kor")
    assert salted is not None and salted.digest != ka.digest
    assert ink_key(np.full((40, 200, 3), 255, np.uint8), Box(0, 0, 200, 40)) is None


def test_the_cache_is_bounded() -> None:
    cache: InkCache[str] = InkCache(size=2)
    pictures = [_canvas(t, (10, 10)) for t in ("one", "two", "three")]
    keys = [ink_key(p, Box(0, 0, 700, 120)) for p in pictures]
    for key, text in zip(keys, ("one", "two", "three"), strict=True):
        cache.put(key, text)
    assert cache.get(keys[0]) is None  # the least recently used went
    assert [cache.get(k) for k in keys[1:]] == ["two", "three"]


def _counting(monkeypatch: pytest.MonkeyPatch, obj: Any, name: str) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Any] = getattr(obj, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, name, counted)
    return calls


def test_rapid_recognises_ink_once_and_moves_the_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = RapidOcrEngine()
    engine.recognize(_canvas("warm-up", (10, 10)), [Box(0, 0, 200, 60)])  # loads the models
    calls = _counting(monkeypatch, engine, "_rec")
    first = render(f"Tel {PHONE}", LATIN_FONT, canvas=(700, 120), at=(20, 30))
    again = render(f"Tel {PHONE}", LATIN_FONT, canvas=(700, 120), at=(330, 70))
    (a,) = engine.recognize(first.pixels, [_ink_box(first.pixels, (4, 4, 4, 4))])
    (b,) = engine.recognize(again.pixels, [_ink_box(again.pixels, (7, 2, 3, 6))])
    assert len(calls) == 1
    assert a.text == b.text and PHONE in b.text.replace(" ", "")
    line = engine.to_text_line(b)
    hit = find_value([line], PHONE)
    assert hit is not None
    assert_boxes_on_value(line, hit[1], hit[2], again.true_box(PHONE), tolerance=8)
    # One digit changed: never the old reading.
    changed = render("Tel 090-1234-5679", LATIN_FONT, canvas=(700, 120), at=(20, 30))
    (c,) = engine.recognize(changed.pixels, [_ink_box(changed.pixels, (4, 4, 4, 4))])
    assert len(calls) == 2 and "5679" in c.text
    # Asked not to use the cache (a line re-read alone), the recogniser runs.
    engine.recognize(first.pixels, [_ink_box(first.pixels, (4, 4, 4, 4))], cached=False)
    assert len(calls) == 3


def test_tesseract_line_reads_are_kept_by_ink_languages_and_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = TesseractEngine(KOREAN_LANGUAGES)
    calls = _counting(monkeypatch, engine, "_run")
    first = _canvas("연락처 김민수", (20, 30), CJK_FONT)
    again = _canvas("연락처 김민수", (260, 50), CJK_FONT)
    a = engine.read_line(first, _ink_box(first, (1, 1, 1, 1)))
    b = engine.read_line(again, _ink_box(again, (3, 0, 2, 2)))
    assert len(calls) == 1
    assert a is not None and b is not None and a.text == b.text
    assert b.box.x - a.box.x == 240 and b.box.y - a.box.y == 20
    engine.read_line(again, _ink_box(again, (3, 0, 2, 2)), margin=0)  # another crop: read
    engine.read_line(again, _ink_box(again, (3, 0, 2, 2)), "kor")  # another model: read
    assert len(calls) == 3


def test_the_verifiers_rereads_of_left_out_ink_are_kept_by_ink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ink the page read left out is read again as one line; the same ink elsewhere (a row
    scrolled, a window switched back to) is not read again, and its reading moves with it."""
    engine = TesseractEngine("eng", read_all_ink=True)
    monkeypatch.setattr(engine, "_run", _counting_run(engine))
    calls = engine._run.calls  # type: ignore[attr-defined]
    first = _canvas(PHONE, (20, 30))
    again = _canvas(PHONE, (260, 50))
    a = engine.read(first)
    b = engine.read(again)
    # Each page read once, the left-out line read once in all.
    assert calls == ["page", "line", "page"], calls
    (la,), (lb,) = a, b
    assert la.text == lb.text
    assert (lb.box.x - la.box.x, lb.box.y - la.box.y) == (240, 20)


def _counting_run(engine: TesseractEngine) -> Any:
    """`engine._run` that reads no line on a page (a page read leaving everything out) and
    records which kind of read it was asked for."""
    from veil.ocr.tess import _PSM_SINGLE_LINE

    real = engine._run
    calls: list[str] = []

    def run(image: Pixels, languages: str, psm: int, scale: float) -> Any:
        if psm != _PSM_SINGLE_LINE:
            calls.append("page")
            return []
        calls.append("line")
        return real(image, languages, psm, scale)

    run.calls = calls  # type: ignore[attr-defined]
    return run


def test_faint_text_beside_the_ink_takes_no_reading_of_the_ink_without_it() -> None:
    """A value dimmed behind a backdrop, right of a label in the same box, must not take the
    reading of the label alone: such a box gets no key. Rules and plain shading beside it do."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(LATIN_FONT, 20)

    def picture(faint: str | None, rule: bool = False, shade: bool = False) -> Pixels:
        image = Image.new("RGB", (520, 60), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        if shade:
            draw.rectangle((300, 0, 519, 59), fill=(236, 236, 236))
        if rule:
            draw.line((280, 0, 280, 59), fill=(225, 225, 225))
            draw.line((0, 52, 519, 52), fill=(225, 225, 225))
        draw.text((10, 15), "Name:", font=font, fill=(20, 20, 20))
        if faint:
            fill = (222, 222, 222) if not shade else (210, 210, 210)
            draw.text((310, 15), faint, font=font, fill=fill)
        return np.asarray(image).copy()

    whole = Box(0, 0, 520, 60)
    plain = ink_key(picture(None), whole)
    assert plain is not None
    assert ink_key(picture("Minsu Kim"), whole) is None
    assert ink_key(picture("Minsu Kim", shade=True), whole) is None
    ruled = ink_key(picture(None, rule=True), whole)
    shaded = ink_key(picture(None, shade=True), whole)
    assert ruled is not None and shaded is not None
