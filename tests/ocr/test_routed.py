from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.ocr.synthetic import CJK_FONT, LATIN_FONT, assert_boxes_on_value, find_value, norm, render
from veil.models import Box, Pixels, TextLine
from veil.ocr.rapid import RapidOcrEngine, RawLine
from veil.ocr.routed import KOREAN_LANGUAGES, RoutedEngine, unread_ink_run
from veil.ocr.tess import TesseractEngine


@pytest.fixture(scope="module")
def engine() -> RoutedEngine:
    return RoutedEngine()


@pytest.mark.parametrize(
    ("text", "font", "value", "route"),
    [
        ("연락처: 010-1234-5678", CJK_FONT, "010-1234-5678", "auto:tesseract"),
        ("주민등록번호 900101-1234567", CJK_FONT, "900101-1234567", "auto:tesseract"),
        ("電話番号：090-1234-5678", CJK_FONT, "090-1234-5678", "auto:rapidocr"),
        ("Téléphone : 06 12 34 56 78", LATIN_FONT, "06 12 34 56 78", "auto:rapidocr"),
        ("alice.martin@example.com", LATIN_FONT, "alice.martin@example.com", "auto:rapidocr"),
    ],
)
def test_routes_korean_to_tesseract_and_the_rest_to_ppocr(
    engine: RoutedEngine, text: str, font: str, value: str, route: str
) -> None:
    rendered = render(text, font, canvas=(700, 160), at=(120, 60))
    lines = engine.read(rendered.pixels)
    hit = find_value(lines, value)
    assert hit is not None, [norm(ln.text) for ln in lines]
    line, start, end = hit
    assert line.engine == route
    assert_boxes_on_value(line, start, end, rendered.true_box(value), tolerance=8)


def test_korean_words_are_read(engine: RoutedEngine) -> None:
    rendered = render("고객명 김민준 전화 010-2222-3333", CJK_FONT)
    text = norm("".join(ln.text for ln in engine.read(rendered.pixels)))
    # Tesseract reads this "0210-2222-3333" (a known kor digit misread), so only the tail is asserted.
    assert "김민준" in text and "2222-3333" in text


def _raw(text: str, centers: list[float], box: Box, confidence: float = 0.99) -> RawLine:
    return RawLine(box, text, confidence, tuple(centers))


def test_empty_or_unsure_reading_is_reread(engine: RoutedEngine) -> None:
    gray = np.full((40, 200), 255, dtype=np.uint8)
    assert engine.needs_korean(gray, _raw("", [], Box(0, 0, 200, 40)))
    assert engine.needs_korean(gray, _raw("ab", [10, 20], Box(0, 0, 200, 40), confidence=0.6))
    assert not engine.needs_korean(gray, _raw("ab", [10, 20], Box(0, 0, 200, 40)))


def test_unread_ink_measures_what_no_character_explains() -> None:
    rendered = render("연락처 0101", CJK_FONT, canvas=(300, 40), at=(10, 5))
    gray = np.asarray(cv2.cvtColor(rendered.pixels, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    digits = rendered.true_box("0101")
    step = digits.w / 4
    centers = [digits.x + step * (i + 0.5) for i in range(4)]
    line = Box(0, 0, 300, 40)
    all_read = unread_ink_run(gray, _raw("0101", centers, line))
    hangul = rendered.true_box("연락처")
    assert all_read >= 0.8 * hangul.w  # the three skipped syllables
    blank = np.full_like(gray, 255)
    assert unread_ink_run(blank, _raw("0101", centers, line)) == 0


class _EnglishOnKorEng(TesseractEngine):
    """kor+eng settling on English glyphs for a whole line (seen on short names in terminals)."""

    def read_line(self, pixels: Pixels, box: Box, languages: str | None = None) -> TextLine | None:
        line = super().read_line(pixels, box, languages)
        if languages == KOREAN_LANGUAGES and line is not None:
            return replace(line, text="".join("S" if "\uac00" <= c <= "\ud7a3" else c for c in line.text))
        return line


def test_korean_alone_rereads_a_line_kor_eng_read_as_english() -> None:
    engine = RoutedEngine(tesseract=_EnglishOnKorEng(KOREAN_LANGUAGES))
    rendered = render("9602 | 정새롬 | ORD-2026-253065", CJK_FONT, canvas=(600, 60), at=(10, 15))
    lines = engine.read(rendered.pixels)
    by_engine = {ln.engine: norm(ln.text) for ln in lines}
    assert "새롬" in by_engine["auto:tesseract-kor"], by_engine
    # Korean alone garbles Latin codes: PP-OCR's reading of the same line stays beside it.
    assert "ORD-2026-253065" in by_engine["auto:rapidocr-digits"], by_engine


class _ScriptedRapid(RapidOcrEngine):
    """PP-OCR's detection and reading replaced by fixed lines (its own misreads, scripted)."""

    def __init__(self, raws: list[RawLine]) -> None:
        super().__init__()
        self.raws = raws

    def read_raw(self, pixels: Pixels, *, native: bool = False) -> list[RawLine]:
        return self.raws


def _scripted(text: str, box: Box, confidence: float) -> RawLine:
    step = box.w / max(len(text), 1)
    return RawLine(box, text, confidence, tuple(box.x + step * (i + 0.5) for i in range(len(text))))


@pytest.mark.parametrize("korean_screen", [True, False])
def test_han_lookalikes_of_a_hangul_name_are_probed_on_korean_screens(korean_screen: bool) -> None:
    canvas = np.full((120, 500, 3), 255, np.uint8)
    first = render(
        "연락처 010-2222-3333" if korean_screen else "電話 090-2222-3333", CJK_FONT, canvas=(500, 60)
    )
    name = render("오준혁", CJK_FONT, canvas=(500, 60))
    canvas[:60], canvas[60:] = first.pixels, name.pixels
    name_box = name.true_box("오준혁")
    raws = [
        # the Korean line is unsure (re-read as usual); the name comes back as one Han character
        _scripted(
            ":010-2222-3333" if korean_screen else "電話090-2222-3333",
            Box(5, 5, 400, 40),
            0.6 if korean_screen else 0.99,
        ),
        _scripted("歪", Box(name_box.x - 2, 60 + name_box.y - 2, name_box.w + 4, name_box.h + 4), 0.99),
    ]
    engine = RoutedEngine(_ScriptedRapid(raws), unread_ink=100.0)
    lines = engine.read(canvas)
    probes = [norm(ln.text) for ln in lines if ln.engine.startswith("auto:tesseract-probe")]
    assert any(ln.engine == "auto:rapidocr" and ln.text == "歪" for ln in lines)  # kept either way
    if korean_screen:
        assert any("준혁" in p for p in probes), probes
    else:
        assert probes == []


def test_a_japanese_name_in_a_korean_sentence_is_probed_with_japanese_too() -> None:
    """A generated Korean support chat: "山口 翔太님께 발송 예정입니다" comes back from PP-OCR as
    "口翔太舎."; the probe (Korean and Japanese) reads the name."""
    from bench.people import people_specs

    from veil.synth.screens import render_screen

    screen = render_screen(people_specs(8, 1)[0])
    crop = np.ascontiguousarray(screen.pixels[280:400, 1560:1920])
    texts = [
        norm(ln.text) for ln in RoutedEngine().read(crop) if ln.engine.startswith("auto:tesseract-probe")
    ]
    assert any("山口" in t and "翔太" in t for t in texts), texts


@pytest.mark.parametrize(
    ("seed", "frame", "raw", "value"),
    [
        # (generated bench screen, PP-OCR's line box and reading there, the code in that line)
        (1, 8, _scripted("8740", Box(180, 334, 210, 21), 0.6), "M01187401"),  # Tesseract: "101187401"
        (5, 12, _scripted("701A3669 .", Box(1614, 198, 272, 27), 0.81), "M701A3669"),  # "470143669"
    ],
)
def test_codes_in_a_korean_line_are_reread_by_ppocr(seed: int, frame: int, raw: RawLine, value: str) -> None:
    """Tesseract's Korean model misreads the Latin letters of a passport number and PP-OCR's
    reading of the whole Korean line is garbage; PP-OCR reads the code right from a crop of the
    code, and its reading is spliced into the Korean line, whose label ("여권번호") stays beside
    the value."""
    from bench.redaction import bench_specs

    from veil.synth.screens import render_screen

    screen = render_screen(bench_specs(frame + 1, seed)[frame])
    lines = RoutedEngine(_ScriptedRapid([raw])).read(screen.pixels)
    hit = find_value([ln for ln in lines if "여권" in norm(ln.text)], value)
    assert hit is not None, [norm(ln.text) for ln in lines]
    line, start, end = hit
    truth = next(it.box for it in screen.items if it.value == value)
    assert_boxes_on_value(line, start, end, truth, tolerance=8)


def test_kanji_labels_on_a_screen_with_some_hangul_are_not_read_as_hangul_garbage(tmp_path: Path) -> None:
    """A generated Japanese form with one Korean value on it (a date typed "1976년 3월 4일"): its
    kanji-only labels were probed by Tesseract and came back as Hangul garbage at low confidence
    ("口座普通" -> "ㅁ 또 끔 괜"), which the detectors then took for the value of the label above."""
    from veil.capture.open import open_source
    from veil.detect.registry import default_analyzer
    from veil.locate import locate
    from veil.options import VideoOptions
    from veil.synth.recording import make_recording

    truth = make_recording(
        tmp_path / "rec.mp4", seed=11, seconds=4, fps=2, size=(1280, 720),
        languages=("ko", "ja", "fr", "en"), kinds=("table", "form", "email", "chat"),
    )  # fmt: skip
    frame = next(f for f in open_source(truth.path, VideoOptions()).frames() if f.index == 2)
    form = np.ascontiguousarray(frame.pixels[80:330, 160:1000])
    lines = RoutedEngine().read(form)
    assert any(ln.engine == "auto:tesseract" and "년" in ln.text for ln in lines)  # a Korean screen
    garbage = [norm(ln.text) for ln in lines if ln.engine.startswith("auto:tesseract-probe")]
    assert garbage == []
    # The label column (x < 110 in the crop) holds no value: nothing there is masked.
    labels_masked = [f.type for f in locate(lines, default_analyzer(), b"k" * 32, 0) if f.boxes[0].x < 110]
    assert labels_masked == []


def test_a_bold_name_packed_between_two_lines_is_read(engine: RoutedEngine) -> None:
    """A mail list: a bold name and its time, 1-2 px above and below other lines. PP-OCR reads
    the name as a Han look-alike ("叫10:42"); Tesseract's crop with its usual margin takes in the
    neighbours' ink and reads nothing, so the line's own box is read alone."""
    from PIL import Image, ImageDraw, ImageFont

    regular = ImageFont.truetype(CJK_FONT, 16, index=1)  # the collection's Korean face
    bold = ImageFont.truetype(CJK_FONT.replace("Regular", "Bold"), 16, index=1)
    image = Image.new("RGB", (420, 130), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    y = 10
    for name, time, order in (("홍명숙", "10:41", "ORD-2023-866701"), ("박지훈", "10:42", "ORD-2024-232853")):
        draw.text((20, y), name, font=bold, fill=(20, 20, 20))
        draw.text((26 + bold.getlength(name), y + 1), time, font=regular, fill=(120, 120, 120))
        draw.text((20, y + 18), "주문번호 " + order, font=regular, fill=(90, 90, 90))
        y += 46
    texts = [norm(ln.text) for ln in engine.read(np.asarray(image))]
    assert any("홍명숙" in t for t in texts) and any("박지훈" in t for t in texts), texts
