"""Synthetic screens: every truth box lies inside the frame, holds ink, and is tight."""

from __future__ import annotations

import numpy as np
import pytest

from veil.exceptions import VeilError
from veil.models import Box
from veil.synth.fakedata import DECOY_TYPES, LANGUAGES, NAME_TYPE, STRUCTURED_TYPES
from veil.synth.screens import (
    PALETTES,
    SCENE_KINDS,
    Screen,
    ScreenSpec,
    render_layout,
    render_screen,
    typed_length,
    with_typed,
)

CASES = [
    ScreenSpec(kind=kind, language=lang, theme=("light", "dark")[i % 2], font_px=11 + i % 8,
               size=((1366, 768), (1920, 1080))[i % 2], seed=i)
    for i, (kind, lang) in enumerate((k, lang) for k in SCENE_KINDS for lang in LANGUAGES)
]  # fmt: skip


def _ink(screen: Screen, box: Box) -> np.ndarray:
    """Pixels of `box` that differ clearly from the colours around it."""
    region = screen.pixels[box.y : box.y2, box.x : box.x2].astype(int)
    ring = screen.pixels[max(box.y - 1, 0), box.x : box.x2].astype(int)
    background = np.median(ring, axis=0)
    return np.abs(region - background).max(axis=2) > 40


@pytest.mark.parametrize("spec", CASES, ids=lambda s: f"{s.kind}-{s.language}-{s.theme}")
def test_truth_boxes_inside_frame_and_inked(spec: ScreenSpec) -> None:
    screen = render_screen(spec)
    height, width = screen.pixels.shape[:2]
    assert (width, height) == spec.size and screen.pixels.dtype == np.uint8
    personal = [i for i in screen.items if not i.decoy]
    assert len(personal) >= 3, "every screen shows personal data"
    for item in screen.items:
        assert item.type in (*STRUCTURED_TYPES, NAME_TYPE, *DECOY_TYPES)
        assert item.decoy == (item.type in DECOY_TYPES)
        assert item.box.clip(width, height) == item.box and item.box.area > 0
        ink = _ink(screen, item.box)
        assert ink.mean() > 0.05, item.type
        # Tight: ink on the first and last column of the box.
        assert ink[:, 0].any() and ink[:, -1].any(), item.type
        assert item.parts and all(item.box.contains(p) for p in item.parts)


def test_screens_differ_by_theme_and_are_deterministic() -> None:
    light = render_screen(ScreenSpec(kind="form", language="ko", theme="light", seed=4))
    again = render_screen(ScreenSpec(kind="form", language="ko", theme="light", seed=4))
    dark = render_screen(ScreenSpec(kind="form", language="ko", theme="dark", seed=4))
    assert np.array_equal(light.pixels, again.pixels)
    assert [i.value for i in light.items] == [i.value for i in again.items]
    assert tuple(light.pixels[-1, -1]) == PALETTES["light"]["bg"]
    assert tuple(dark.pixels[-1, -1]) == PALETTES["dark"]["bg"]


def test_table_has_header_and_scrolls_by_rows() -> None:
    from veil.synth._scenes import build_layout

    layout = build_layout(ScreenSpec(kind="table", language="ja", size=(1280, 720), seed=2))
    first, scrolled = render_layout(layout), render_layout(layout, scroll_px=layout.row_px)
    assert layout.viewport is not None and layout.row_px > 0
    top = min(i.box.y for i in first.items)
    assert top >= layout.viewport.y  # values only below the header row
    # The second row moves up to the first row's place.
    rows = sorted({i.box.y for i in first.items if i.type == NAME_TYPE})
    moved = sorted({i.box.y for i in scrolled.items if i.type == NAME_TYPE})
    assert moved[0] == rows[1] - layout.row_px
    assert {i.value for i in first.items} != {i.value for i in scrolled.items}


def test_typing_shows_a_value_only_once_complete() -> None:
    from veil.synth._scenes import build_layout

    layout = build_layout(ScreenSpec(kind="form", language="fr", size=(1280, 720), seed=5))
    n = typed_length(layout, "typing")
    full = render_layout(layout)
    half = render_layout(with_typed(layout, "typing", n // 2))
    assert len(half.items) == len(full.items) - 1
    assert not np.array_equal(half.pixels, full.pixels)
    with pytest.raises(VeilError):
        typed_length(layout, "nope")


@pytest.mark.parametrize(
    "spec",
    [ScreenSpec(kind="nope"), ScreenSpec(language="de"), ScreenSpec(theme="pink"), ScreenSpec(font_px=3),
     ScreenSpec(size=(100, 100))],
)  # fmt: skip
def test_bad_spec_is_refused(spec: ScreenSpec) -> None:
    with pytest.raises(VeilError):
        render_screen(spec)


def test_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from veil.synth import _fonts

    monkeypatch.setattr(_fonts, "FONT_DIRS", ())
    _fonts.find_font.cache_clear()
    try:
        with pytest.raises(VeilError, match="fonts-noto-cjk"):
            _fonts.find_font("NotoSansCJK-Regular.ttc", "fonts-noto-cjk")
    finally:
        _fonts.find_font.cache_clear()
