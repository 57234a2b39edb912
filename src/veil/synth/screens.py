"""Business screens drawn with Pillow, with the exact pixel box of every personal value and decoy.

A scene is first built as a display list (`Layout`: rectangles and text runs made of spans), then
rendered. Keeping the display list lets a recording scroll a table (`scroll_px`) or type a value
character by character (`with_typed`) and still know every box exactly. A value's box is the box
of its ink (pixels less than half covered by a glyph are anti-aliasing fringe, left out), measured by
drawing the value's own span alone, so it is exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from veil.exceptions import VeilError
from veil.models import Box, Pixels
from veil.synth import _fonts
from veil.synth.fakedata import LANGUAGES, FakeValue

SCENE_KINDS: tuple[str, ...] = ("table", "form", "chat", "email", "terminal")
# Scenes that stress names, addresses, labelled fields and faces (`veil.synth._scenes_people`);
# kept apart so the general benchmark's "every language x kind in 20 frames" still holds.
PEOPLE_SCENE_KINDS: tuple[str, ...] = (
    "cs_chat", "crm_card", "email_signature", "video_call", "shipping_label", "spreadsheet", "terminal_rows",
)  # fmt: skip
ALL_SCENE_KINDS: tuple[str, ...] = SCENE_KINDS + PEOPLE_SCENE_KINDS
THEMES: tuple[str, ...] = ("light", "dark")
INK_THRESHOLD = 128  # of 255: a pixel less than half covered by a glyph is fringe, not ink
GAP_PX = 2

PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    "light": {
        "bg": (248, 249, 251), "fg": (33, 37, 41), "muted": (108, 117, 125), "panel": (255, 255, 255),
        "header_bg": (233, 236, 239), "stripe": (242, 244, 247), "border": (206, 212, 218),
        "accent": (13, 110, 253), "accent_fg": (255, 255, 255), "sidebar": (52, 58, 64),
        "sidebar_fg": (222, 226, 230), "bubble_me": (209, 231, 221), "bubble_them": (233, 236, 239),
        "term_bg": (255, 255, 255), "term_fg": (20, 20, 20), "input": (255, 255, 255),
    },
    "dark": {
        "bg": (24, 26, 27), "fg": (222, 226, 230), "muted": (150, 156, 163), "panel": (33, 37, 41),
        "header_bg": (52, 58, 64), "stripe": (40, 44, 48), "border": (73, 80, 87),
        "accent": (61, 139, 253), "accent_fg": (255, 255, 255), "sidebar": (16, 17, 18),
        "sidebar_fg": (173, 181, 189), "bubble_me": (25, 80, 60), "bubble_them": (52, 58, 64),
        "term_bg": (12, 12, 12), "term_fg": (204, 204, 204), "input": (24, 26, 27),
    },
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TruthItem:
    """Where one value is drawn. `value` stays in memory: tests use it to search logs for leaks."""

    type: str
    language: str
    box: Box
    value: str
    decoy: bool
    # Ink boxes of the value's glyph runs (split where a column of at least GAP_PX has no ink):
    # the blank between two words carries nothing to read, so a redactor masking word by word
    # still counts as covering the value if it covers every part.
    parts: tuple[Box, ...] = ()
    # Drawn next to a field label or under a column header that announces its type.
    labelled: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Screen:
    pixels: Pixels
    items: tuple[TruthItem, ...]


@dataclass(frozen=True, slots=True)
class ScreenSpec:
    kind: str = "table"
    language: str = "en"
    theme: str = "light"
    font_px: int = 14
    size: tuple[int, int] = (1920, 1080)  # width, height
    seed: int = 0

    def check(self) -> None:
        if self.kind not in ALL_SCENE_KINDS:
            raise VeilError(f"unknown scene kind {self.kind!r}; known: {', '.join(ALL_SCENE_KINDS)}")
        if self.language not in LANGUAGES:
            raise VeilError(f"unknown language {self.language!r}; known: {', '.join(LANGUAGES)}")
        if self.theme not in THEMES:
            raise VeilError(f"unknown theme {self.theme!r}; known: {', '.join(THEMES)}")
        if not 9 <= self.font_px <= 40:
            raise VeilError(f"font_px {self.font_px} out of range 9-40")
        if not (640 <= self.size[0] <= 7680 and 360 <= self.size[1] <= 4320):
            raise VeilError(f"screen size {self.size} out of range 640x360-7680x4320")


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    value: FakeValue | None = None  # None: plain text, not part of the truth
    labelled: bool = False  # the value's field label announces its type (see TruthItem)


@dataclass(frozen=True, slots=True)
class TextOp:
    x: int
    y: int
    spans: tuple[Span, ...]
    font: str = "body"
    color: str = "fg"
    scroll: bool = False  # inside the scrolling viewport
    key: str = ""  # names a field a recording types into


@dataclass(frozen=True, slots=True)
class RectOp:
    box: Box
    color: str
    outline: str = ""
    scroll: bool = False


Op = TextOp | RectOp


@dataclass(frozen=True, slots=True, eq=False)
class Picture:
    """A photo pasted at (x, y), drawn after every op (nothing may overlap it), with the boxes
    of what it shows (faces) relative to its top-left corner."""

    x: int
    y: int
    pixels: Pixels
    truth: tuple[tuple[Box, FakeValue], ...] = ()

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, int(self.pixels.shape[1]), int(self.pixels.shape[0]))


@dataclass(frozen=True, slots=True)
class Layout:
    spec: ScreenSpec
    ops: tuple[Op, ...]
    fonts_latin_cjk: bool  # Latin screens drawn with Noto CJK (so CJK values can appear)
    viewport: Box | None = None  # the scrolling area; scroll ops outside it are not drawn
    row_px: int = 0  # one scroll step
    pictures: tuple[Picture, ...] = ()

    def fonts(self) -> dict[str, _fonts.Font]:
        return _fonts.font_set(self.spec.language, self.spec.font_px, self.fonts_latin_cjk)


def with_typed(layout: Layout, key: str, chars: int) -> Layout:
    """The layout with the value in field `key` typed only up to `chars` characters. A value not
    yet complete is not in the truth: no detector can be asked to recognise half a number."""
    ops: list[Op] = []
    for op in layout.ops:
        if isinstance(op, TextOp) and op.key == key:
            spans = tuple(
                Span(s.text[:chars]) if s.value is not None and chars < len(s.text) else s for s in op.spans
            )
            ops.append(replace(op, spans=spans))
        else:
            ops.append(op)
    return replace(layout, ops=tuple(ops))


def typed_length(layout: Layout, key: str) -> int:
    for op in layout.ops:
        if isinstance(op, TextOp) and op.key == key:
            return max((len(s.text) for s in op.spans if s.value is not None), default=0)
    raise VeilError(f"layout has no field {key!r}")


def render_layout(layout: Layout, scroll_px: int = 0) -> Screen:
    width, height = layout.spec.size
    palette = PALETTES[layout.spec.theme]
    image = Image.new("RGB", (width, height), palette["bg"])
    draw = ImageDraw.Draw(image)
    fonts = layout.fonts()
    items: list[TruthItem] = []
    frame = Box(0, 0, width, height)
    for op in layout.ops:
        dy = -scroll_px if op.scroll else 0
        area = layout.viewport if (op.scroll and layout.viewport is not None) else frame
        if isinstance(op, RectOp):
            box = Box(op.box.x, op.box.y + dy, op.box.w, op.box.h)
            if area.contains(box):
                _rect(draw, box, palette[op.color], palette[op.outline] if op.outline else None)
        else:
            items.extend(_draw_text(draw, op, fonts[op.font], palette[op.color], dy, area))
    for picture in layout.pictures:
        items.extend(_paste(image, picture, frame))
    return Screen(np.asarray(image, dtype=np.uint8).copy(), tuple(items))


def _paste(image: Image.Image, picture: Picture, frame: Box) -> list[TruthItem]:
    if not frame.contains(picture.box):
        return []
    image.paste(Image.fromarray(picture.pixels), (picture.x, picture.y))
    items = []
    for rel, v in picture.truth:
        box = Box(rel.x + picture.x, rel.y + picture.y, rel.w, rel.h)
        items.append(TruthItem(v.type, v.language, box, v.text, v.decoy, (box,)))
    return items


def _rect(draw: ImageDraw.ImageDraw, box: Box, fill: tuple[int, int, int], outline: object) -> None:
    draw.rectangle((box.x, box.y, box.x2 - 1, box.y2 - 1), fill=fill, outline=outline)  # type: ignore[arg-type]


def _draw_text(
    draw: ImageDraw.ImageDraw, op: TextOp, font: _fonts.Font, color: tuple[int, int, int], dy: int, area: Box
) -> list[TruthItem]:
    """Draw the spans one after another; all or nothing, so no value is ever half drawn."""
    y = op.y + dy
    full = "".join(s.text for s in op.spans)
    if not full:
        return []
    left, top, right, bottom = draw.textbbox((op.x, y), full, font=font)
    extent = _line_extent(font)
    line_top, line_bottom = y + extent[0], y + extent[1]
    upper, lower = min(int(top), line_top), max(int(bottom), line_bottom)
    whole = Box(int(left), upper, int(right - left) + 2, lower - upper)
    if not area.contains(whole):
        return []
    items: list[TruthItem] = []
    x = float(op.x)
    for span in op.spans:
        if span.text:
            draw.text((x, y), span.text, font=font, fill=color)
            if span.value is not None:
                ink = _ink_box(font, span.text, x, y)
                if ink is not None:
                    v = span.value
                    items.append(
                        TruthItem(v.type, v.language, ink[0], v.text, v.decoy, ink[1], span.labelled)
                    )
            x += font.getlength(span.text)
    return items


def _ink_box(font: _fonts.Font, text: str, x: float, y: int) -> tuple[Box, tuple[Box, ...]] | None:
    ox = int(np.floor(x))
    rel = _ink_rel(font, text, x - ox)
    if rel is None:
        return None
    return rel[0].moved(ox, y), tuple(p.moved(ox, y) for p in rel[1])


@lru_cache(maxsize=8192)
def _ink_rel(font: _fonts.Font, text: str, frac: float) -> tuple[Box, tuple[Box, ...]] | None:
    """The ink box of `text` drawn at (frac, 0) and of its glyph runs, measured on a mask of its own."""
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    w, h = right - left + 4, bottom - top + 4
    if w <= 0 or h <= 0:
        return None
    mask = Image.new("L", (w, h), 0)
    # Same fractional x origin as on the screen, so the glyphs land on the same pixels.
    ImageDraw.Draw(mask).text((frac - left + 2, -top + 2), text, font=font, fill=255)
    ink = np.asarray(mask) >= INK_THRESHOLD
    cols = np.nonzero(ink.any(axis=0))[0]
    if cols.size == 0:
        return None
    ox, oy = left - 2, top - 2
    runs = np.split(cols, np.nonzero(np.diff(cols) > GAP_PX)[0] + 1)
    parts = tuple(_ink_of(ink[:, run[0] : run[-1] + 1], ox + int(run[0]), oy) for run in runs)
    return _ink_of(ink, ox, oy), parts


def _ink_of(ink: npt.NDArray[np.bool_], ox: int, oy: int) -> Box:
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return Box(ox + int(cols[0]), oy + int(rows[0]), int(cols[-1] - cols[0]) + 1, int(rows[-1] - rows[0]) + 1)


@lru_cache(maxsize=256)
def _line_extent(font: _fonts.Font) -> tuple[int, int]:
    return int(font.getbbox("Ag")[1]), int(font.getbbox("Agy")[3])


def render_screen(spec: ScreenSpec) -> Screen:
    """One synthetic business screen with its ground truth."""
    from veil.synth._scenes import build_layout

    return render_layout(build_layout(spec))
