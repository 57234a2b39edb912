from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.ocr.synthetic import CJK_FONT, LATIN_FONT, assert_boxes_on_value, find_value, norm, render
from veil.exceptions import EngineError
from veil.models import Box
from veil.ocr.tess import DEBIAN_TESSDATA, TesseractEngine, find_tessdata

SECRET = "010-1234-5678"


@pytest.fixture(scope="module")
def kor() -> TesseractEngine:
    return TesseractEngine("kor+eng")


@pytest.fixture(scope="module")
def everything() -> TesseractEngine:
    return TesseractEngine("kor+jpn+fra+eng")


@pytest.mark.parametrize(
    ("text", "font", "value", "hangul"),
    [
        ("연락처: 010-1234-5678", CJK_FONT, "010-1234-5678", "연락처"),
        ("電話番号：090-1234-5678", CJK_FONT, "090-1234-5678", ""),
        ("Téléphone : 06 12 34 56 78", LATIN_FONT, "06 12 34 56 78", ""),
        ("alice.martin@example.com", LATIN_FONT, "alice.martin@example.com", ""),
    ],
)
def test_reads_line_and_boxes_cover_the_value(
    everything: TesseractEngine, text: str, font: str, value: str, hangul: str
) -> None:
    rendered = render(text, font)
    lines = everything.read(rendered.pixels)
    hit = find_value(lines, value)
    assert hit is not None, [norm(ln.text) for ln in lines]
    line, start, end = hit
    assert line.engine == "tesseract"
    assert len(line.char_boxes) == len(line.text)
    assert hangul in norm(line.text)
    assert_boxes_on_value(line, start, end, rendered.true_box(value), tolerance=6)


def test_read_line_maps_back_to_frame_coordinates(kor: TesseractEngine) -> None:
    rendered = render("고객 전화 010-9876-5432", CJK_FONT, canvas=(800, 240), at=(300, 150))
    truth = rendered.true_box("010-9876-5432")
    line_box = rendered.true_box("고객 전화 010-9876-5432").grow(3)
    line = kor.read_line(rendered.pixels, line_box)
    assert line is not None
    hit = find_value([line], "010-9876-5432")
    assert hit is not None, norm(line.text)
    assert_boxes_on_value(line, hit[1], hit[2], truth, tolerance=6)


def test_read_line_on_empty_area_is_none(kor: TesseractEngine) -> None:
    assert kor.read_line(np.full((100, 400, 3), 255, dtype=np.uint8), Box(10, 10, 200, 30)) is None


def test_read_line_outside_the_image_raises(kor: TesseractEngine) -> None:
    with pytest.raises(EngineError, match="outside"):
        kor.read_line(np.full((100, 400, 3), 255, dtype=np.uint8), Box(900, 900, 20, 20))


def test_one_api_per_language_set_is_reused(kor: TesseractEngine) -> None:
    rendered = render("Phone 555 0100", LATIN_FONT)
    kor.read(rendered.pixels)
    first = kor._apis["kor+eng"]
    kor.read(rendered.pixels)
    assert kor._apis["kor+eng"] is first


def test_missing_language_names_the_debian_package() -> None:
    with pytest.raises(EngineError, match="apt-get install tesseract-ocr-zzz"):
        TesseractEngine("eng+zzz")


def test_tessdata_prefix_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = next(d for d in DEBIAN_TESSDATA if (d / "eng.traineddata").is_file())
    (tmp_path / "tessdata").mkdir()
    (tmp_path / "tessdata" / "eng.traineddata").symlink_to(source / "eng.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert find_tessdata("eng") == tmp_path / "tessdata"
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "tessdata"))
    assert find_tessdata("eng") == tmp_path / "tessdata"


@pytest.mark.parametrize("upscale", [0.0, 100.0])
def test_bad_upscale_is_refused(upscale: float) -> None:
    with pytest.raises(EngineError, match="upscale"):
        TesseractEngine("eng", upscale)


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((40, 100, 3), dtype=np.int32),
        np.zeros((40, 100), dtype=np.uint8),
        np.zeros((0, 0, 3), dtype=np.uint8),
        "not an image",
    ],
)
def test_unreadable_input_raises_engine_error(kor: TesseractEngine, pixels: Any) -> None:
    with pytest.raises(EngineError):
        kor.read(pixels)


def test_tesseract_failure_raises_engine_error_without_text() -> None:
    engine = TesseractEngine("eng")
    rendered = render(f"Tel {SECRET}", LATIN_FONT)
    engine.read(rendered.pixels)
    api = engine._apis["eng"]

    class Broken:
        def __getattr__(self, name: str) -> Any:
            return getattr(api, name)

        def GetIterator(self) -> Any:
            raise RuntimeError(f"iterator broke on {SECRET}")

    engine._apis["eng"] = Broken()
    with pytest.raises(EngineError) as info:
        engine.read(rendered.pixels)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None


def test_recognize_returning_false_raises() -> None:
    engine = TesseractEngine("eng")
    engine.read(np.full((20, 20, 3), 255, dtype=np.uint8))
    api = engine._apis["eng"]

    class Refusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(api, name)

        def Recognize(self) -> bool:
            return False

    engine._apis["eng"] = Refusing()
    with pytest.raises(EngineError, match="recognition failed"):
        engine.read(np.full((20, 20, 3), 255, dtype=np.uint8))


def test_vertical_text_detection_is_off() -> None:
    # With jpn loaded, Tesseract otherwise reads a column of Hangul labels as vertical "lines".
    engine = TesseractEngine("kor+jpn+eng")
    assert engine._api("kor+jpn+eng").GetVariableAsString("textord_tabfind_vertical_text") == "0"


class _Symbol:
    """A scripted Tesseract symbol (tesserocr's method names): text, box on a line 20 px tall."""

    def __init__(self, char: str, x0: int, x1: int, word_start: bool, line_start: bool) -> None:
        self.char, self.box, self.word_start, self.line_start = char, (x0, 0, x1, 20), word_start, line_start

    def BoundingBox(self, level: int) -> tuple[int, int, int, int]:
        from tesserocr import RIL

        return (0, 0, 400, 20) if level == RIL.TEXTLINE else self.box

    def Empty(self, level: int) -> bool:
        return False

    def GetUTF8Text(self, level: int) -> str:
        return self.char

    def IsAtBeginningOf(self, level: int) -> bool:
        from tesserocr import RIL

        return self.line_start if level == RIL.TEXTLINE else self.word_start or self.line_start

    def Confidence(self, level: int) -> float:
        return 90.0


@pytest.mark.parametrize(
    ("words", "expected_x2"),
    [
        # (words as (text, [(x0, x1) per symbol]), right edge of each non-space symbol's box)
        # The last "0" of "1040" ran to the end of the line, over the order number after it.
        ([("1040", [(0, 8), (8, 16), (16, 24), (24, 120)]), ("ORD", [(40, 48), (48, 56), (56, 64)])],
         [8, 16, 24, 40, 48, 56, 64]),
        # Glyphs overlapping a little (kerning) keep their boxes.
        ([("AV", [(0, 10), (8, 18)]), ("x", [(30, 36)])], [10, 18, 36]),
    ],
)  # fmt: skip
def test_no_symbol_box_runs_over_the_symbols_after_it(
    monkeypatch: pytest.MonkeyPatch, words: list[tuple[str, list[tuple[int, int]]]], expected_x2: list[int]
) -> None:
    import tesserocr

    from veil.ocr.tess import _collect

    symbols = [
        _Symbol(c, x0, x1, i == 0, w == 0 and i == 0)
        for w, (text, xs) in enumerate(words)
        for i, (c, (x0, x1)) in enumerate(zip(text, xs, strict=True))
    ]
    monkeypatch.setattr(tesserocr, "iterate_level", lambda iterator, level: iter(symbols))

    class Api:
        def GetIterator(self) -> object:
            return object()

    (line,) = _collect(Api(), 1.0, "tesseract")
    assert [b.x2 for c, b in zip(line.text, line.char_boxes, strict=True) if not c.isspace()] == expected_x2
    space = line.char_boxes[line.text.index(" ")]
    assert (space.x, space.x2) == (expected_x2[len(words[0][0]) - 1], words[1][1][0][0])


def test_a_rule_drawn_with_characters_is_no_text_blob_but_text_on_a_line_is() -> None:
    from PIL import Image, ImageDraw, ImageFont

    from veil.ocr.tess import text_blobs

    image = Image.new("RGB", (900, 140), (16, 20, 24))
    draw = ImageDraw.Draw(image)
    mono = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 14)
    serif = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 16)
    draw.text((10, 10), "+------+---------------------------+-------------------+-----------+", font=mono)
    draw.text((10, 50), "IBAN: GB86 YANR 5109 5502 0889 34", font=serif)
    draw.text((10, 90), "jane.doe@example.com", font=mono)
    draw.line((10, 108, 180, 108), fill="white")  # underlined
    blobs = text_blobs(np.asarray(image))
    assert not [b for b in blobs if b.y < 30]  # the drawn rule
    assert [b for b in blobs if 45 <= b.y <= 70]  # the IBAN line
    assert [b for b in blobs if 85 <= b.y <= 112]  # the underlined address


def test_a_line_of_blanks_is_not_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Page segmentation now and then returns a "line" holding only a space, the size of a whole
    table it could not split; kept, it made every re-read rectangle of the incremental verifier
    reach it (a sheet scrolled sideways was read whole on every frame)."""
    from veil.models import TextLine

    engine = TesseractEngine("eng")
    table = Box(0, 29, 1280, 691)
    page = [
        TextLine(" ", table, (table,), 95.0, "tesseract"),
        TextLine(
            "Orders",
            Box(10, 4, 60, 14),
            tuple(Box(10 + 10 * i, 4, 10, 14) for i in range(6)),
            90.0,
            "tesseract",
        ),
    ]
    monkeypatch.setattr(engine, "_run", lambda *args: list(page))
    assert [ln.text for ln in engine.read(np.full((720, 1280, 3), 255, np.uint8))] == ["Orders"]


def test_a_glyph_or_two_as_tall_as_a_block_is_not_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Page segmentation over a table whose names are masked now and then returns a "line" of a
    glyph or two ("Mn") 460 px high; kept, it joined every line of the table into one row, and a
    name found on that row was masked over the order numbers and dates of the other columns.
    Real text that tall, with more than two letters or digits, stays a line."""
    from veil.models import TextLine

    engine = TesseractEngine("eng")

    def line(text: str, box: Box) -> TextLine:
        step = box.w // len(text)
        chars = tuple(Box(box.x + step * i, box.y, step, box.h) for i in range(len(text)))
        return TextLine(text, box, chars, 90.0, "tesseract")

    page = [
        line("Mn", Box(714, 396, 524, 462)),
        line("『", Box(8, 320, 254, 146)),
        line("WELCOME", Box(10, 880, 900, 120)),
        line("ORD-2025-406262", Box(202, 410, 90, 10)),
    ]
    monkeypatch.setattr(engine, "_run", lambda *args: list(page))
    read = engine.read(np.full((1080, 1920, 3), 255, np.uint8))
    assert [ln.text for ln in read] == ["WELCOME", "ORD-2025-406262"]
