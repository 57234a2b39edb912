"""Bank accounts: digit groups reported only where a label (in the line or the context) says so."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, fullwidth, types_found

POSITIVES = [
    # (line, context, value)
    ("계좌번호 110-123-456789", "", "110-123-456789"),
    # A chat line and its time read as one row: the hour glued to 時 is no part of the number.
    ("確認しました。口座普通: 9906828 11時27分", "", "9906828"),
    ("입금계좌: 신한 1002-123-456789", "", "신한 1002-123-456789"),  # the bank is masked with it
    ("계좌 3333-01-1234567", "", "3333-01-1234567"),
    # The account's type is part of it ("普通 1234567"): masked with the number.
    ("普通 1234567", "", "普通 1234567"),
    ("口座番号：普通 ７６５４３２１", "", "普通 ７６５４３２１"),
    ("振込先 当座預金1234567", "", "当座預金1234567"),
    ("Account no. 12345678", "", "12345678"),
    ("acct 000123456789", "", "000123456789"),
    ("110123456789", "계좌번호", "110123456789"),
    ("1234567", "口座番号", "1234567"),
    # The word "RIB" is masked with the number, as an account's type is.
    ("RIB : 30006 00001 12345678901 89", "", "RIB : 30006 00001 12345678901 89"),
    ("RIB 3000600001A2345678901 89", "", "RIB 3000600001A2345678901 89"),
    ("Virement RIB 30006 00001 12345678901 89 reçu", "", "RIB 30006 00001 12345678901 89"),
    ("N° de compte 12345678901", "", "12345678901"),
    (f"振込先 {fullwidth('0123-456-7890123')}", "", fullwidth("0123-456-7890123")),
]

NEGATIVES = [
    # Digits without any bank label.
    ("110-123-456789", ""),
    ("1234567", ""),
    ("30006 00001 12345678901 89", ""),
    ("주문번호 110-123-456789", ""),
    # The label belongs to another number: a number stands between them.
    ("계좌 미등록 주문 2024 / 상품 1234567", ""),
    ("ORD-2024-118843", "계좌번호"),
    ("₩12,500", "계좌"),
]


@pytest.mark.parametrize(("line", "context", "value"), POSITIVES)
def test_finds_the_account_exactly(line: str, context: str, value: str) -> None:
    assert found(line, context) == expect(line, value, "bank_account")


@pytest.mark.parametrize(("line", "context"), NEGATIVES)
def test_not_an_account(line: str, context: str) -> None:
    assert "bank_account" not in types_found(line, context)


@pytest.mark.parametrize(
    "line",
    ["Savings 43195026", "Checking 4605308693", "Checking account: 4605308693", "국민 123456-12-123456",
     "신한은행 110-123-456789"],
)  # fmt: skip
def test_an_account_with_its_kind_or_bank_in_front_is_masked_whole(line: str) -> None:
    assert found(line) == expect(line, line, "bank_account")


@pytest.mark.parametrize("line", ["Savings 12", "Current ratio 42", "하나 2개", "Checking in at 10"])
def test_a_kind_word_without_an_account_number_is_nothing(line: str) -> None:
    assert "bank_account" not in types_found(line)
