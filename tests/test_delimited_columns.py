"""Columns of delimited records read a record a line (a CSV export in an editor): a header line
names what each field holds, or the detectors' finds in a field on enough lines do; every field of
such a column is masked whole, counted from either end (an unquoted comma inside a date shifts the
fields after it from the left only)."""

from __future__ import annotations

from tests.test_locate import line
from veil.delimited import typed_fields
from veil.detect.labels import label_type
from veil.detect.registry import default_analyzer
from veil.locate import FIELD_COLUMN_RECOGNIZER, locate
from veil.models import Box, Finding, TextLine
from veil.ocr._common import boxes_from_centers

HEADER = "1 name,birth_date,phone,email,address,iban"
# Names no list holds; quoted addresses with commas inside; one date with an unquoted comma.
RECORDS = [
    '2 QUORBLE Zint,1961-02-03,+33 1 56 11 75 11,zq@example.org,"464, bd Lemaire, apt 7, 20418 Weber",x',
    '3 Vexa Drumond,May 25, 1952,06 73 51 60 89,vd@example.org,"330, rue de Morvan, 42409 Gayboeuf",y',
    '4 Oblin Sarquet,1950-06-07,07.74.31.78.47,os@example.net,"160, rue Hebert, 40492 Saint Pierre",z',
]


def csv(rows: list[str]) -> list[TextLine]:
    return [line(text, 20, 100 + i * 30, char_w=8) for i, text in enumerate(rows)]


def covered(lines: list[TextLine], findings: list[Finding], row: int, value: str) -> bool:
    """Whether one finding's box covers `value` on line `row`, first to last character."""
    ln = lines[row]
    start = ln.text.index(value)
    first, last = ln.char_boxes[start], ln.char_boxes[start + len(value) - 1]
    return any(b.y == ln.box.y and b.x <= first.x and b.x2 >= last.x2 for f in findings for b in f.boxes)


def test_a_header_line_names_the_columns_and_each_field_is_masked_whole() -> None:
    lines = csv([HEADER, *RECORDS])
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    for row, (name, address) in enumerate(
        [
            ("QUORBLE Zint", "464, bd Lemaire, apt 7, 20418 Weber"),
            ("Vexa Drumond", "330, rue de Morvan, 42409 Gayboeuf"),
            ("Oblin Sarquet", "160, rue Hebert, 40492 Saint Pierre"),
        ],
        start=1,
    ):
        assert covered(lines, findings, row, name), name
        assert covered(lines, findings, row, address), address
    # the header's labels and the gutter's row numbers are no values
    assert not any(b.y == lines[0].box.y for f in findings for b in f.boxes)
    assert not any(b.x < lines[1].char_boxes[0].x2 for f in findings for b in f.boxes)


def test_fields_after_an_unquoted_comma_keep_their_column_counted_from_the_right() -> None:
    lines = csv([HEADER, *RECORDS])
    typed = {(t.line.text[t.field.start : t.field.end], t.type) for t in typed_fields(lines, [], label_type)}
    assert ("330, rue de Morvan, 42409 Gayboeuf", "address") in typed
    assert ("vd@example.org", "email") in typed


def test_without_a_header_a_column_is_named_by_what_the_detectors_found_in_it() -> None:
    rows = [
        "Maria Baker,ORD-1001,shipped",
        "Theodore Ruiz,ORD-1002,shipped",
        "Beverly Hardin,ORD-1003,pending",
        "Zint Quorble,ORD-1004,shipped",  # a name no list holds, in the names' column
    ]
    lines = csv(rows)
    findings = locate(lines, default_analyzer(), b"k" * 32, 0)
    by_column = [f for f in findings if f.recognizer == FIELD_COLUMN_RECOGNIZER]
    assert covered(lines, by_column, 3, "Zint Quorble")
    assert not any(covered(lines, findings, i, f"ORD-100{i + 1}") for i in range(4))


def test_a_column_with_few_finds_and_a_line_without_a_header_stay() -> None:
    rows = [
        "Maria Baker,Blue Widget,12.50",
        "Green Gadget,Red Sprocket,3.10",
        "Silver Spoon,Gold Ring,8.00",
        "Iron Pan,Tin Cup,1.25",
        "Paper Clip,Brass Nail,0.10",
    ]
    lines = csv(rows)
    assert typed_fields(lines, locate(lines, default_analyzer(), b"k" * 32, 0), label_type) == []
    assert typed_fields(csv(["sku,qty,price", "AB-1,2,3.00", "AB-2,1,4.00"]), [], label_type) == []


def test_chat_messages_with_commas_are_no_records() -> None:
    """Messages in a long chat hold commas, e-mails and order numbers: they are prose, and the
    e-mails found on three of them make no column of their order numbers."""
    rows = [
        "8071, ugang@example.org. 주문번호 #557981, 9,223,480. 확인 부탁드립니다.",
        "전화번호 +82 10-5242-3142, jeongho60@example.com. 주문번호 #237469, 확인 부탁드립니다.",
        "안녕하세요, minsu@example.com. 주문번호 #112233, 배송 문의드립니다.",
        "Hello, kim@example.com. Order #445566, please check. Thanks, Kim",
    ]
    lines = csv(rows)
    assert typed_fields(lines, locate(lines, default_analyzer(), b"k" * 32, 0), label_type) == []


def test_a_field_is_masked_from_separator_to_separator_whatever_the_ocr_read_of_it() -> None:
    # A Korean address in a CSV export: the engine dropped the Hangul at its start and read
    # '"6687(召召)"'; its characters' centres sit 60 px right of the comma, and the boxes the engine
    # makes from centres cut halfway, so the field's first 30 px of ink are in the comma's box.
    header = line("name,address,rrn", 20, 60, char_w=8)
    rows = []
    for i in range(3):
        text = f'Kim Minsu,"6687(召召)",{i}10101-1234567'
        comma = text.index(",")
        centres = [24.0 + 8 * k + (60 if k > comma else 0) for k in range(len(text))]
        box = Box(20, 100 + i * 30, round(centres[-1]) - 16, 20)
        rows.append(TextLine(text, box, boxes_from_centers(centres, box), 0.9, "fake"))
    findings = [f for f in locate([header, *rows], default_analyzer(), b"k" * 32, 0) if f.type == "address"]
    for row in rows:
        comma = row.text.index(",")
        ink_from = 24 + 8 * comma + 6  # right after the comma's glyph: the dropped Hangul
        ink_to = row.char_boxes[row.text.index('",')].x2
        assert any(b.y == row.box.y and b.x <= ink_from and b.x2 >= ink_to for f in findings for b in f.boxes)
