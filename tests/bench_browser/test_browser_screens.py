"""The browser screen benchmark, fast parts: two templates rendered by Debian's Chromium, the DOM
truth (boxes inside the frame, no value on disk), the ink rule and the text-layer check."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from bench.browser.render import FrameSpec, Renderer, Shot, Word, page_html
from bench.browser.scoring import covered_ink_share, ink_mask, score_frame, text_errors
from bench.browser.values import PERSONAL_TYPES, Values
from bench.browser_screens import Output, Tally, render_table

from veil.models import Box

SPECS = (
    FrameSpec(
        "crm_card", "en", dark=False, font=0, font_px=14, zoom=1.25, size=(1366, 768), seed=5, motion="typed"
    ),
    FrameSpec("sql_terminal", "ko", dark=True, font=1, font_px=13, zoom=0.8, size=(1366, 768), seed=6),
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Shot]]]:
    cache = tmp_path_factory.mktemp("browser-cache")
    with Renderer(cache) as renderer:
        return cache, {spec.template: renderer.shots(spec) for spec in SPECS}


def test_every_value_has_boxes_inside_the_frame(rendered: tuple[Path, dict[str, list[Shot]]]) -> None:
    _, shots = rendered
    assert len(shots["crm_card"]) == 3 and len(shots["sql_terminal"]) == 1  # typed: three frames
    for shot in (s for seq in shots.values() for s in seq):
        height, width = shot.pixels.shape[:2]
        assert abs(width - shot.spec.size[0]) <= 2 and abs(height - shot.spec.size[1]) <= 2
        shown = [m for m in shot.marks if m.shown]
        assert sum(not m.decoy for m in shown) >= 8 and sum(m.decoy for m in shown) >= 3
        for mark in shown:
            assert mark.kind in PERSONAL_TYPES or mark.decoy
            for part in mark.parts:
                assert part.w > 0 and part.h > 0
                assert part.clip(width, height) == part, (mark.kind, part)
    kinds = {m.kind for s in shots["sql_terminal"] for m in s.marks if not m.decoy and m.shown}
    assert {"person_name", "phone", "email", "date_of_birth"} <= kinds


def test_the_typed_value_grows_over_the_sequence(rendered: tuple[Path, dict[str, list[Shot]]]) -> None:
    _, shots = rendered
    partial = [[m for m in s.marks if m.partial] for s in shots["crm_card"]]
    assert len(partial[0]) == 1 and len(partial[1]) == 1 and not partial[2]
    assert partial[0][0].box.w < partial[1][0].box.w


def test_the_cache_holds_boxes_but_no_value(rendered: tuple[Path, dict[str, list[Shot]]]) -> None:
    cache, shots = rendered
    values = set()
    for spec in SPECS:
        for text in re.findall(r'<span data-v="[a-z_]+"[^>]*>(.*?)</span>', page_html(spec)):
            values.update(unescape(p) for p in re.split(r"<br>|, ", text) if len(p) >= 4)
    assert len(values) >= 20
    stored = "".join(p.read_text(encoding="utf-8") for p in cache.rglob("truth*.json"))
    assert all(json.loads(p.read_text(encoding="utf-8"))["marks"] for p in cache.rglob("truth*.json"))
    assert not [v for v in values if v in stored]
    with Renderer(cache) as again:  # a second run reads the cache: same pixels, same truth
        reloaded = again.shots(SPECS[1])[0]
    assert np.array_equal(reloaded.pixels, shots["sql_terminal"][0].pixels)
    assert reloaded.marks == shots["sql_terminal"][0].marks


def _paint(pixels: np.ndarray, boxes: list[Box], colour: tuple[int, int, int] = (255, 0, 255)) -> np.ndarray:
    out = pixels.copy()
    for b in boxes:
        g = b.grow(2)
        out[max(g.y, 0) : g.y2, max(g.x, 0) : g.x2] = colour
    return out


def test_scorer_counts_an_uncovered_value_as_missed_and_a_covered_one_as_hidden(
    rendered: tuple[Path, dict[str, list[Shot]]],
) -> None:
    _, shots = rendered
    shot = shots["sql_terminal"][0]
    target = next(m for m in shot.marks if m.shown and m.kind == "email")
    untouched = score_frame(shot, shot.pixels.copy(), False, 0.0)
    assert not any(v.hidden for v in untouched.outcomes) and untouched.masked_px == 0

    covered = score_frame(shot, _paint(shot.pixels, list(target.parts)), False, 0.0)
    hidden = [v for v in covered.outcomes if v.hidden]
    assert [(v.kind, v.decoy) for v in hidden] == [("email", False)]

    half = replace(target.parts[0], w=target.parts[0].w // 2)
    halfway = score_frame(shot, _paint(shot.pixels, [half]), False, 0.0)
    assert not any(v.hidden for v in halfway.outcomes if not v.decoy)


def test_ink_is_what_differs_from_the_background() -> None:
    pixels = np.full((20, 40, 3), 240, dtype=np.uint8)
    pixels[8:12, 10:20] = 20  # a glyph stroke
    box = Box(5, 5, 30, 10)
    ink = ink_mask(pixels, box)
    assert ink.sum() == 40
    covered = np.zeros((20, 40), dtype=bool)
    covered[8:12, 10:19] = True  # 36 of 40 ink pixels: 90 % < 95 %
    assert covered_ink_share(pixels, covered, [box]) == pytest.approx(0.9)


def test_text_errors_match_layer_lines_to_words_by_place() -> None:
    words = [
        Word("Order", Box(10, 10, 50, 14)),
        Word("Status", Box(100, 10, 60, 14)),
        Word("Paid", Box(10, 40, 40, 14)),
    ]
    nothing = np.zeros((100, 200), dtype=bool)
    layer = [(Box(8, 9, 160, 16), "Order Status"), (Box(8, 39, 50, 16), "Pa1d <email>")]
    assert text_errors(words, layer, nothing) == (1, 15)
    assert text_errors(words, layer[:1], nothing) == (4, 15)  # "Paid" never read: deleted
    covered = nothing.copy()
    covered[40:54, 10:50] = True  # under a mask: not expected in the layer
    assert text_errors(words, layer[:1], covered) == (0, 11)


def test_values_are_deterministic_and_names_say_whether_listed() -> None:
    a, b = Values("fr", 11), Values("fr", 11)
    drawn = [(a.name(), b.name()) for _ in range(30)]
    assert all(x == y for x, y in drawn)
    assert {x.listed for x, _ in drawn} <= {"in", "out"} and "out" in {x.listed for x, _ in drawn}


def test_table_reports_recall_on_delivered_frames_apart_from_frames_masked_whole(
    rendered: tuple[Path, dict[str, list[Shot]]],
) -> None:
    from rich.console import Console

    _, shots = rendered
    shot = shots["sql_terminal"][0]
    veil, peer = Tally("Veil"), Tally("Presidio")
    personal = [p for m in shot.marks if m.shown and not m.decoy for p in m.parts]
    veil.frames.append(score_frame(shot, _paint(shot.pixels, personal), False, 1.0))
    veil.frames.append(score_frame(shot, np.zeros_like(shot.pixels), True, 1.0))  # masked whole
    peer.frames.append(score_frame(shot, shot.pixels.copy(), False, 1.0))
    peer.frames.append(score_frame(shot, shot.pixels.copy(), False, 1.0))
    n = len(veil.values())
    assert n >= 8 and all(v.hidden for v in veil.values())  # the masked-whole frame is not counted
    assert len(peer.values()) == 2 * n and not any(v.hidden for v in peer.values())
    console = Console(width=200, record=True)
    console.print(render_table({"Veil": veil, "Presidio": peer}, 1, "dev"))
    text = console.export_text()
    assert re.search(r"frames masked whole\s+│ all\s+│\s+50\.0 \(1/2\)\s+│\s+0\.0 \(0/2\)", text)
    assert f"100.0 ({n}/{n})" in text
    assert Output(shot.pixels, False).layer is None


def test_specs_cover_every_pair_and_the_held_out_seeds_stay_apart() -> None:
    from bench.browser.render import frame_specs
    from bench.browser.templates_more import TEMPLATES

    dev, held = frame_specs("dev", 52), frame_specs("heldout", 26)
    assert {(s.template, s.language) for s in dev} == {
        (t, lang) for t in TEMPLATES for lang in ("ko", "ja", "fr", "en")
    }
    assert not {s.seed for s in dev} & {s.seed for s in held}
    assert {s.motion for s in dev} == {"still", "typed", "scrolled"}
    assert all(TEMPLATES[s.template].scroll for s in dev if s.motion == "scrolled")


def test_sequence_table_compares_only_the_sequence_frames(
    rendered: tuple[Path, dict[str, list[Shot]]],
) -> None:
    from bench.browser_screens import sequence_table
    from rich.console import Console

    _, shots = rendered
    per_frame, incremental = Tally("Veil"), Tally("Veil incremental")
    for shot in shots["crm_card"] + shots["sql_terminal"]:  # typed (3 frames) + still (1)
        per_frame.frames.append(score_frame(shot, shot.pixels.copy(), False, 2.0))
    for shot in shots["crm_card"]:
        incremental.frames.append(score_frame(shot, np.zeros_like(shot.pixels), True, 1.0))
    console = Console(width=200, record=True)
    console.print(sequence_table(per_frame, incremental))
    text = console.export_text()
    assert re.search(r"frames masked whole\s+│\s+0\.0 \(0/3\)\s+│\s+100\.0 \(3/3\)", text)
    assert re.search(r"seconds per frame\s+│\s+2\.00\s+│\s+1\.00", text)
