"""Consistent pseudonym labels inside masks: same value, same label; the verifier may read our own
label inside our own mask without failing the frame, but nothing reaching outside a mask."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tests.plugins.ocr_faults import FixedEngine
from tests.test_pipeline import blank_frame, fixed_line, pipeline
from veil.models import Box, Finding, TextLine
from veil.options import RedactOptions
from veil.pipeline import VERIFIER_MASK
from veil.redact.fill import FillRedactor
from veil.redact.pseudonym import Pseudonyms


def finding(hmac: str, kind: str = "person_name", script: str = "hangul") -> Finding:
    return Finding(kind, (Box(10, 10, 120, 24),), "test", 0.9, hmac, 0, script)


def test_same_value_same_number_per_type_and_script() -> None:
    names = Pseudonyms()
    assert names.label(finding("a")) == "고객 1"
    assert names.label(finding("b")) == "고객 2"
    assert names.label(finding("a", script="kana")) == "顧客 1"
    assert names.label(finding("a", script="latin")) == "Customer 1"
    assert names.label(finding("p", kind="phone", script="latin")) == "Phone 1"


def test_labels_are_drawn_inside_the_mask_only() -> None:
    redactor = FillRedactor(RedactOptions(labels=True, margin_px=2))
    pixels = np.full((60, 200, 3), 255, np.uint8)
    out = redactor.apply(pixels, [finding("a", script="latin")])
    mask = out[8:36, 8:132]
    assert (mask != 0).any() and (mask == 0).mean() > 0.5  # opaque box with light label text
    outside = out.copy()
    outside[8:36, 8:132] = 255
    assert (outside == 255).all()


def label_line(text: str, box: Box) -> TextLine:
    width = box.w // len(text)
    chars = tuple(Box(box.x + i * width, box.y, width, box.h) for i in range(len(text)))
    return TextLine(text, box, chars, 0.9, "fixed")


def test_verifier_reading_our_label_inside_the_mask_passes() -> None:
    primary = FixedEngine([fixed_line()])
    first = pipeline(primary).process(blank_frame())
    (phone,) = first.result.findings
    inside = phone.boxes[0]
    ours = label_line("Phone 1", Box(inside.x + 2, inside.y + 2, 70, inside.h - 4))
    redactor = FillRedactor(RedactOptions(labels=True, margin_px=2))
    verifier = FixedEngine([label_line("Tel", Box(inside.x - 60, inside.y, 36, inside.h)), ours])
    out = pipeline(FixedEngine([fixed_line()]), verifier=verifier, redactor=redactor).process(blank_frame())
    assert not out.result.masked_whole


def test_verifier_finding_beyond_the_mask_still_masks_the_frame() -> None:
    redactor = FillRedactor(RedactOptions(labels=True, margin_px=2))
    beyond = fixed_line(x=50)  # the same value read 30 px further right: past the mask's edge
    pipe = pipeline(FixedEngine([fixed_line()]), verifier=FixedEngine([beyond]), redactor=redactor)
    out = pipe.process(blank_frame())
    # Not taken for our own label: a residual, whose cells are masked before the frame is re-scanned.
    assert [f.type for f in out.result.verifier_findings] == ["phone"]
    masks = [b for f in out.result.findings if f.recognizer == VERIFIER_MASK for b in f.boxes]
    assert any(b.contains(beyond.box) for b in masks)  # the verifier's whole cell
    framed = pipeline(FixedEngine([fixed_line()]), verifier=FixedEngine([beyond]), redactor=redactor)
    framed.recheck = False  # redact.on_verifier_hit: mask-frame
    assert framed.process(blank_frame()).result.masked_whole


class LeakyLabelRedactor(FillRedactor):
    """Fault injection: claims to draw labelled masks but paints nothing."""

    def apply(self, pixels: np.ndarray, findings: Sequence[Finding]) -> np.ndarray:
        return pixels.copy()


def test_leaky_redactor_with_labels_is_still_caught() -> None:
    redactor = LeakyLabelRedactor(RedactOptions(labels=True, margin_px=2))
    out = pipeline(
        FixedEngine([fixed_line()]), verifier=FixedEngine([fixed_line()]), redactor=redactor
    ).process(blank_frame())
    assert out.result.masked_whole
