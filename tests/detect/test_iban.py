"""IBAN: mod 97 via stdnum.iban, grouped by four or not."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, fullwidth, group, iban_of, types_found

FR = iban_of("FR", "30006000011234567890189")
DE = iban_of("DE", "370400440532013000")
GB = iban_of("GB", "NWBK60161331926819")
BAD = FR[:4] + ("1" if FR[4] != "1" else "2") + FR[5:]

FOURS = (4, 4, 4, 4, 4, 4, 4, 4)

POSITIVES = [
    (f"IBAN : {group(FR, FOURS)}", group(FR, FOURS)),
    (f"IBAN {group(FR, FOURS)} BIC BNPAFRPP", group(FR, FOURS)),
    (f"口座 {DE}", DE),
    (f"계좌 {group(GB, FOURS)}입니다", group(GB, FOURS)),
    (f"IBAN {fullwidth(group(DE, FOURS))}", fullwidth(group(DE, FOURS))),
    (f"IBAN {FR[:6]}{group(FR[6:], FOURS)}", f"{FR[:6]}{group(FR[6:], FOURS)}"),
]

NEGATIVES = [
    f"IBAN {group(BAD, FOURS)}",
    "FR76 ABCD",
    "ORD-2024-118843",
    "BIC BNPAFRPP",
    "VERSION 2024 RELEASE NOTES",
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_iban_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "iban")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_an_iban(line: str) -> None:
    assert "iban" not in types_found(line)
