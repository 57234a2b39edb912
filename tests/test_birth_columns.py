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
    names = ["2 Maria Baker", "3 Idris Okonkwo", "4 GONZALEZ Mary", "5 Tomasz Wrzesniak", "6 Maureen Jones"]
    lines = [line(n, 20, 100 + i * 30) for i, n in enumerate(names)]
    lines += [line(e, 300, 100 + i * 30) for i, e in enumerate([*EMAILS, "x@example.com"])]
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    named = [f for f in findings if f.type == "person_name"]
    covered = {round(f.boxes[0].y / 30) for f in named}
    assert covered == {round((100 + i * 30) / 30) for i in range(len(names))}
    assert NAME_COLUMN_RECOGNIZER in {f.recognizer for f in named}


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (["Maria Baker", "Theodore Ruiz", "Beverly Hardin"], ["Confirm Cancel", "Date Of Birth"]),
        (["김민수", "이영희", "박지훈"], ["전화번호", "받는분", "편집"]),
    ],
)
def test_buttons_and_labels_in_a_column_of_names_stay(names: list[str], words: list[str]) -> None:
    """A form's labels and buttons stand in the column of the names they label ("Confirm
    Cancel" under a transfer's recipient, "전화번호" under "받는분"): shaped like names, they
    are none, and the name column does not take them."""
    lines = [line(n, 20, 100 + i * 30) for i, n in enumerate([*names, *words])]
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    named = {round(b.y / 30) for f in findings if f.type == "person_name" for b in f.boxes}
    assert named == {round((100 + i * 30) / 30) for i in range(len(names))}


def test_a_column_of_products_stays_though_shaped_like_names() -> None:
    products = ["Blue Widget", "Steel Kettle", "Paper Towel", "Garden Hose"]
    lines = [line(p, 20, 100 + i * 30) for i, p in enumerate(products)]
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    assert not [f for f in findings if f.type == "person_name"]


# A CSV export read one line per record (the OCR keeps the commas): no column on screen, the
# field's number is the column. Synthetic people; one full-width comma as the OCR reads it.
CSV_ROWS = [
    '田中 英樹,2002年1月26日,03-6610-9713,hideki@example.com,"鳥取県八頭郡, 1丁目",7151',
    "藤原太一，1971/11/29,03-1951-4226,taichi@example.com,東京都港区芝浦2丁目,6095",
    "Maria Baker,1984-11-09,090-2049-6579,mb@example.org,Lyon,8360",
    "Theodore Ruiz,1942.09.09,090-3594-5587,tr@example.com,Paris,2677",
]


def csv_lines(rows: list[str], header: str | None = None) -> list[TextLine]:
    lines = [line(text, 20, 100 + i * 30) for i, text in enumerate(rows)]
    return lines + ([line(header, 20, 70)] if header is not None else [])


def test_a_field_of_old_dates_in_csv_lines_is_birth_dates() -> None:
    lines = csv_lines(CSV_ROWS)
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    dob = [f for f in findings if f.type == "date_of_birth"]
    assert len(dob) == 4
    # Each mask covers the date and reaches no further than the commas around it.
    for text, row in zip(CSV_ROWS, lines, strict=True):
        start = text.index(next(c for c in text if c.isdigit()))
        end = start + len(text[start:].split(",")[0])
        (box,) = [b for f in dob for b in f.boxes if b.y == row.box.y]
        assert box.x <= row.char_boxes[start].x and box.x2 >= row.char_boxes[end - 1].x2
        assert box.x >= row.char_boxes[start - 1].x and box.x2 <= row.char_boxes[end].x2


@pytest.mark.parametrize(
    ("rows", "header"),
    [
        (CSV_ROWS, "name,created_at,phone,email,city,ref"),  # another date's header
        ([r.replace("19", "20", 1).replace("2002", "2024") for r in CSV_ROWS], None),  # too recent
        (CSV_ROWS[:2], None),  # two lines are no column
    ],
)
def test_csv_dates_that_are_no_birth_dates_stay(rows: list[str], header: str | None) -> None:
    lines = csv_lines(rows, header)
    assert dob_cells(lines) == 0


def test_csv_dates_without_people_on_their_lines_stay() -> None:
    rows = [f"ORD-{i},{d},shipped,12.50" for i, d in enumerate(["1980-04-25", "1943-02-24", "1956-11-30"])]
    assert dob_cells(csv_lines(rows)) == 0


def test_korean_dotted_dates_with_their_final_dot_are_birth_dates() -> None:
    assert dob_cells(table(["1981.01.26.", "1941.04.30.", "1963. 05. 18.", "1949.11.16"])) == 4


def test_dates_read_in_one_line_with_the_row_number_and_name_are_birth_dates() -> None:
    # A grid whose first cells the OCR joined: "12 佐藤 裕美子 1975/03/28". The dates stand in a column.
    names = ["佐藤 裕美子", "中村 さゆり", "伊藤 真由美", "山田 亜希子"]
    dates = ["1975/03/28", "1980/04/30", "1962年5月1日", "25/04/1980"]
    lines = []
    for i, (name, email, date) in enumerate(zip(names, EMAILS, dates, strict=True)):
        lines += [line(f"{i + 12} {name} {date}", 20, 100 + i * 30), line(email, 400, 100 + i * 30)]
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    dob = [f for f in findings if f.type == "date_of_birth"]
    assert len(dob) == 4
    assert all(b.x >= 20 + 10 * 10 - 5 for f in dob for b in f.boxes)  # the date only, not the name
