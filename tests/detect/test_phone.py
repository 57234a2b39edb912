"""Phone numbers: KR / JP / FR / US / international forms, OCR spacing, full-width digits."""

from __future__ import annotations

import pytest

from veil.detect.contact import PhoneRecognizer

from .synthetic import expect, found, fullwidth, types_found

POSITIVES = [
    # (line, the phone number inside it)
    ("연락처:010-1234-5678입니다", "010-1234-5678"),
    ("휴대폰 010 1234 5678", "010 1234 5678"),
    ("010.1234.5678", "010.1234.5678"),
    ("01012345678", "01012345678"),
    ("대표번호 02-123-4567", "02-123-4567"),
    ("지점 031-123-4567 (내선 12)", "031-123-4567"),
    ("TEL 010 - 1234 - 5678", "010 - 1234 - 5678"),
    ("携帯：090-1234-5678", "090-1234-5678"),
    ("電話 03-1234-5678 まで", "03-1234-5678"),
    (f"電話：{fullwidth('090-1234-5678')}", fullwidth("090-1234-5678")),
    ("電話 03ー1234ー5678", "03ー1234ー5678"),
    ("電話番号:03(1234)5678", "03(1234)5678"),
    ("+81 90-1234-5678", "+81 90-1234-5678"),
    ("+81 (0)3-1234-5678", "+81 (0)3-1234-5678"),
    ("+82 10-1234-5678", "+82 10-1234-5678"),
    ("+82-2-123-4567", "+82-2-123-4567"),
    ("Tél : 06 12 34 56 78", "06 12 34 56 78"),
    ("Portable 0612345678.", "0612345678"),
    ("01.23.45.67.89", "01.23.45.67.89"),
    ("Appelez le +33 6 12 34 56 78, merci", "+33 6 12 34 56 78"),
    ("Phone: (201) 555-0123", "(201) 555-0123"),
    ("call 201-555-0123 today", "201-555-0123"),
    ("+1 201 555 0123", "+1 201 555 0123"),
    ("Phone 2015550123", "2015550123"),
    # A date glued in front must not be taken into the number.
    ("2024-01-15 090-1234-5678", "090-1234-5678"),
    # Valid in several countries: the grouping tells which (not a Korean premium-rate 060 line).
    ("06 06 80 11 74", "06 06 80 11 74"),
    ("Jean | 06 06 80 11 74 | ORD-2024-679760", "06 06 80 11 74"),
]

NEGATIVES = [
    "ORD-2024-118843",
    "주문번호 2024011800123",
    "SKU-0312345678",
    "₩12,500",
    "¥3,980",
    "12,50 €",
    "1 234 567,89 €",
    "2024-01-15",
    "15/01/2024",
    "2024.01.15 14:30",
    "14:30:15",
    "INV-2024-0001",
    "v10.0.19045",
    "〒100-0001",
    "Qty 12 x 3",
    "2015550123",  # a US-shaped run without label or grouping
    "tracking 1Z999AA10123456784",
    "(555) 123-4567",  # 555 is not a US area code
    # Business lines (toll-free, shared cost), also when valid elsewhere in another grouping.
    "1588-1234",
    "0120-123-456",
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_number_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "phone")


@pytest.mark.parametrize("line", NEGATIVES)
def test_decoys_are_not_phones(line: str) -> None:
    assert "phone" not in types_found(line)


def test_a_label_raises_the_score() -> None:
    recognizer = PhoneRecognizer()
    bare = recognizer.analyze("010-1234-5678")[0].score
    labelled = recognizer.analyze("연락처 010-1234-5678")[0].score
    in_context = recognizer.analyze("010-1234-5678", context="휴대전화")[0].score
    assert labelled > bare
    assert in_context == labelled


def test_an_order_label_lowers_the_score() -> None:
    recognizer = PhoneRecognizer()
    bare = recognizer.analyze("0312345678")[0].score
    decoy = recognizer.analyze("注文番号 0312345678")[0].score
    assert decoy < bare


def test_two_numbers_on_one_line() -> None:
    line = "TEL 03-1234-5678 / 携帯 090-1234-5678"
    assert found(line) == expect(line, "03-1234-5678", "phone") + expect(line, "090-1234-5678", "phone")
