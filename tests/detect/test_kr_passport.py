"""Korean passports: M12345678 (label needed) or new-format M123A4567."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, types_found

POSITIVES = [
    ("여권번호 M12345678", "", "M12345678"),
    ("Passport No. M123A4567", "", "M123A4567"),
    ("M123A4567", "", "M123A4567"),
    ("旅券 S98765432", "", "S98765432"),
    ("M12345678", "여권번호", "M12345678"),
    ("여권M123A4567입니다", "", "M123A4567"),
]

NEGATIVES = [
    ("M12345678", ""),  # old format without a label: could be any code
    ("SKU-M123A4567", ""),
    ("여권번호 X12345678", ""),  # no such passport type
    ("AM123A4567", ""),
    ("여권번호 M1234567", ""),  # too short
]


@pytest.mark.parametrize(("line", "context", "value"), POSITIVES)
def test_finds_the_passport_exactly(line: str, context: str, value: str) -> None:
    assert found(line, context) == expect(line, value, "kr_passport")


@pytest.mark.parametrize(("line", "context"), NEGATIVES)
def test_not_a_passport(line: str, context: str) -> None:
    assert "kr_passport" not in types_found(line, context)
