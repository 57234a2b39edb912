"""Face detector on the one public-domain face photo a wheel ships (see tests/resources provenance:
scikit-image's `astronaut.png`, NASA, "no known copyright restrictions"), placed at the sizes of
video-call tiles and profile pictures, and on face-free screens that must stay unmasked."""

from __future__ import annotations

from importlib import resources

import cv2
import numpy as np
import pytest

from veil.detect.faces import FaceDetector, pictured
from veil.exceptions import EngineError
from veil.models import Box, Pixels
from veil.synth.people import face_picture

# The face in astronaut.png spans about x 168-282, y 40-195 at its native 512 x 512.
FACE_WIDTH = 115
FACE = Box(168, 40, 114, 155)


def _image(name: str) -> Pixels:
    path = resources.files("skimage").joinpath("data", name)
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert pixels is not None, name
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


def _tile(face_px: int, canvas: tuple[int, int] = (480, 640)) -> tuple[Pixels, Box]:
    """The astronaut scaled so her face is `face_px` wide, in a dark call tile."""
    f = face_px / FACE_WIDTH
    small = cv2.resize(_image("astronaut.png"), None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    out = np.full((*canvas, 3), 32, np.uint8)
    y0, x0 = 40, 60
    h, w = min(small.shape[0], canvas[0] - y0), min(small.shape[1], canvas[1] - x0)
    out[y0 : y0 + h, x0 : x0 + w] = small[:h, :w]
    truth = Box(x0 + int(FACE.x * f), y0 + int(FACE.y * f), int(FACE.w * f), int(FACE.h * f))
    return out, truth


@pytest.mark.parametrize("face_px", [32, 40, 56, 80, 120, 200])
def test_faces_in_call_tiles_are_found(detector: FaceDetector, face_px: int) -> None:
    canvas = (480, 640) if face_px <= 120 else (900, 1100)
    pixels, truth = _tile(face_px, canvas)
    boxes = detector.detect(pixels)
    assert len(boxes) == 1
    # The mask must cover most of the face.
    assert boxes[0].intersection_area(truth) >= 0.8 * truth.area


def test_grid_of_tiles(detector: FaceDetector) -> None:
    """A 2 x 2 call grid: mirrored and darkened copies are separate participants."""
    tile, _ = _tile(80, (240, 320))
    grid = np.vstack(
        [np.hstack([tile, tile[:, ::-1]]), np.hstack([(tile * 0.6).astype(np.uint8), tile[:, ::-1]])]
    )
    assert len(detector.detect(np.ascontiguousarray(grid))) == 4


def _screen() -> Pixels:
    """A business screen: a table of text and coloured buttons, no face."""
    out = np.full((720, 1280, 3), 245, np.uint8)
    for row in range(14):
        y = 60 + row * 44
        cv2.rectangle(out, (40, y), (1240, y + 40), (230, 236, 245) if row % 2 else (255, 255, 255), -1)
        cv2.putText(
            out, f"ORD-2024-{118840 + row}  Widget {row}  12,000", (60, y + 28), 0, 0.8, (20, 20, 20), 2
        )
    cv2.circle(out, (1180, 30), 22, (52, 120, 200), -1)
    cv2.putText(out, "JD", (1164, 38), 0, 0.7, (255, 255, 255), 2)
    return out


@pytest.mark.parametrize("name", ["screen", "chelsea.png", "coffee.png", "text.png", "page.png"])
def test_no_face_no_box(detector: FaceDetector, name: str) -> None:
    pixels = _screen() if name == "screen" else _image(name)
    if pixels.ndim == 2 or pixels.shape[2] != 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    assert detector.detect(np.ascontiguousarray(pixels)) == []


def test_boxes_stay_inside_the_picture(detector: FaceDetector) -> None:
    pixels = _image("astronaut.png")[20:200, 150:300].copy()  # face touching the edges
    boxes = detector.detect(pixels)
    assert boxes
    assert all(b.x >= 0 and b.y >= 0 and b.x2 <= 150 and b.y2 <= 180 for b in boxes)


def test_bad_input_raises_engine_error(detector: FaceDetector) -> None:
    with pytest.raises(EngineError):
        detector.detect(np.zeros((100, 100), np.uint8))


def test_missing_model_raises_engine_error() -> None:
    bad = FaceDetector(path="/nonexistent/centerface.onnx")
    with pytest.raises(EngineError):
        bad.detect(np.zeros((64, 64, 3), np.uint8))


def _text_screen(language: str, size: int = 15) -> Pixels:
    """A screen of text lines, rules and a coloured button: text and flat UI, no picture."""
    from PIL import Image, ImageDraw

    from veil.synth._fonts import font_set

    fonts = font_set(language, size, cjk_for_latin=False)
    image = Image.new("RGB", (900, 600), (250, 250, 252))
    draw = ImageDraw.Draw(image)
    words = {"ko": "주문 상태 확인 배송 조회 고객 메모", "ja": "注文の状態 配送 確認 顧客メモ 請求書",
             "en": "Order status, delivery, customer notes and invoices"}[language]  # fmt: skip
    for row in range(24):
        y = 12 + row * 24
        draw.text((16, y), f"{words} {row * 7919 % 10000:04d}", fill=(33, 37, 41), font=fonts["body"])
        draw.line((16, y + 21, 880, y + 21), fill=(222, 226, 230))
    draw.rounded_rectangle((700, 540, 860, 580), 6, fill=(13, 110, 253))
    draw.text((716, 550), "Save", fill=(255, 255, 255), font=fonts["bold"])
    return np.asarray(image)


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_a_screen_of_text_is_no_picture_and_the_model_is_not_run(
    detector: FaceDetector, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = _text_screen(language)
    assert not pictured(screen)

    def run(*_args: object) -> list[tuple[float, float, float, float]]:
        raise AssertionError("the face model ran on a screen of text")

    monkeypatch.setattr(FaceDetector, "_run", run)
    assert detector.detect(screen) == []


@pytest.mark.parametrize("brightness", [0.15, 0.4, 1.0])
@pytest.mark.parametrize("face_px", [24, 40, 96])
def test_every_face_is_a_picture_even_dimmed(face_px: int, brightness: float) -> None:
    pixels, face = face_picture(face_px, brightness=brightness)  # a modal's backdrop dims it
    assert pictured(pixels[face.y : face.y2, face.x : face.x2].copy())


def test_a_face_among_text_is_found(detector: FaceDetector) -> None:
    screen = _text_screen("en").copy()
    pixels, face = face_picture(48)
    screen[300 : 300 + pixels.shape[0], 400 : 400 + pixels.shape[1]] = pixels
    found = detector.detect(screen)
    assert any(b.intersection_area(face.moved(400, 300)) > face.area // 2 for b in found)


def test_pixels_the_picture_test_cannot_read_fail_as_an_engine_error(detector: FaceDetector) -> None:
    with pytest.raises(EngineError):  # an OpenCV error inside `pictured` is the detector's failure
        detector.detect(np.zeros((64, 64, 3), np.int64))
