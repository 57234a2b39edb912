"""US and UK identifiers: SSN, ITIN, EIN, National Insurance, NHS and DVLA licence numbers.
Every number here is synthetic; check digits come from python-stdnum."""

from __future__ import annotations

import pytest
from stdnum.gb import nhs

from veil.detect import default_analyzer

from .synthetic import expect, found, types_found

NHS = next(n for n in (f"943476591{d}" for d in range(10)) if nhs.is_valid(n))
NHS_SPACED = f"{NHS[:3]} {NHS[3:6]} {NHS[6:]}"

POSITIVES = [
    ("SSN (for the tax form): 512-43-6789", "512-43-6789", "us_ssn"),
    ("Social Security Number 512 43 6789", "512 43 6789", "us_ssn"),
    ("ssn: 512436789", "512436789", "us_ssn"),
    ("Employee SSN 078-05-1121 on file", "078-05-1121", "us_ssn"),
    ("ITIN 912-73-4567", "912-73-4567", "us_itin"),
    ("EIN: 12-3456789", "12-3456789", "us_ein"),
    ("National Insurance number: JG 12 34 56 C", "JG 12 34 56 C", "uk_nino"),
    ("NI No AB123456D", "AB123456D", "uk_nino"),
    (f"NHS number {NHS_SPACED}", NHS_SPACED, "uk_nhs"),
    ("Driving licence MORGA753116SM9IJ", "MORGA753116SM9IJ", "uk_driving_licence"),
]

NEGATIVES = [
    ("000-12-3456", "us_ssn"),  # area 000 is never issued
    ("666-12-3456", "us_ssn"),
    ("512-00-6789", "us_ssn"),  # group 00
    ("Order 512436789", "us_ssn"),  # nine bare digits without a label
    ("912-45-4567", "us_itin"),  # group 45 is no ITIN group
    ("BG 12 34 56 C", "uk_nino"),  # BG is never a prefix
    ("JG 12 34 56 E", "uk_nino"),  # suffix only A-D
    ("QQ 12 34 56 C", "uk_nino"),  # Q never starts a NINO (HMRC uses QQ in examples)
    (f"{NHS_SPACED}", "uk_nhs"),  # a ten-digit number without its label is a phone, not an NHS number
    (f"NHS number {NHS_SPACED[:-1]}{(int(NHS[-1]) + 1) % 10}", "uk_nhs"),  # check digit fails
    ("SKU-MORGA753116SM9IJ", "uk_driving_licence"),
]


@pytest.mark.parametrize(("line", "value", "kind"), POSITIVES)
def test_finds_the_identifier_exactly(line: str, value: str, kind: str) -> None:
    assert found(line) == expect(line, value, kind)


@pytest.mark.parametrize(("line", "kind"), NEGATIVES)
def test_not_the_identifier(line: str, kind: str) -> None:
    assert kind not in types_found(line)


@pytest.mark.parametrize(
    ("label", "value", "kind"),
    [
        ("SSN", "512-43-67", "us_ssn"),
        ("Passport", "123456789", "kr_passport"),
        ("NHS number", "943 47", "uk_nhs"),
    ],
)
def test_a_labelled_value_is_masked_while_it_is_typed(label: str, value: str, kind: str) -> None:
    spans = default_analyzer().analyze(value, context=label)
    assert [(s.start, s.end, s.type) for s in spans] == [(0, len(value), kind)]
