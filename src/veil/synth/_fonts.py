"""Locating and caching the fonts the synthetic screens are drawn with."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from veil.exceptions import VeilError

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# Face index inside the Noto Sans CJK collection: the regional glyph shapes for each language.
CJK_FACE = {"ja": 0, "ko": 1}
CJK_MONO_FACE = {"ja": 5, "ko": 6}

Font = ImageFont.FreeTypeFont


@lru_cache(maxsize=16)
def find_font(file_name: str, package: str) -> Path:
    """The first installed file called `file_name`, or a clear error naming the Debian package."""
    for root in FONT_DIRS:
        if root.is_dir():
            for found in sorted(root.rglob(file_name)):
                return found
    raise VeilError(
        f"font {file_name} not found under {', '.join(str(d) for d in FONT_DIRS)}; "
        f"install the Debian package {package} (apt-get install {package})"
    )


@lru_cache(maxsize=128)
def load(file_name: str, package: str, size: int, index: int = 0) -> Font:
    return ImageFont.truetype(str(find_font(file_name, package)), size, index=index)


def cjk(size: int, language: str, bold: bool = False, mono: bool = False) -> Font:
    name = "NotoSansCJK-Bold.ttc" if bold and not mono else "NotoSansCJK-Regular.ttc"
    faces = CJK_MONO_FACE if mono else CJK_FACE
    return load(name, "fonts-noto-cjk", size, faces.get(language, 0))


def latin(size: int, bold: bool = False, mono: bool = False) -> Font:
    if mono:
        name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    else:
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return load(name, "fonts-dejavu-core", size)


def font_set(language: str, size: int, cjk_for_latin: bool) -> dict[str, Font]:
    """Fonts by role. Korean and Japanese screens need Noto CJK; Latin screens use DejaVu or,
    when `cjk_for_latin`, Noto CJK's Latin glyphs (so East Asian values can appear on them)."""
    if language in CJK_FACE or cjk_for_latin:
        face = language if language in CJK_FACE else "ja"
        return {
            "body": cjk(size, face),
            "bold": cjk(size, face, bold=True),
            "title": cjk(size + 4, face, bold=True),
            "small": cjk(max(size - 2, 10), face),
            "mono": cjk(size, face, mono=True),
        }
    return {
        "body": latin(size),
        "bold": latin(size, bold=True),
        "title": latin(size + 4, bold=True),
        "small": latin(max(size - 2, 10)),
        "mono": latin(size, mono=True),
    }
