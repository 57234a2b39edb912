"""Birth dates with no header in view: a column of dates beside people's names is a column of birth
dates; recent dates and dates under another date's header are not."""

from __future__ import annotations

import pytest

from tests.test_locate import line
from veil.detect.registry import default_analyzer
from veil.locate import BIRTH_COLUMN_RECOGNIZER, NAME_COLUMN_RECOGNIZER, is_ruling, locate
from veil.models import TextLine

NAMES = ["Maria Baker", "Madison Mcdowell", "Theodore Ruiz", "Beverly Hardin"]
EMAILS = ["mb@example.net", "vc@example.com", "mn@example.org", "sc@example.org"]


def table(dates: list[str], header: str | None = None) -> list[TextLine]:
    rows = []
    for i, (name, email, date) in enumerate(zip(NAMES, EMAILS, dates, strict=True)):
        y = 100 + i * 30
        rows += [line(name, 20, y), line(email, 300, y), line(date, 600, y)]
    if header is not None:
        rows.append(line(header, 600, 70))
    return rows


def dob_cells(lines: list[TextLine]) -> int:
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    return sum(f.type == "date_of_birth" for f in findings)


def test_a_column_of_old_dates_beside_names_is_birth_dates() -> None:
    lines = table(["25/04/1980", "1943-02-24", "Nov 30, 1956", "07.11.1989"])
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    dob = [f for f in findings if f.type == "date_of_birth"]
    assert len(dob) == 4
    assert {f.recognizer for f in dob} == {BIRTH_COLUMN_RECOGNIZER}


@pytest.mark.parametrize(
    ("dates", "header"),
    [
        (["2024-03-14", "2025-11-02", "2026-01-20", "2023-07-07"], None),  # orders, logins: too recent
        (["25/04/1980", "1943-02-24", "1956-11-30", "1989-11-07"], "created"),  # another date's header
        (["25/04/1980", "1943-02-24", "ref 1956-11-30", "1989-11-07 x"], None),  # two cells only hold a date
    ],
)
def test_dates_that_are_no_birth_dates_stay(dates: list[str], header: str | None) -> None:
    assert dob_cells(table(dates, header)) == 0


def test_dates_without_people_on_their_rows_stay() -> None:
    lines = [line(d, 600, 100 + i * 30) for i, d in enumerate(["25/04/1980", "1943-02-24", "1956-11-30"])]
    lines += [line(f"ORD-{i}", 20, 100 + i * 30) for i in range(3)]
    assert dob_cells(lines) == 0


@pytest.mark.parametrize(
    ("text", "ruling"),
    [
        ("+------+---------------------------+-------------------t---- +--+ ~~ 2 te", True),
        ("|------+--------------|", True),
        ("----010-1234-5678----", False),
        ("+--+ 4111 1111 1111 1111", False),
        ("Maria Baker", False),
    ],
)
def test_a_drawn_border_is_no_text(text: str, ruling: bool) -> None:
    assert is_ruling(text) is ruling


def test_names_out_of_the_lists_in_a_column_of_found_names() -> None:
    names = ["2 Maria Baker", "3 Toby Lynch", "4 GONZALEZ Mary", "5 Kristi Hunter", "6 Maureen Jones"]
    lines = [line(n, 20, 100 + i * 30) for i, n in enumerate(names)]
    lines += [line(e, 300, 100 + i * 30) for i, e in enumerate([*EMAILS, "x@example.com"])]
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    named = [f for f in findings if f.type == "person_name"]
    covered = {round(f.boxes[0].y / 30) for f in named}
    assert covered == {round((100 + i * 30) / 30) for i in range(len(names))}
    assert NAME_COLUMN_RECOGNIZER in {f.recognizer for f in named}


def test_a_column_of_products_stays_though_shaped_like_names() -> None:
    products = ["Blue Widget", "Steel Kettle", "Paper Towel", "Garden Hose"]
    lines = [line(p, 20, 100 + i * 30) for i, p in enumerate(products)]
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    assert not [f for f in findings if f.type == "person_name"]
