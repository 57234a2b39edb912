"""Korean foreigner registration numbers: the RRN shape with gender digit 5-8."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, rrn_bad_checksum, rrn_of, types_found

FRN = rrn_of("850615512345")
FRN_NEW = rrn_bad_checksum("010203712345")

POSITIVES = [
    (f"외국인등록번호 {FRN[:6]}-{FRN[6:]}", f"{FRN[:6]}-{FRN[6:]}"),
    (f"{FRN_NEW[:6]}-{FRN_NEW[6:]}", f"{FRN_NEW[:6]}-{FRN_NEW[6:]}"),
    (f"ARC: {FRN}", FRN),
]

NEGATIVES = [
    f"{rrn_of('850615112345')[:6]}-{rrn_of('850615112345')[6:]}",  # a resident (gender 1)
    "851315-5123456",  # month 13
    "850632-6123456",  # day 32
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_frn_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "kr_frn")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_an_frn(line: str) -> None:
    assert "kr_frn" not in types_found(line)
