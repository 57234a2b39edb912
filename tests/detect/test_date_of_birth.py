"""Dates of birth: any common date form, only next to a birth-date label (line or context)."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, fullwidth, types_found

POSITIVES = [
    # (line, context, value)
    ("생년월일: 1990-01-02", "", "1990-01-02"),
    ("생년월일 1990.01.02", "", "1990.01.02"),
    ("생년월일 1990년 1월 2일", "", "1990년 1월 2일"),
    ("生年月日：1990年1月2日", "", "1990年1月2日"),
    ("生年月日 平成2年1月2日", "", "平成2年1月2日"),
    ("生年月日 昭和元年12月25日", "", "昭和元年12月25日"),
    (f"生年月日 {fullwidth('1990')}/{fullwidth('01')}/{fullwidth('02')}", "", "１９９０/０１/０２"),
    ("Date de naissance : 02/01/1990", "", "02/01/1990"),
    ("Né le 2 janvier 1990 à Lyon", "", "2 janvier 1990"),
    ("Date de naissance : 24 déc. 1997", "", "24 déc. 1997"),
    ("Mon date de naissance est 3 janv. 1980.", "", "3 janv. 1980"),
    ("née le 1er février 1985", "", "1er février 1985"),
    ("DOB: Jan 2, 1990", "", "Jan 2, 1990"),
    ("Date of birth 2 January 1990", "", "2 January 1990"),
    ("Birth date: 12/31/1990", "", "12/31/1990"),
    ("1990-01-02", "생년월일", "1990-01-02"),
    ("19900102", "生年月日", "19900102"),
]

NEGATIVES = [
    # (line, context): dates without a birth label, or with another date label.
    ("2024-01-15", ""),
    ("주문일 2024.01.15", ""),
    ("가입일: 2020년 3월 1일", "생년월일"),
    ("Date de commande : 15/01/2024", ""),
    ("Jan 2, 1990", ""),
    ("生年月日 1990年13月2日", ""),  # month 13
    ("DOB: 2099-01-01", ""),  # in the future
    ("생년월일 1990-01-02 가입일 2024-01-15", ""),  # checked below: only the first is a birth date
]


@pytest.mark.parametrize(("line", "context", "value"), POSITIVES)
def test_finds_the_birth_date_exactly(line: str, context: str, value: str) -> None:
    assert found(line, context) == expect(line, value, "date_of_birth")


@pytest.mark.parametrize(("line", "context"), NEGATIVES[:-1])
def test_not_a_birth_date(line: str, context: str) -> None:
    assert "date_of_birth" not in types_found(line, context)


def test_only_the_labelled_date_on_a_line() -> None:
    line = "생년월일 1990-01-02 가입일 2024-01-15"
    assert found(line) == expect(line, "1990-01-02", "date_of_birth")
