"""A face in a video-call tile whose mouth and eyes move is masked in every frame by the
incremental path, like the full path masks it (issue 4: a change inside a face is a few rows tall,
and a face detector needs the whole face in view).

Two pipelines: the default one, and one whose OCR reads nothing, so no text line (an engine reads
letters off a face picture now and then) grows the re-read rectangles over the whole face."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from tests.plugins.ocr_faults import NullEngine
from tests.test_pipeline import pipeline
from veil.api import build_pipeline
from veil.detect.faces import FaceDetector
from veil.models import Box, Frame
from veil.options import LedgerOptions, Policy
from veil.pipeline import FramePipeline
from veil.synth.people import face_picture
from veil.track.incremental import IncrementalPipeline

POLICY = Policy(ledger=LedgerOptions(enabled=False))
WIDTH, HEIGHT = 960, 400


@pytest.fixture(scope="module", autouse=True)
def veil_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VEIL_HOME", str(tmp_path_factory.mktemp("home")))
        yield


def _screen() -> tuple[np.ndarray, Box]:
    pixels = np.full((HEIGHT, WIDTH, 3), 40, np.uint8)  # a dark call window
    picture, face = face_picture(140)
    top, left = 60, 400
    pixels[top : top + picture.shape[0], left : left + picture.shape[1]] = picture
    return pixels, Box(face.x + left, face.y + top, face.w, face.h)


def _covered(pixels: np.ndarray, before: np.ndarray, face: Box) -> float:
    """Share of the face's pixels the redactor changed (a solid fill changes nearly all)."""
    region = (slice(face.y, face.y2), slice(face.x, face.x2))
    return float((pixels[region] != before[region]).any(axis=2).mean())


def _no_text() -> FramePipeline:
    plain = pipeline(NullEngine())
    plain.face_detector = FaceDetector()
    return plain


@pytest.mark.parametrize("make", [lambda: build_pipeline(POLICY), _no_text], ids=["default", "no-text"])
def test_a_face_that_moves_a_little_stays_masked(make: Callable[[], FramePipeline]) -> None:
    screen, face = _screen()
    tracker = IncrementalPipeline(make())
    first = tracker.process(Frame(index=0, pixels=screen.copy()))
    assert _covered(first.pixels, screen, face) > 0.9  # the full read finds the face
    rng = np.random.default_rng(3)
    for index in range(1, 6):
        moved = screen.copy()
        # The mouth moves (a band a fifth of the face high), then the eyes blink.
        y = face.y + (face.h * 3 // 4 if index % 2 else face.h // 3)
        band = (slice(y, y + face.h // 5), slice(face.x + face.w // 4, face.x2 - face.w // 4))
        moved[band] = np.clip(moved[band].astype(np.int16) + rng.integers(-60, 60), 0, 255).astype(np.uint8)
        out = tracker.process(Frame(index=index, pixels=moved))
        assert not out.result.masked_whole, out.result.mask_reason
        assert any(f.type == "face" for f in out.result.findings), index
        assert _covered(out.pixels, moved, face) > 0.9, index
    # (A blink repeats a frame seen before: its outcome again, which masks the face as well.)
    stats = tracker.stats
    assert stats["frames_incremental"] + stats["frames_seen_before"] == 5 and stats["frames_full"] == 1


def _page() -> tuple[np.ndarray, Box]:
    """A long light page: a line of text every 40 px, and a profile picture far down."""
    from PIL import Image, ImageDraw, ImageFont

    from tests.ocr.synthetic import LATIN_FONT

    image = Image.new("RGB", (WIDTH, 1400), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(LATIN_FONT, 15)
    for k, y in enumerate(range(20, 1400, 40)):
        draw.text(
            (40, y),
            f"Ticket {4100 + k} - status open - queue billing - priority {k % 3}",
            font=font,
            fill=(30, 30, 30),
        )
    page = np.asarray(image).copy()
    picture, face = face_picture(120)
    top, left = 700, 560
    page[top : top + picture.shape[0], left : left + picture.shape[1]] = picture
    return page, Box(face.x + left, face.y + top, face.w, face.h)


def test_a_face_scrolled_into_view_is_masked_as_the_full_path_masks_it() -> None:
    """Faces are searched where pixels changed, the strip a scroll exposed included: a profile
    picture entering from the bottom edge, step by step, is masked on every frame where the full
    path finds it."""
    page, face = _page()
    tracker = IncrementalPipeline(build_pipeline(POLICY))
    full = build_pipeline(POLICY)
    found = 0
    for index, offset in enumerate(range(0, 900, 90)):
        screen = np.ascontiguousarray(page[offset : offset + HEIGHT])
        on_screen = face.moved(0, -offset).clip(WIDTH, HEIGHT)
        out = tracker.process(Frame(index=index, pixels=screen.copy()))
        reference = full.process(Frame(index=index, pixels=screen.copy()))
        assert not out.result.masked_whole, out.result.mask_reason
        if any(f.type == "face" for f in reference.result.findings) and on_screen.area:
            found += 1
            assert _covered(out.pixels, screen, on_screen) > 0.9, index
    assert found >= 3  # the face is whole in view on the last frames
    assert tracker.stats["frames_scrolled"] >= 5
