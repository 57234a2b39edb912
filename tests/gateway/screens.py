"""Small rendered work screens for gateway tests: Korean and Japanese values in Noto CJK, some in
a small font, drawn with Pillow. Every value is synthetic."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from veil.models import Pixels

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
# Face indexes inside the collection: 0 is JP, 1 is KR.
JP, KR = 0, 1

KO_NAME = "김민수"
KO_PHONE = "010-2345-6789"
KO_SMALL_PHONE = "010-9876-5432"
JA_NAME = "山田 太郎"

# (text, face, size in px): a customer card as a CRM shows it.
CUSTOMER_CARD = (
    ("주문번호 ORD-2024-118843", KR, 16),
    (f"고객명: {KO_NAME}", KR, 16),
    (f"연락처: {KO_PHONE}", KR, 16),
    (f"氏名：{JA_NAME}", JP, 22),
    (f"비상 연락처: {KO_SMALL_PHONE}", KR, 13),
)


def font(face: int, size: int) -> ImageFont.FreeTypeFont:
    if not CJK_FONT.is_file():
        pytest.skip("fonts-noto-cjk is not installed")
    return ImageFont.truetype(str(CJK_FONT), size, index=face)


def render(lines: tuple[tuple[str, int, int], ...] = CUSTOMER_CARD, width: int = 640) -> Pixels:
    """The lines drawn black on white, one under the other."""
    height = 30 + sum(size + 24 for _t, _f, size in lines)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    y = 20
    for text, face, size in lines:
        draw.text((20, y), text, fill="black", font=font(face, size))
        y += size + 24
    return np.asarray(image)


def png_bytes(pixels: Pixels) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()
