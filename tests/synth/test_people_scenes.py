"""People scenes: every kind renders in every language with names, addresses, labelled fields and
faces in the truth, exact boxes, and a benchmark harness that scores them (stand-in redactors)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from bench import people as bench_people
from rich.console import Console

from veil.exceptions import VeilError
from veil.models import Pixels
from veil.synth.fakedata import LANGUAGES, NAME_TYPE
from veil.synth.people import (
    ADDRESS_TYPE,
    AVATAR_TYPE,
    FACE_TYPE,
    ICON_TYPE,
    People,
    disc_picture,
    face_picture,
    initials,
)
from veil.synth.score import score_boxes
from veil.synth.screens import PEOPLE_SCENE_KINDS, SCENE_KINDS, ScreenSpec, render_screen

SIZE = (1366, 768)

# Which truth each scene must carry (beyond names): the point of the scene.
EXPECTED: dict[str, set[str]] = {
    "cs_chat": {ADDRESS_TYPE},
    "crm_card": {ADDRESS_TYPE, "labelled"},
    "email_signature": {ADDRESS_TYPE},
    "video_call": {FACE_TYPE},
    "shipping_label": {ADDRESS_TYPE, "labelled"},
    "spreadsheet": {ADDRESS_TYPE, "labelled"},
    "terminal_rows": {ADDRESS_TYPE},
}


def _spec(kind: str, language: str, seed: int = 5) -> ScreenSpec:
    return ScreenSpec(kind=kind, language=language, size=SIZE, seed=seed)


def test_people_kinds_are_apart_from_the_general_ones() -> None:
    assert set(PEOPLE_SCENE_KINDS) == set(EXPECTED)
    assert not set(PEOPLE_SCENE_KINDS) & set(SCENE_KINDS)


@pytest.mark.parametrize("kind", PEOPLE_SCENE_KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_scene_carries_its_types(kind: str, language: str) -> None:
    screen = render_screen(_spec(kind, language))
    personal = [i for i in screen.items if not i.decoy]
    types = {i.type for i in personal} | ({"labelled"} if any(i.labelled for i in personal) else set())
    assert NAME_TYPE in types
    assert EXPECTED[kind] <= types
    assert any(i.decoy for i in screen.items)
    own = [i for i in personal if i.type in (NAME_TYPE, ADDRESS_TYPE) and i.language == language]
    assert own, "values in the screen's own language"
    height, width = screen.pixels.shape[:2]
    for item in screen.items:
        assert item.box.clip(width, height) == item.box and item.box.area > 0


def test_boxes_hold_ink_and_masking_them_scores_full() -> None:
    screen = render_screen(_spec("crm_card", "ja"))
    for item in screen.items:
        if item.type != FACE_TYPE:
            region = screen.pixels[item.box.y : item.box.y2, item.box.x : item.box.x2]
            assert region.std() > 0, "a value's box shows its glyphs"
    personal = [i.box for i in screen.items if not i.decoy]
    score = score_boxes(screen.items, personal, SIZE)
    assert score.counts(type_=NAME_TYPE).recall == 1.0
    assert score.counts(type_=ADDRESS_TYPE).recall == 1.0
    assert score.decoys_masked == 0


def test_same_seed_same_screen() -> None:
    a, b = render_screen(_spec("video_call", "ko", 9)), render_screen(_spec("video_call", "ko", 9))
    assert np.array_equal(a.pixels, b.pixels) and a.items == b.items


@pytest.mark.parametrize("language", LANGUAGES)
def test_addresses_look_like_their_country(language: str) -> None:
    people = People(random.Random(3))
    marks = {"ko": ("시", "구"), "ja": ("〒",), "fr": (", ",), "en": (", ",)}[language]
    for _ in range(30):
        address = people.address(language)
        assert all(m in address.one_line for m in marks)
        assert address.short in address.one_line and all(address.lines)
    ko_kinds = {("로" in people.address("ko").short) for _ in range(40)}
    assert ko_kinds == {True, False}, "Korean road-name and lot-number forms both appear"


@pytest.mark.parametrize(
    ("face_px", "mirrored", "brightness"), [(48, False, 1.0), (120, True, 0.55), (200, False, 0.75)]
)
def test_face_picture_box(face_px: int, mirrored: bool, brightness: float) -> None:
    pixels, face = face_picture(face_px, mirrored, brightness)
    assert abs(face.h - face_px) <= 1
    assert face.x >= 0 and face.x2 <= pixels.shape[1] and face.y2 <= pixels.shape[0]
    plain, _ = face_picture(face_px)
    if mirrored:
        unmirrored, box = face_picture(face_px, False, brightness)
        assert np.array_equal(pixels, unmirrored[:, ::-1])
        assert abs(face.x - (pixels.shape[1] - box.x2)) <= 1
    if brightness < 1.0:
        assert pixels.mean() < plain.mean()


def test_face_picture_refuses_bad_sizes() -> None:
    with pytest.raises(VeilError):
        face_picture(8)


def test_video_call_faces_are_over_40_px() -> None:
    faces = [
        i for s in range(6) for i in render_screen(_spec("video_call", "en", s)).items if i.type == FACE_TYPE
    ]
    assert faces and all(f.box.h > 40 for f in faces)


def test_face_detector_finds_the_planted_faces() -> None:
    from veil.detect.faces import FaceDetector

    screen = render_screen(ScreenSpec(kind="video_call", language="fr", seed=2))
    faces = [i for i in screen.items if i.type == FACE_TYPE]
    found = FaceDetector().detect(screen.pixels)
    assert faces
    hit = [
        f
        for f in faces
        if any(b.contains(f.box) or b.intersection_area(f.box) > 0.6 * f.box.area for b in found)
    ]
    assert len(hit) == len(faces)


def _nothing(pixels: Pixels, language: str) -> tuple[Pixels, bool]:
    return pixels, False


def _everything(pixels: Pixels, language: str) -> tuple[Pixels, bool]:
    return np.zeros_like(pixels), True


def test_bench_specs_cover_every_scene_and_language() -> None:
    specs = bench_people.people_specs(28, seed=1)
    assert {(s.kind, s.language) for s in specs} == {
        (k, lang) for k in PEOPLE_SCENE_KINDS for lang in LANGUAGES
    }
    assert {s.kind for s in bench_people.people_specs(8, seed=1)} == set(PEOPLE_SCENE_KINDS)


def test_bench_harness_scores_stand_ins(tmp_path: Path) -> None:
    specs = [
        ScreenSpec(s.kind, s.language, s.theme, s.font_px, (1280, 720), s.seed)
        for s in bench_people.people_specs(7, 2)
    ]
    with (tmp_path / "log").open("w") as log:
        none, full = bench_people.run_people(specs, {"none": _nothing, "all": _everything}, Console(file=log))
    for kind in (NAME_TYPE, ADDRESS_TYPE, bench_people.LABELLED, FACE_TYPE):
        assert none.counts(kind).instances > 0 and none.counts(kind).redacted == 0
        assert full.counts(kind).recall == 1.0
    assert full.score.decoy_rate == 1.0 and full.masked_whole == 7
    with (tmp_path / "table.txt").open("w") as fh:
        Console(file=fh, width=220).print(bench_people.render_table([none, full], len(specs)))
    text = (tmp_path / "table.txt").read_text()
    assert "labelled-field values" in text and "MISS" in text and "faces > 40 px" in text
    data = json.dumps(bench_people.to_json([none, full], specs))
    values = [i.value for s in specs for i in render_screen(s).items if i.value and len(i.value) > 3]
    assert values and not [v for v in values if v in data], "no value reaches the numbers"


@pytest.mark.parametrize("language", LANGUAGES)
def test_video_call_has_initials_avatars_beside_names_and_round_icons_as_decoys(language: str) -> None:
    screens = [render_screen(_spec("video_call", language, seed)) for seed in range(3)]
    avatars = [(s, i) for s in screens for i in s.items if i.type == AVATAR_TYPE]
    icons = [i for s in screens for i in s.items if i.type == ICON_TYPE]
    assert avatars and all(not i.decoy and i.value for _, i in avatars)
    assert icons and all(i.decoy for i in icons)
    for screen, item in avatars:
        # The box is the disc: its centre has the fill colour, its corners the background.
        b = item.box
        corner, centre_row = screen.pixels[b.y, b.x], screen.pixels[b.y + b.h // 2, b.x + 1]
        assert b.w == b.h and not np.array_equal(corner, centre_row)


@pytest.mark.parametrize(
    ("name", "language", "expected"),
    [("김민준", "ko", "민준"), ("남궁민수", "ko", "민수"), ("佐藤 翔太", "ja", "佐"),
     ("Marie DUPONT", "fr", "MD"),
     ("James K. Lee", "en", "JL"), ("Léa", "fr", "L")],
)  # fmt: skip
def test_initials(name: str, language: str, expected: str) -> None:
    assert initials(name, language) == expected


def test_disc_picture_rejects_bad_sizes() -> None:
    with pytest.raises(VeilError):
        disc_picture(4, (1, 2, 3), (4, 5, 6))
