"""Initials avatars: a coloured disc with 1-2 glyphs counts only beside a detected name; round
icons, buttons, badges, photos and letters do not (synthetic pictures drawn here)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from veil.detect.avatars import AvatarDetector, find_avatars, initials_match
from veil.exceptions import EngineError
from veil.models import Box, Finding, Pixels
from veil.synth import _fonts
from veil.synth.people import disc_picture, face_picture

BG = {"light": (248, 249, 251), "dark": (33, 37, 41)}
FG = {"light": (33, 37, 41), "dark": (222, 226, 230)}
BLUE, RED, GREEN = (30, 136, 229), (229, 57, 53), (67, 160, 71)


def screen(theme: str = "light", size: tuple[int, int] = (480, 240)) -> Pixels:
    return np.full((size[1], size[0], 3), BG[theme], dtype=np.uint8)


def paste(pixels: Pixels, picture: Pixels, x: int, y: int) -> Box:
    h, w = picture.shape[:2]
    pixels[y : y + h, x : x + w] = picture
    return Box(x, y, w, h)


def text(pixels: Pixels, x: int, y: int, s: str, theme: str, px: int = 14) -> Box:
    """Draw `s` and return the box an OCR line would give it (the full line height)."""
    image = Image.fromarray(pixels)
    font = _fonts.cjk(px, "ko") if not s.isascii() else _fonts.latin(px)
    ImageDraw.Draw(image).text((x, y), s, font=font, fill=FG[theme])
    pixels[:] = np.asarray(image)
    left, _, right, _ = font.getbbox(s)
    return Box(x + int(left), y, int(right - left), int(px * 1.35))


def name_finding(box: Box) -> Finding:
    return Finding("person_name", (box,), "test", 0.9, "", 0)


def covered(found: list[Box], box: Box) -> bool:
    return any(f.contains(box) for f in found)


# (theme, diameter, glyphs, fill, where the name sits: "right" of the disc or "below" it)
AVATARS = [
    ("light", 24, "MD", BLUE, "right", "Marie Dupont"),
    ("dark", 24, "JL", RED, "right", "James Lee"),
    ("light", 40, "민준", GREEN, "right", "김민준"),
    ("dark", 32, "佐", BLUE, "right", "佐藤 翔太"),
    ("light", 72, "AH", RED, "below", "Ashley Harris"),
    ("dark", 120, "은서", GREEN, "below", "권은서"),
]


@pytest.mark.parametrize(("theme", "diameter", "glyphs", "fill", "where", "name"), AVATARS)
def test_avatar_beside_a_name_is_found(
    theme: str, diameter: int, glyphs: str, fill: tuple[int, int, int], where: str, name: str
) -> None:
    pixels = screen(theme)
    disc = paste(pixels, disc_picture(diameter, fill, BG[theme], glyphs), 20, 20)
    if where == "right":
        tag = text(pixels, disc.x2 + 10, disc.y + diameter // 2 - 9, name, theme)
    else:
        tag = text(pixels, 10, disc.y2 + diameter // 2, name, theme)
    findings = find_avatars(pixels, [name_finding(tag)], frame_index=7)
    assert [f.type for f in findings] == ["avatar"]
    assert findings[0].frame_index == 7 and findings[0].value_hmac == ""
    assert covered([b for f in findings for b in f.boxes], disc)


@pytest.mark.parametrize(
    ("what", "diameter", "glyphs", "fill"),
    [
        ("record dot", 20, "", RED),
        ("help button", 24, "?", BLUE),
        ("add button", 28, "+", GREEN),
        ("badge", 18, "3", RED),
        ("avatar-like icon", 40, "AB", BLUE),
    ],
)
def test_round_icons_without_a_name_stay(
    what: str, diameter: int, glyphs: str, fill: tuple[int, int, int]
) -> None:
    pixels = screen()
    paste(pixels, disc_picture(diameter, fill, BG["light"], glyphs), 400, 20)
    # A name elsewhere on the screen, far from the icon.
    tag = text(pixels, 20, 200, "Marie Dupont", "light")
    detector = AvatarDetector()
    assert detector.discs(pixels) or not glyphs, f"{what}: a disc with glyphs is a candidate"
    assert find_avatars(pixels, [name_finding(tag)], detector=detector) == []


@pytest.mark.parametrize(
    "what",
    ["plain dot beside a name", "square avatar", "letter O in a word", "photo", "ring"],
)
def test_non_avatars_beside_a_name_stay(what: str) -> None:
    theme = "dark" if what == "letter O in a word" else "light"
    pixels = screen(theme)
    if what == "plain dot beside a name":
        paste(pixels, disc_picture(24, GREEN, BG[theme], ""), 20, 20)  # an "online" status dot
    elif what == "square avatar":
        pixels[20:60, 20:60] = BLUE
    elif what == "letter O in a word":
        text(pixels, 20, 20, "ORD-2025-747938", theme, px=18)
    elif what == "photo":
        paste(pixels, face_picture(48)[0], 20, 10)
    else:
        image = Image.fromarray(pixels)
        ImageDraw.Draw(image).ellipse((20, 20, 60, 60), outline=BLUE, width=3)
        pixels[:] = np.asarray(image)
    tag = text(pixels, 100, 30, "Marie Dupont", theme)
    assert find_avatars(pixels, [name_finding(tag)]) == []


def test_no_names_means_no_avatars_and_no_work() -> None:
    pixels = screen()
    paste(pixels, disc_picture(40, BLUE, BG["light"], "MD"), 20, 20)
    assert len(AvatarDetector().discs(pixels)) == 1
    assert find_avatars(pixels, []) == []
    other = Finding("phone", (Box(80, 30, 100, 18),), "test", 0.9, "", 0)
    assert find_avatars(pixels, [other]) == []


def test_bad_input_raises_engine_error() -> None:
    with pytest.raises(EngineError):
        AvatarDetector().discs(np.zeros((40, 40), dtype=np.uint8))


@pytest.mark.parametrize(
    "kwargs", [{"min_diameter": 4}, {"min_diameter": 50, "max_diameter": 40}, {"reach": 0}]
)
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"diameter|reach"):
        AvatarDetector(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("glyphs", "line", "name"),
    [
        ("민준", "김민준 님이 입장했습니다", "김민준"),
        ("김", "김민준", "김민준"),
        ("佐", "佐藤 翔太", "佐藤 翔太"),
        ("MD", "Marie Dupont (host)", "Marie Dupont"),
        ("MD", "Marie de Dupont", "Marie de Dupont"),
        ("JL", "Jean-Luc Lefèvre", "Jean-Luc Lefèvre"),
    ],
)
def test_initials_name_the_line_beside_them(glyphs: str, line: str, name: str) -> None:
    span = initials_match(glyphs, line)
    assert span is not None and line[span[0] : span[1]] == name


@pytest.mark.parametrize(
    ("glyphs", "line"),
    [
        ("새", "새로운 메시지"),  # a "new" badge: no surname
        ("민준", "김민수"),
        ("3", "3 unread messages"),
        ("MD", "Markdown document"),  # capitalised words whose initials are not the disc's
        ("AB", "About Billing"),  # initials of UI words match: still no name (no second capital)
        ("", "Marie Dupont"),
    ],
)
def test_glyphs_that_name_nothing(glyphs: str, line: str) -> None:
    assert initials_match(glyphs, line) is None


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_discs_are_painted_over_for_the_ocr(theme: str) -> None:
    """Read together, a disc's glyphs and the name beside it made one line PP-OCR read as
    "7对司" (a Korean chat list); the OCR is given the screen with the disc painted over in the
    colour around it, the name untouched."""
    pixels = screen(theme)
    disc = paste(pixels, disc_picture(32, BLUE, BG[theme], "민준"), 20, 20)
    tag = text(pixels, disc.x2 + 4, disc.y + 7, "김민준", theme)
    painted = AvatarDetector().painted_over(pixels)
    assert painted is not pixels
    assert (painted[disc.y : disc.y2, disc.x : disc.x2] == BG[theme]).all()
    assert (painted[tag.y : tag.y2, tag.x : tag.x2] == pixels[tag.y : tag.y2, tag.x : tag.x2]).all()
    plain = screen(theme)
    assert AvatarDetector().painted_over(plain) is plain  # no disc: the same pixels, no copy
    tiny = plain[:10, :10]
    assert AvatarDetector().painted_over(tiny) is tiny  # too small to hold a disc: not an error
