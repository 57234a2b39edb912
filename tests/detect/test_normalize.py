"""NFKC normalisation keeps offsets into the original text."""

from __future__ import annotations

import pytest

from veil.detect.normalize import normalize

CASES = [
    # (original, normalised)
    ("０９０－１２３４－５６７８", "090-1234-5678"),
    ("電話\u300003\u20131234\u20145678", "電話 03-1234-5678"),
    ("03ー1234ー5678 データ", "03-1234-5678 データ"),
    ("Ne\u0301 le", "Né le"),
    ("㈱テスト", "(株)テスト"),
    ("plain ascii\tline", "plain ascii line"),
    ("", ""),
]


@pytest.mark.parametrize(("original", "normalised"), CASES)
def test_normalised_text(original: str, normalised: str) -> None:
    assert normalize(original).text == normalised


def test_offsets_map_back_to_the_original() -> None:
    original = "連絡先：０９０－１２３４－５６７８です"
    norm = normalize(original)
    start = norm.text.index("090")
    a, b = norm.to_original(start, start + len("090-1234-5678"))
    assert original[a:b] == "０９０－１２３４－５６７８"


def test_expanding_character_maps_to_its_whole_source() -> None:
    original = "x㈱y"
    norm = normalize(original)
    assert norm.text == "x(株)y"
    assert norm.to_original(1, 4) == (1, 2)
    assert norm.to_original(2, 3) == (1, 2)
    assert norm.to_original(4, 5) == (2, 3)


def test_combining_sequence_maps_to_both_code_points() -> None:
    norm = normalize("Ne\u0301")
    assert norm.to_original(1, 2) == (1, 3)


def test_out_of_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        normalize("abc").to_original(2, 5)


def test_repr_never_shows_the_text() -> None:
    assert "secret" not in repr(normalize("secret ０１２"))
