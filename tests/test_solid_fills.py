"""A re-scan that does not know where the masks are (the gateway's, an auditor's) takes solid black
rectangles for masks, and never a black area with anything drawn on it."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from veil.detect.registry import default_analyzer
from veil.models import Box
from veil.ocr.registry import make_verifier_engine
from veil.options import OcrOptions
from veil.verify.rescan import RescanVerifier, solid_fills

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def test_a_painted_mask_is_a_fill_and_a_black_panel_with_text_is_not() -> None:
    image = Image.new("RGB", (600, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 139, 49), fill=(0, 0, 0))  # a mask
    draw.rectangle((200, 20, 579, 179), fill=(0, 0, 0))  # a terminal
    draw.text((210, 80), "Phone 010-2345-6789", fill=(230, 230, 230), font=ImageFont.truetype(FONT, 18))
    assert solid_fills(np.asarray(image)) == [Box(20, 20, 120, 30)]


def test_text_on_a_black_panel_is_still_read_and_found() -> None:
    image = Image.new("RGB", (640, 160), (0, 0, 0))
    ImageDraw.Draw(image).text(
        (20, 60), "Phone 010-2345-6789", fill=(235, 235, 235), font=ImageFont.truetype(FONT, 22)
    )
    verifier = RescanVerifier(make_verifier_engine(OcrOptions()), default_analyzer(), b"k" * 32)
    assert [f.type for f in verifier.check(np.asarray(image), 0).findings] == ["phone"]
