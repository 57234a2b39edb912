"""A short line under an address is the rest of it; a table cell right of an address cell is not,
and the recognizer cannot tell left from above in its context: codes and amounts are never a
continuation (a product code and a price beside an address cell were masked as addresses)."""

from __future__ import annotations

import pytest

from veil.detect.registry import default_analyzer


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("KB974-58", "愛知県大田区無栗屋9丁目20番1号"),
        ("4 669,27 Payée", "6, avenue de Barbe, 13839 Fournier-sur-François"),
        ("1.234,50", "Musterstraße 12, 10115 Berlin"),
        # an order number in the cell right of a sheet's address cell
        ("#477432", "愛知県大田区無栗屋9丁目20番1号"),
        ("＃ 517989", "東京都港区六本木6丁目10番1号"),
        ("#816003", "2126 Warren Harbors Suite 337, Springfield, IL 62704"),
    ],
)
def test_codes_and_amounts_beside_an_address_are_no_part_of_it(text: str, context: str) -> None:
    assert [s for s in default_analyzer().analyze(text, context) if s.type == "address"] == []


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("ハイツ湯本塩原711", "富山県西多摩郡日の出町芝浦36丁目2番7号"),
        ("Résidence Les Tilleuls, apt 773", "464, boulevard Lemaire, 20418 Weber"),
        ("Apt 4B", "12 Main Street, Springfield"),
        ("#12", "12 Main Street, Springfield"),  # a flat's number
    ],
)
def test_an_address_tail_under_its_address_still_is_one(text: str, context: str) -> None:
    assert [s.type for s in default_analyzer().analyze(text, context)] == ["address"]
