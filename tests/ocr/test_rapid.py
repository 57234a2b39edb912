from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.ocr.synthetic import CJK_FONT, LATIN_FONT, assert_boxes_on_value, find_value, norm, render
from veil.exceptions import EngineError
from veil.models import Box, Pixels
from veil.ocr.rapid import RapidOcrEngine, RawLine, looks_like_at_dropped, merge_words

SECRET = "090-1234-5678"


@pytest.fixture(scope="module")
def engine() -> RapidOcrEngine:
    return RapidOcrEngine()


@pytest.mark.parametrize(
    ("text", "font", "value"),
    [
        ("電話番号：090-1234-5678", CJK_FONT, "090-1234-5678"),
        ("Téléphone : 06 12 34 56 78", LATIN_FONT, "06 12 34 56 78"),
        ("alice.martin@example.com", LATIN_FONT, "alice.martin@example.com"),
        ("Phone: (415) 555-0142", LATIN_FONT, "555-0142"),
    ],
)
def test_reads_line_and_boxes_cover_the_value(
    engine: RapidOcrEngine, text: str, font: str, value: str
) -> None:
    rendered = render(text, font)
    lines = engine.read(rendered.pixels)
    hit = find_value(lines, value)
    assert hit is not None, [norm(ln.text) for ln in lines]
    line, start, end = hit
    assert line.engine == "rapidocr"
    assert 0.5 <= line.confidence <= 1.0
    assert_boxes_on_value(line, start, end, rendered.true_box(value), tolerance=8)


def test_korean_hangul_is_not_read_but_digits_are(engine: RapidOcrEngine) -> None:
    # Documents the limitation the routed engine exists for: no Hangul in PP-OCRv6's dictionary.
    rendered = render("연락처: 010-1234-5678", CJK_FONT)
    text = "".join(ln.text for ln in engine.read(rendered.pixels))
    assert "0101234" in norm(text).replace("-", "")
    assert not any("\uac00" <= c <= "\ud7a3" for c in text)


def test_line_in_a_larger_picture_is_in_picture_coordinates(engine: RapidOcrEngine) -> None:
    rendered = render("Email: bob.stone@example.org", LATIN_FONT, canvas=(900, 300), at=(420, 180))
    hit = find_value(engine.read(rendered.pixels), "bob.stone@example.org")
    assert hit is not None
    line, start, end = hit
    assert_boxes_on_value(line, start, end, rendered.true_box("bob.stone@example.org"), tolerance=8)


def test_dark_theme_is_read(engine: RapidOcrEngine) -> None:
    rendered = render("Client : 06 98 76 54 32", LATIN_FONT, fg=(230, 230, 230), bg=(30, 30, 30))
    assert find_value(engine.read(rendered.pixels), "06 98 76 54 32") is not None


def test_blank_picture_reads_nothing(engine: RapidOcrEngine) -> None:
    assert engine.read(np.full((60, 300, 3), 255, dtype=np.uint8)) == []


class _SpyDetector:
    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, image: np.ndarray) -> Any:
        self.shapes.append(image.shape)

        class _Out:
            boxes = None

        return _Out()


@pytest.mark.parametrize(
    ("size", "short_side_max", "short_side_min"), [((400, 40), 128, 64), ((1920, 1080), 1120, 1080)]
)
def test_detector_input_is_capped_for_crops_and_never_shrunk_for_frames(
    size: tuple[int, int], short_side_max: int, short_side_min: int
) -> None:
    engine = RapidOcrEngine()
    engine._load()
    spy = _SpyDetector()
    engine._det = spy
    engine.read(np.full((size[1], size[0], 3), 255, dtype=np.uint8))
    (shape,) = spy.shapes
    assert short_side_min <= min(shape[:2]) <= short_side_max


def test_a_part_of_a_frame_is_detected_at_its_own_scale(engine: RapidOcrEngine) -> None:
    """A changed band of a 1080p frame (1920 x 60) is read as in the frame: not enlarged, which
    costs ~4x the detector time; the value is read and boxed the same either way."""
    band = render(f"Phone {SECRET}", LATIN_FONT, canvas=(1920, 60), at=(700, 20))
    spy = _SpyDetector()
    part = RapidOcrEngine()
    part._load()
    real, part._det = part._det, spy
    part.read_part(band.pixels)
    ((height, width, _),) = spy.shapes
    assert abs(height - 76) <= 16 and abs(width - 1936) <= 16  # padded by 8, rounded to 32
    part._det = real
    for lines in (part.read_part(band.pixels), engine.read(band.pixels)):
        hit = find_value(lines, SECRET)
        assert hit is not None, [norm(ln.text) for ln in lines]
        assert_boxes_on_value(hit[0], hit[1], hit[2], band.true_box(SECRET), tolerance=8)


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((40, 100, 3), dtype=np.float32),
        np.zeros((40, 100), dtype=np.uint8),
        np.zeros((40, 100, 4), dtype=np.uint8),
        np.zeros((0, 100, 3), dtype=np.uint8),
        np.zeros((40, 0, 3), dtype=np.uint8),
        [[0, 0, 0]],
    ],
)
def test_unreadable_input_raises_engine_error(engine: RapidOcrEngine, pixels: Any) -> None:
    with pytest.raises(EngineError):
        engine.read(pixels)


def test_runtime_failure_raises_engine_error_without_text(
    engine: RapidOcrEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> None:
        raise ValueError(f"onnxruntime exploded near {SECRET}")

    engine._load()
    monkeypatch.setattr(engine, "_rec", boom)
    rendered = render(f"Tel {SECRET}", LATIN_FONT)
    with pytest.raises(EngineError) as info:
        engine.read(rendered.pixels)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_bad_thread_count_is_refused() -> None:
    with pytest.raises(EngineError, match="threads"):
        RapidOcrEngine(threads=0)


def test_threads_reach_onnxruntime() -> None:
    engine = RapidOcrEngine(threads=2)
    engine._load()
    assert engine._det.session.session.get_session_options().intra_op_num_threads == 2


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        # words of one line, touching or a space apart: merged
        ([Box(0, 10, 50, 20), Box(56, 10, 30, 20), Box(90, 11, 30, 19)], [Box(0, 10, 120, 20)]),
        # table cells far apart on one row: kept apart
        ([Box(0, 10, 50, 20), Box(200, 10, 50, 20)], [Box(0, 10, 50, 20), Box(200, 10, 50, 20)]),
        # two rows: kept apart
        ([Box(0, 10, 50, 20), Box(0, 40, 50, 20)], [Box(0, 10, 50, 20), Box(0, 40, 50, 20)]),
    ],
)
def test_merge_words(boxes: list[Box], expected: list[Box]) -> None:
    assert merge_words(boxes, 0.6) == expected


@pytest.mark.parametrize(
    ("text", "dropped"),
    [
        ("INFO login user=yamada.demo40example.net ip=203.0.113.134", True),
        ("Contact: jean.test7example.fr.", True),
        ("From: kim.demo12mail.example.com", True),
        ("INFO login user=yamada.demo40@example.net ip=203.0.113.134", False),
        ("x@mail.example.com", False),
        ("see https://example.com/help or www.example.org", False),
        ("build v1.2.3 report.pdf 14:30", False),
        ("Total 1.234,56 EUR", False),
    ],
)
def test_an_address_missing_its_at_is_told(text: str, dropped: bool) -> None:
    assert looks_like_at_dropped(text) is dropped


class _BatchMisread(RapidOcrEngine):
    """PP-OCR whose batch reading of one line is scripted (the "@" dropped, as it does in a batch);
    a line recognised alone goes through the real recogniser."""

    def __init__(self, box: Box, text: str) -> None:
        super().__init__()
        self.box, self.text = box, text
        self.batches = 0

    def detect(self, image: Pixels, *, native: bool = False) -> list[Box]:
        return [self.box]

    def recognize(self, image: Pixels, boxes: list[Box], *, cached: bool = True) -> list[RawLine]:
        self.batches += 1
        if self.batches > 1:
            return super().recognize(image, boxes, cached=cached)
        step = self.box.w / len(self.text)
        centers = tuple(self.box.x + step * (i + 0.5) for i, c in enumerate(self.text) if not c.isspace())
        return [RawLine(self.box, self.text, 0.98, centers)]


@pytest.mark.parametrize(
    ("seed", "frame", "box"),
    [
        # (generated bench screen: a Japanese terminal at 11 px; PP-OCR's box of a log line)
        (1, 9, Box(12, 491, 442, 20)),
    ],
)
def test_a_line_read_without_the_at_of_its_address_is_read_again_alone(
    seed: int, frame: int, box: Box
) -> None:
    from bench.redaction import bench_specs

    from veil.synth.screens import render_screen

    screen = render_screen(bench_specs(frame + 1, seed)[frame])
    (email,) = [it for it in screen.items if it.type == "email" and box.contains(it.box)]
    batch = f"INFO login user={email.value.replace('@', '')} ip=203.0.113.134"
    engine = _BatchMisread(box, batch)
    lines = engine.read(screen.pixels)
    hit = find_value(lines, email.value)
    assert hit is not None, [norm(ln.text) for ln in lines]
    assert_boxes_on_value(*hit, email.box, tolerance=8)


def test_sessions_threads_sleep_when_idle() -> None:
    """Both PP-OCR sessions are ours: the thread count asked for, and idle threads that sleep
    (onnxruntime's default spinning burned a sixth of the recogniser's CPU on busy screens)."""
    engine = RapidOcrEngine(threads=2)
    engine.read(render("Order 20240825", LATIN_FONT).pixels)
    for part in (engine._det, engine._rec):
        options = part.session.session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert options.intra_op_num_threads == 2
