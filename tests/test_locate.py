"""Rows, context and character spans -> pixel boxes."""

from __future__ import annotations

import pytest

from veil.locate import assemble_rows, context_of, value_hmac
from veil.models import Box, TextLine


def line(text: str, x: int, y: int, char_w: int = 10, h: int = 20) -> TextLine:
    boxes = tuple(Box(x + i * char_w, y, char_w, h) for i in range(len(text)))
    return TextLine(text, Box(x, y, char_w * len(text), h), boxes, 0.9, "fake")


def test_words_with_small_gaps_join_into_one_row() -> None:
    rows = assemble_rows([line("5678", 200, 10), line("010", 100, 10), line("1234", 150, 11)])
    assert [r.text for r in rows] == ["010 1234 5678"]
    joined = rows[0]
    assert len(joined.char_boxes) == len(joined.text)
    # The span of the whole value covers from the first to the last digit's pixels.
    (box,) = joined.span_boxes(0, len(joined.text))
    assert (box.x, box.x2) == (100, 240)


def test_table_cells_far_apart_stay_separate() -> None:
    rows = assemble_rows([line("Name", 10, 10), line("Phone", 400, 10)])
    assert sorted(r.text for r in rows) == ["Name", "Phone"]


def test_lines_on_different_rows_stay_separate() -> None:
    rows = assemble_rows([line("abc", 10, 10), line("def", 45, 60)])
    assert len(rows) == 2


def test_context_has_left_label_and_line_above() -> None:
    label = line("계좌번호", 10, 100)
    value = line("110-123-456789", 300, 100)
    header = line("Account", 300, 70)
    unrelated = line("far away", 900, 300)
    rows = [label, value, header, unrelated]
    context = context_of(value, rows)
    assert "계좌번호" in context
    assert "Account" in context
    assert "far away" not in context


def test_span_maps_to_the_characters_only() -> None:
    text = "연락처:010-1234-5678입니다"
    ln = line(text, 0, 0)
    start = text.index("010")
    (box,) = ln.span_boxes(start, start + 13)
    pad = 20 // 4  # a quarter of the line height on each side, for imprecise end characters
    assert box.x == start * 10 - pad
    assert box.x2 == (start + 13) * 10 + pad
    assert box.x > (start - 1) * 10  # the label's characters stay readable


def test_value_hmac_is_keyed_and_ignores_spacing() -> None:
    assert value_hmac(b"k" * 32, "010 1234 5678") == value_hmac(b"k" * 32, "01012345678")
    assert value_hmac(b"k" * 32, "01012345678") != value_hmac(b"j" * 32, "01012345678")
    assert "0101" not in value_hmac(b"k" * 32, "01012345678")


def test_spaced_out_hangul_label_still_gives_context() -> None:
    label = line("여 권 번호", 10, 100)
    value = line("M34955904", 300, 100)
    assert "여권번호" in context_of(value, [label, value])


def test_table_header_marks_its_column_but_form_labels_do_not() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    analyzer = default_analyzer()
    table = [
        line("Name", 10, 10),
        line("Phone", 300, 10),
        line("Status", 600, 10),
        line("Quill Robinette", 10, 40),  # no recognizer would flag these cells on their own
        line("12-34", 300, 40),
        line("shipped", 600, 40),
    ]
    found = {(f.type, f.boxes[0].x, f.boxes[0].y) for f in locate(table, analyzer, b"k" * 32, 0)}
    assert {("person_name", 10, 40), ("phone", 300, 40)} <= found
    assert not any(x == 600 and y == 40 for _, x, y in found)  # "shipped" heads no label
    form = [
        line("Name", 10, 10),
        line("Quill Robinette", 100, 10),
        line("Phone", 10, 40),
        line("12-34", 100, 40),
        line("Save", 10, 150),  # below the form's label column: not a value of "Phone"
    ]
    found = locate(form, analyzer, b"k" * 32, 0)
    assert sorted((f.type, f.boxes[0].y) for f in found) == [("person_name", 10), ("phone", 40)]


def test_value_on_a_row_that_looks_like_a_header_row_is_still_found() -> None:
    # Two labels and no digit on the row: a header-row guess must never hide the value.
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    form = [
        line("Name", 10, 10),
        line("Quill Robinette", 100, 10),
        line("Email", 400, 10),
        line("x", 100, 200),
    ]
    found = {(f.type, f.boxes[0].x) for f in locate(form, default_analyzer(), b"k" * 32, 0)}
    assert ("person_name", 100) in found


def test_header_cells_next_to_a_label_header_are_not_values() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    table = [
        line("Name", 10, 10),
        line("Phone", 300, 10),
        line("SKU", 600, 10),  # a header no label vocabulary knows, right of the "Phone" header
        line("Quill Robinette", 10, 40),
        line("12-34", 300, 40),
        line("SKU-1", 600, 40),
    ]
    found = {(f.boxes[0].x, f.boxes[0].y) for f in locate(table, default_analyzer(), b"k" * 32, 0)}
    assert not any(y == 10 for _, y in found)


IBAN_VALUE = "FR76 3000 6000 0112 3456 7890 189"  # the mod-97 example from python-stdnum's docs


def test_a_business_label_between_ends_the_labels_reach() -> None:
    """ "IBAN | value | N° de facture | FAC-…": neither the invoice label nor the invoice number is
    an IBAN, whether the IBAN value is on screen (primary pass) or already masked (verifier)."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    iban, value = line("IBAN", 10, 10), line(IBAN_VALUE, 100, 10, char_w=8)
    invoice_label, invoice = line("N° de facture", 500, 10), line("FAC-2026-38921", 700, 10)
    for form in ([iban, value, invoice_label, invoice], [iban, invoice_label, invoice]):
        found = {f.boxes[0].x // 100 for f in locate(form, default_analyzer(), b"k" * 32, 0)}
        assert found == ({1} if value in form else set()), found


def test_a_label_reaches_past_a_prefix_but_not_past_a_value() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    form = [
        line("Date de naissance", 10, 10),
        line("16/01/1985", 250, 10),
        line("Date de commande", 500, 10),
        line("28/04/2023", 750, 10),
        line("Téléphone", 10, 60),
        line("+82", 250, 60),
        line("10-2222", 350, 60),  # typed so far: only the label says it is a phone number
    ]
    found = {(f.type, f.boxes[0].x) for f in locate(form, default_analyzer(), b"k" * 32, 0)}
    # The order date and its label stay readable; the country code and the number are masked.
    assert found == {("date_of_birth", 250), ("phone", 250), ("phone", 350)}, found


def _spread(parts: list[tuple[str, int]], y: int = 10, h: int = 20, line_h: int = 20) -> TextLine:
    """One OCR "line" made of `parts` (text, x) on one row, as an engine may return it."""
    text, boxes = "", []
    for i, (part, x) in enumerate(parts):
        if i:
            gap_x = boxes[-1].x2
            text += " "
            boxes.append(Box(gap_x, y, max(x - gap_x, 0), h))
        text += part
        boxes += [Box(x + k * 10, y, 10, h) for k in range(len(part))]
    return TextLine(text, Box(parts[0][1], y, boxes[-1].x2 - parts[0][1], line_h), tuple(boxes), 0.9, "fake")


def test_a_line_is_cut_where_its_cells_stand_apart() -> None:
    from veil.locate import split_at_gaps

    words = _spread([("010", 100), ("1234", 140), ("5678", 190)])  # word gaps: one value
    assert split_at_gaps(words) == [words]
    cells = _spread([("Date de naissance", 100), ("28/04/2023", 1500)])
    assert [p.text for p in split_at_gaps(cells)] == ["Date de naissance", "28/04/2023"]
    assert [p.box.x for p in split_at_gaps(cells)] == [100, 1500]
    # A "line" as tall as a table: its pieces take their characters' height.
    giant = _spread([("Name", 100), ("Kim", 900)], line_h=400)
    assert [(p.text, p.box.h) for p in split_at_gaps(giant)] == [("Name", 20), ("Kim", 20)]
    assert split_at_gaps(TextLine("   ", Box(0, 0, 30, 400), (Box(0, 0, 10, 20),) * 3, 0.5, "fake")) == []


def test_a_label_merged_with_a_far_value_does_not_label_it() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    merged = _spread([("Date de naissance", 100), ("28/04/2023", 1500)])
    assert locate([merged, line("Date de commande", 1300, 10)], default_analyzer(), b"k" * 32, 0) == []


def test_cells_read_as_one_line_meet_their_own_column_headers() -> None:
    """PP-OCR reads an IP cell and the name cell beside it as one line; the name still meets the
    "Name" header (the verifier, reading the cells apart, would otherwise find it)."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    table = [
        line("Order", 10, 10),
        line("IP address", 200, 10),
        line("Name", 335, 10),
        line("Email", 600, 10),
        line("ORD-1", 10, 40),
        _spread([("198.51.100.7", 200), ("Quill Robinette", 338)], y=40),  # an 18 px gap
        line("q@example.com", 600, 40),
    ]
    found = {(f.type, f.boxes[0].x // 10) for f in locate(table, default_analyzer(), b"k" * 32, 0)}
    assert ("person_name", 32) in found, found  # the name, its mask reaching half into the gap
    assert ("ip_address", 20) in found and ("email", 60) in found


def test_a_header_row_read_as_one_line_still_heads_its_columns() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate, split_header_row

    table = [
        line("Phone", 10, 10),
        _spread([("Amount", 150), ("Name", 235)], y=10),  # 25 px apart: two cells, one OCR line
        line("Card", 400, 10),
        line("$12.50", 150, 40),
        line("Quill Robinette", 235, 40),
    ]
    found = {(f.type, f.boxes[0].x) for f in locate(table, default_analyzer(), b"k" * 32, 0)}
    assert found == {("person_name", 235)}, found
    # Words of one sentence stand closer: no cut, so "and" is not taken for a name.
    sentence = _spread([("Confirm", 10), ("name", 90), ("and", 140), ("address", 180)], y=10)
    assert [c.text for c in split_header_row(sentence, bool)] == [sentence.text]


def test_rules_read_as_characters_separate_cells() -> None:
    from veil.locate import split_at_rules

    row = line("세금계산서 번호 | TAX-2023-66227", 10, 10)
    assert [(c.text, c.box.x) for c in split_at_rules(row)] == [
        ("세금계산서 번호", 10),
        ("TAX-2023-66227", 120),
    ]
    assert split_at_rules(line("010-2222-3333", 10, 10))[0].text == "010-2222-3333"


def test_a_span_at_the_start_of_a_line_takes_the_line_edge() -> None:
    # The OCR dropped the "〒" before the postcode: the line box still starts at its ink.
    chars = tuple(Box(30 + i * 10, 10, 10, 20) for i in range(8))
    postcode = TextLine("150-0001", Box(12, 10, 98, 20), chars, 0.9, "fake")
    (box,) = postcode.span_boxes(0, 8)
    assert (box.x, box.x2) == (12, 110)
    (inner,) = line("Tel 03-1234-5678 (office)", 0, 0).span_boxes(4, 16)
    assert inner.x > 30 and inner.x2 < 170  # inside the line: the usual padding only


def test_a_spreadsheet_header_row_with_its_row_number_heads_its_columns() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    sheet = [
        line("1 お名前", 10, 10),
        line("電話番号", 200, 10),
        line("住所", 400, 10),
        line("2 歪翔", 10, 40),  # a name PP-OCR misread as look-alike Han characters
    ]
    found = {(f.type, f.boxes[0].y) for f in locate(sheet, default_analyzer(), b"k" * 32, 0)}
    assert found == {("person_name", 40)}, found


def test_a_cell_under_a_column_of_labels_is_not_their_value() -> None:
    """A form's label column: "Order no." misread as "00901 00." sits under "IBAN", itself under
    "Card number"; it is the next label, not an IBAN. A value under a single label still is."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    column = [line("Card number", 10, 10), line("IBAN", 10, 45), line("00901 00.", 10, 80)]
    assert locate(column, default_analyzer(), b"k" * 32, 0) == []
    stacked = [line("Title", 10, 10), line("Phone", 10, 45), line("010-22", 10, 80)]
    assert [f.type for f in locate(stacked, default_analyzer(), b"k" * 32, 0)] == ["phone"]


def test_a_form_row_whose_values_are_masked_is_not_a_header_row() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate
    from veil.verify.rescan import mask_cells

    row = [line("Phone", 10, 10), line("Email", 300, 10), line("Card number", 600, 10)]
    masks = mask_cells([Box(100, 8, 150, 24), Box(400, 8, 150, 24), Box(750, 8, 150, 24)])
    below = line("00901 00.", 600, 130)  # far below, as under a header: only a header reaches it
    assert locate([*row, *masks, below], default_analyzer(), b"k" * 32, 0) == []


@pytest.mark.parametrize("after", [224, 216])  # beside the mask, or under its margin
def test_words_after_a_masked_email_in_a_sentence_are_not_an_email(after: int) -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate
    from veil.verify.rescan import mask_cells

    label = line("E-mail", 10, 10)
    masks = mask_cells([Box(72, 8, 150, 24)])  # the masked address, between the label and the words
    words_after = line("by Monday", after, 10)
    assert locate([label, *masks, words_after], default_analyzer(), b"k" * 32, 0) == []
    # A chat message "接続IP: ▇▇▇に変更してください。": the mask's margin reaches over the words.
    ip_label, rest = line("接続IP:", 10, 10), line("に変更してください。", after, 10)
    assert locate([ip_label, *masks, rest], default_analyzer(), b"k" * 32, 0) == []
    digits_after = line("5678", 224, 10)  # a number's tail beside the mask: still read through it
    assert [f.type for f in locate([label, *masks, digits_after], default_analyzer(), b"k" * 32, 0)] == [
        "email"
    ]


def test_a_bare_number_in_a_column_of_found_numbers_is_one_of_them() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    column = [line("0359556962", 100, 10), line("6175550180", 100, 40), line("ORD-2024-076250", 300, 40)]
    found = sorted(
        (f.boxes[0].y, f.type, f.recognizer) for f in locate(column, default_analyzer(), b"k" * 32, 0)
    )
    assert found == [(10, "phone", "phone"), (40, "phone", "column")]
    # Alone, or under a number of another length, the bare number tells nothing.
    assert locate([line("6175550180", 100, 40)], default_analyzer(), b"k" * 32, 0) == []
    other = [line("035955696", 100, 10), line("6175550180", 100, 40)]
    assert [f.boxes[0].y for f in locate(other, default_analyzer(), b"k" * 32, 0)] in ([], [10])


def test_a_header_reaches_its_table_not_the_log_lines_printed_after_it() -> None:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    screen = [
        line("id", 10, 10),
        line("name", 60, 10),
        line("address", 260, 10),
        line("phone", 500, 10),
        line("7", 10, 40),
        line("Quill Robinette", 60, 40),  # a table row: the name column's header marks it
        line("INFO shipment=order-shipped;delivered-to=the-depot;status=ok", 15, 70),  # a log line
        line("Depot", 60, 100),  # under the name column, but after the table ended
    ]
    found = {(f.type, f.boxes[0].y) for f in locate(screen, default_analyzer(), b"k" * 32, 0)}
    assert found == {("person_name", 40)}, found


def test_a_label_with_its_value_on_its_right_does_not_label_the_line_below() -> None:
    """The verifier reads "マイナンバー" as "マイナンパー" (no label) under "氏名", whose value is
    masked on its right: the misread label is no name. A stacked label with nothing on its right
    still labels the partial value typed under it."""
    from veil.detect.registry import default_analyzer
    from veil.locate import MASK_ENGINE, locate
    from veil.verify.rescan import mask_cells

    analyzer = default_analyzer()
    name_mask = mask_cells([Box(150, 100, 80, 20)])
    misread = [line("氏名", 10, 100), line("マイナンパー", 10, 140)]
    assert name_mask[0].engine == MASK_ENGINE
    assert locate([*misread, *name_mask], analyzer, b"k" * 32, 0) == []
    # Without the mask (an empty field on the right), the line under the label is its value.
    assert [f.type for f in locate(misread, analyzer, b"k" * 32, 0)] == ["person_name"]
    # A cell far beyond the label's reach is another column's, not this label's value.
    far = line("shipped", 10 + 20 + 21 * 20 + 10, 100)
    below = [f for f in locate([*misread, far], analyzer, b"k" * 32, 0) if f.boxes[0].y == 140]
    assert [f.type for f in below] == ["person_name"]
    # "Nom | ▇▇▇" over "RIB": the verifier boxes only the ink (12 px for a 20 px PP-OCR line), and
    # the input box still starts within the label's reach.
    nom = [line("Nom", 184, 130, char_w=8, h=12), line("RIB", 190, 154, char_w=8, h=12)]
    assert locate([*nom, *mask_cells([Box(376, 126, 240, 24)])], analyzer, b"k" * 32, 0) == []


def test_a_typed_prefix_joined_to_its_label_cell_is_found() -> None:
    """OCR returns "Date of birth" and the typed "01/0" apart; the small gap joins them into one
    row, whose left neighbour is the previous field's value: the row's own label decides."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    rows = [
        line("IBAN", 190, 206),
        line("DE46 5162 0466 1099 0695 84", 320, 209, char_w=8),
        line("Date of birth", 1034, 205, char_w=8),
        line("01/0", 1160, 206, char_w=12),
    ]
    found = [(f.type, f.boxes[0].x) for f in locate(rows, default_analyzer(), b"k" * 32, 0)]
    assert ("date_of_birth", 1160 - 5) in found, found


def test_a_form_row_is_no_header_when_the_row_below_opens_with_a_label() -> None:
    """A label-left form: "氏名 | 佐 (typed) | 電話番号" over "マイナンバー 7812-…", which OCR joins
    into one row. The first row is no table header: "佐" is the name being typed, and the
    labels further down ("請求書番号", the "保存" button) are not names."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    rows = [
        line("注文", 12, 106, char_w=18, h=24),
        line("氏名", 180, 103, char_w=18, h=24),
        line("佐", 294, 106, char_w=24, h=22),
        line("電話番号", 1028, 103, char_w=16, h=24),
        line("マイナンバー", 180, 143, char_w=15, h=24),
        line("7812-4158-6830", 295, 146, char_w=8, h=21),
        line("カード番号", 180, 181, char_w=15, h=24),
        line("請求書番号", 180, 220, char_w=15, h=24),
        line("保存", 198, 271, char_w=20, h=28),
    ]
    found = {(f.type, f.boxes[0].y) for f in locate(rows, default_analyzer(), b"k" * 32, 0)}
    assert ("person_name", 106) in found
    assert not {y for kind, y in found if y >= 181}, found


def _phones(lines: list[TextLine]) -> list[tuple[int, str]]:
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    found = locate(lines, default_analyzer(), b"k" * 32, 0)
    return sorted((f.boxes[0].y, f.recognizer) for f in found if f.type == "phone")


LOG = "INFO login ok status=200"


def test_a_bare_number_in_a_ruled_listing_is_one_of_its_column() -> None:
    """A terminal listing with '|' between fields and log lines between its rows: the field at the
    same place (from the left or, when a row lacks its first field, from the right) is a column."""
    bare = "4636 | Jane Roe | 4155550135 | ORD-2023-1"
    cases = [
        # (rows, phones expected at these y)
        (["2307 | Robin Roe | (617) 555-0158 | ORD-2024-936719", LOG, bare], [10, 70]),
        (["Robin Roe | (617) 555-0158 | ORD-2024-936719", LOG, bare], [10, 70]),
        # Another digit count in that column, or no column at all: the bare number tells nothing.
        (["2307 | Robin Roe | (617) 555-01589 | ORD-2024-936719", LOG, bare], []),
        ([LOG, bare], []),
    ]
    for texts, expected in cases:
        lines = [line(t, 10, 10 + 30 * i, char_w=8) for i, t in enumerate(texts)]
        assert [y for y, _ in _phones(lines)] == expected, texts
    # A decoy column (order numbers) never spreads: only found values do.
    orders = [
        line(t, 10, 10 + 30 * i, char_w=8)
        for i, t in enumerate(["1 | A | 2024118843", LOG, "2 | B | 2023944419"])
    ]
    assert _phones(orders) == []


def test_a_letter_spaced_number_is_read_closed_up() -> None:
    """Full-width digits stand a blank apart and OCR reads spaces between them; the value is
    found whole, on the pixels of all its characters."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    cases = [
        "0 9 0-8 8 4 3- 0 6 9 6",  # PP-OCR
        "01 0-3 4 5 9-77 3 8",
        "0 10-3225-6048",  # Tesseract
        "0 9 0 - 1 2 3 4 - 5 6 7 8",
    ]
    for text in cases:
        row = line(text, 100, 10)
        found = [f for f in locate([row], default_analyzer(), b"k" * 32, 0) if f.type == "phone"]
        assert found, text
        box = Box.covering([b for f in found for b in f.boxes])
        assert box.x <= 100 and box.x2 >= 100 + 10 * len(text), text
    # Written groups of a number are no letter-spacing: they stay apart.
    from veil.locate import closed_up_digits

    assert closed_up_digits(line("06 12 34 56 78", 0, 0)) == []
    assert closed_up_digits(line("+82 10 1234 5678", 0, 0)) == []


def test_a_cell_under_a_wider_finding_is_no_found_number_of_its_column() -> None:
    """A phone whose last character box ran over the order number beside it (an OCR box error)
    does not make the order number a found number, so the order column does not spread."""
    text = "1 | A | 080-6917-1040 | 2024448924"
    row = line(text, 10, 10, char_w=8)
    end = text.index(" | 2024")
    boxes = list(row.char_boxes)
    boxes[end - 1] = Box(boxes[end - 1].x, 10, row.box.x2 - boxes[end - 1].x, 20)  # runs to the end
    rows = [
        TextLine(text, row.box, tuple(boxes), 0.9, "fake"),
        line(LOG, 10, 40, char_w=8),
        line("2 | B | 080-1234-5678 | 2024233174", 10, 70, char_w=8),
    ]
    assert [r for _, r in _phones(rows)] == ["phone", "phone"]


@pytest.mark.parametrize(
    ("label", "below", "char_w", "h", "mask_x"),
    [
        # The verifier's Tesseract boxes hug the ink (cap height): "Nom" is 12 px tall, and on a
        # 2560 px form its masked value starts 150 px right of it, over 12 of those heights.
        ("Nom", "RIB", 11, 12, 376),
        # A word without ascenders is boxed at its x-height.
        ("nom", "RIB", 9, 8, 340),
        ("氏名", "マイナンパー", 14, 13, 380),
        # PP-OCR's padded boxes: the value's mask is well within reach either way.
        ("Nom", "RIB", 14, 23, 380),
    ],
)
def test_a_masked_value_far_right_of_a_tight_label_box_is_its_value(
    label: str, below: str, char_w: int, h: int, mask_x: int
) -> None:
    """A label's reach is measured in character advances as well as line heights: an engine whose
    boxes hug the ink gives short lines, and the next field's label under a label whose value is
    masked on its right must not be read as that value (a French form masked whole)."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate
    from veil.verify.rescan import mask_cells

    top = line(label, 190, 112, char_w=char_w, h=h)
    rows = [top, line(below, 190, 112 + 3 * h, char_w=char_w, h=h)]
    mask = mask_cells([Box(mask_x, 112 - h // 2, 240, 2 * h)])
    assert locate([*rows, *mask], default_analyzer(), b"k" * 32, 0) == []


def test_words_after_a_masked_value_are_no_remnant_of_it_whatever_digits_follow() -> None:
    """A chat message "接続IP: ▇▇▇に変更してください。 9時01分": the words after the mask are not
    the rest of the IP address for the label before the mask, though a time follows them."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate
    from veil.verify.rescan import mask_cells

    label, masks = line("接続IP:", 10, 10), mask_cells([Box(72, 8, 150, 24)])
    rest = line("に変更してください。 9時01分", 224, 10)
    assert locate([label, *masks, rest], default_analyzer(), b"k" * 32, 0) == []
    # The rest of a masked number is still read through the mask, however the OCR spaced it.
    for rest_of_number in ("-5678", "- 5678", "( 5678"):
        tail = line(rest_of_number, 224, 10)
        found = locate([line("Tel", 10, 10), *masks, tail], default_analyzer(), b"k" * 32, 0)
        assert [f.type for f in found] == ["phone"], rest_of_number


def _reread(text: str, x: int, y: int, char_w: int = 10, h: int = 20) -> TextLine:
    from dataclasses import replace

    from veil.ocr.base import REREAD_ENGINE

    return replace(line(text, x, y, char_w, h), engine=REREAD_ENGINE)


def test_a_value_the_page_read_right_is_kept_whatever_is_read_over_it() -> None:
    """The verifier's second reading of a region never hides the page's: a phone read right by
    the page and garbled by the single-line re-read is still found."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    page = line("010-2345-6789", 100, 40)
    garbled = _reread("O1O-Z345-67B9", 100, 40)
    found = locate([page, garbled], default_analyzer(), b"k" * 32, 0)
    assert [f.type for f in found] == ["phone"]


def test_shreds_under_a_header_read_again_are_no_values_of_it() -> None:
    """Under a field label, the page read a button as shreds ("xq"); the verifier read the region
    again whole ("Inbox"). The shreds are no value of the label any more; without the second
    reading they are (the control)."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    label, shreds = line("E-mail", 100, 10), line("xq", 100, 40)
    assert [f.type for f in locate([label, shreds], default_analyzer(), b"k" * 32, 0)] == ["email"]
    assert locate([label, shreds, _reread("Inbox", 100, 40)], default_analyzer(), b"k" * 32, 0) == []


def test_a_two_column_form_is_no_table_whose_first_label_heads_what_follows() -> None:
    """A CRM card: label over value in two columns ("氏名 ... 会社"). With one label misread
    ("メ一ル") under "氏名", three cells stood under each top label, so "氏名" was taken for a
    column header reaching down the page: the section heading below the form ("アクティビティ")
    was masked as a name, and on the verifier's pass every date of the activity log under it
    too (the frame was masked whole). The next label read right (住所) ends the run: a form."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    form = [
        line("氏名", 20, 100, 14), line("会社", 1296, 100, 14),
        line("井上 あすか", 30, 130, 14), line("Acme Trading", 1300, 130, 9),
        line("メ一ル", 20, 175, 14), line("電話番号", 1296, 175, 14),
        line("naoko20@example.com", 30, 205, 9), line("03-9", 1300, 205, 9),
        line("住所", 20, 250, 14), line("生年月日", 1296, 250, 14),
        line("〒663-1657 群馬県山武郡九十九里町鍛冶ケ沢28丁目23番20号", 30, 280, 14),
        line("1977-11-30", 1300, 280, 9),
        line("担当者", 20, 320, 14), line("マイナンバー", 1296, 320, 14),
        line("山口 翔太", 30, 350, 14), line("181385520314", 1300, 350, 9),
        line("アクティビティ", 20, 400, 14),
        line("2026-03-10", 20, 430, 9),
    ]  # fmt: skip
    found = {(f.boxes[0].y, f.type) for f in locate(form, default_analyzer(), b"k" * 32, 0)}
    assert not {y for y, _ in found} & {400, 430}, found
    # the form's values are still values
    assert {(130, "person_name"), (205, "email"), (280, "address"), (350, "person_name")} <= found


def test_a_header_whose_box_reaches_into_the_first_row_still_heads_it() -> None:
    """The first row under a sticky header, as PP-OCR boxed it on the idle desk's Japanese table:
    the row's first cell starts at y = 126, the headers' padded boxes end at y = 128-129. Read
    whole, the row's digits "4708-3290-5607 090 8181" pass as a card and the phone after them is
    lost ("256" stayed readable on 37 frames); cut under its header, the phone is found whole."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    def cell(text: str, x: int, y: int, w: int, h: int) -> TextLine:
        step = w / len(text)
        boxes = tuple(
            Box(x + round(i * step), y, round((i + 1) * step) - round(i * step), h) for i in range(len(text))
        )
        return TextLine(text, Box(x, y, w, h), boxes, 0.9, "fake")

    table = [
        cell("商品コード", 468, 106, 76, 23),
        cell("氏名", 604, 104, 32, 25),
        cell("接続IP", 691, 104, 50, 24),
        cell("追跡番号", 820, 107, 61, 20),
        cell("電話番号", 981, 104, 61, 24),
        cell("SKU-JP-48552-C", 464, 126, 120, 28),
        cell("高橋次郎", 599, 128, 68, 26),
        cell("203.0.113.102", 690, 128, 101, 25),
        cell("TRK 4708-3290-5607", 818, 128, 143, 24),
        cell("090 8181 2256", 977, 128, 105, 25),
    ]
    phones = [f for f in locate(table, default_analyzer(), b"k" * 32, 0) if f.type == "phone"]
    assert any(f.boxes[0].x <= 977 and f.boxes[0].x2 >= 977 + 105 for f in phones), phones


def test_a_row_read_across_columns_takes_the_header_of_the_column_it_starts_in() -> None:
    """Narrow columns: PP-OCR reads an order number, a date and a customer's name as one line.
    The customer's header makes its piece a name; it does not make the whole line one (the
    order number and the date were masked with the name)."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    table = [
        line("Order", 10, 10),
        line("Date", 115, 10),
        line("Customer", 180, 11),  # a pixel lower: the nearest header cell above the row
        line("Email", 450, 10),
        _spread([("ORD-2023-", 10), ("2026-", 115), ("Quill Robinette", 180)], y=40),
        line("q@example.com", 450, 40),
    ]
    found = [(f.type, b.x) for f in locate(table, default_analyzer(), b"k" * 32, 0) for b in f.boxes]
    assert "person_name" in {kind for kind, _ in found}, found
    assert all(x >= 170 for _, x in found), found


def test_a_form_label_row_read_twice_is_no_header_row() -> None:
    """Two engines read "전화번호" (one as "전 화 번호"): a form's "이메일 | 전화번호" row looked
    like a header row of three cells, and "이메일" headed everything below it, the activity
    list's title and its dates and order numbers included."""
    from veil.detect.registry import default_analyzer
    from veil.locate import header_cells, locate

    form = [
        line("이메일", 20, 100),
        line("전 화 번호", 600, 100),
        line("전화번호", 600, 101),
        line("kim@example.com", 20, 130),
        line("010-1234-5678", 600, 130),
        line("주소", 20, 170),
        line("생년월일", 600, 170),
        line("서울특별시 강남구 테헤란로 123", 20, 200),
        line("1990-01-01", 600, 200),
        line("활동", 20, 400),
        line("2026-03-10 ORD-2023-181338", 20, 430),
    ]
    analyzer = default_analyzer()
    labels = {id(r) for r in form if analyzer.labels.label_type(r.text)}
    assert header_cells(form, labels) == set()
    found = {b.y for f in locate(form, analyzer, b"k" * 32, 0) for b in f.boxes}
    assert not any(y >= 390 for y in found), found


def test_a_two_column_form_is_no_two_column_table() -> None:
    """A CRM card's two columns of fields, labels over values: "Address | Date of birth" was taken
    for a two-column table's header (three cells under "Date of birth" before a label: its value,
    "SSN / NI number", a label of two labels, and its value), and "Address" headed the card's
    activity list far below it (its title, its dates and order numbers masked as an address)."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    form = [
        line("Address", 20, 100),
        line("Date of birth", 600, 100),
        line("2126 Warren Harbors Suite 337", 20, 130),
        line("1984-11-09", 600, 130),
        line("Owner", 20, 170),
        line("SSN / NI number", 600, 170),
        line("Laura Coleman", 20, 200),
        line("QQ 12 34 56 C", 600, 200),
        line("Activity", 20, 260),
        line("2026-03-10 · 20250722-22143", 20, 290),
        line("2026-03-11 · ORD-2023-114624", 20, 320),
    ]
    found = {b.y for f in locate(form, default_analyzer(), b"k" * 32, 0) for b in f.boxes}
    assert not any(y >= 250 for y in found), found


def test_cards_side_by_side_under_one_title_each_are_no_table() -> None:
    """Four shipping labels side by side, each under "받는 사람": the row of titles passed for a
    table's header row and "받는 사람" headed every line of each label, so a tracking number whose
    label the verifier misread ("舎：1Z709…") was masked as a name."""
    from veil.detect.registry import default_analyzer
    from veil.locate import locate

    cards = []
    for k, x in enumerate((20, 370, 720, 1070)):
        cards += [
            line("받는 사람", x, 50),
            line("김민수", x, 80),
            line(f"010-1234-567{k}", x, 110),
            line(f"舎：1Z709AA475612469{k}", x, 140),
        ]
    found = {(b.x // 350, b.y) for f in locate(cards, default_analyzer(), b"k" * 32, 0) for b in f.boxes}
    assert {(k, 80) for k in range(4)} <= found, found  # the names, found by their own
    assert not any(y >= 130 for _, y in found), found
