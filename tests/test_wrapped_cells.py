"""Table cells wrapped onto several lines are read whole; a spreadsheet's rows are never joined."""

from __future__ import annotations

from tests.test_locate import _spread
from tests.test_locate import line as locate_line
from veil.detect.registry import default_analyzer
from veil.locate import locate, split_under_headers
from veil.models import TextLine
from veil.wrapped import wrapped_cells

KEY = b"k" * 32


def line(text: str, x: int, y: int) -> TextLine:
    """A cell as PP-OCR boxes it: 9 px characters in a 24 px box."""
    return locate_line(text, x, y, char_w=9, h=24)


HEADER = [
    line("Order", 216, 60),
    line("Date", 313, 60),
    line("Customer", 374, 60),
    line("Phone", 470, 60),
    line("Ship to", 560, 60),
]


def _wrapped_table() -> list[TextLine]:
    """Rows of an order table in narrow columns, lines 20 px apart, rows 33 px apart (padding)."""
    return [
        *HEADER,
        line("20240517-", 216, 98),
        line("2026-", 313, 98),
        line("Alexandra", 374, 98),
        line("+1 530-", 470, 98),
        line("3 Robinson Isle,", 560, 98),
        line("30168", 216, 118),
        line("05-14", 313, 118),
        line("Swift", 374, 118),
        line("555-0152", 470, 118),
        line("Jenningshaven, TD7P", 560, 118),
        line("7RH", 560, 138),
        line("20240518-", 216, 171),
        line("2026-", 313, 171),
        line("Beatrice", 374, 171),
        line("+1 689-", 470, 171),
        line("826 James Camp,", 560, 171),
        line("30169", 216, 191),
        line("05-15", 313, 191),
        line("Holloway", 374, 191),
        line("555-0189", 470, 191),
        line("South Kathryn, TX", 560, 191),
        line("56219", 560, 211),
    ]


def test_a_wrapped_cell_is_joined_and_the_next_row_is_not() -> None:
    table = _wrapped_table()[len(HEADER) :]
    units = [(ln, ln.box.x) for ln in table]
    texts = sorted(c.text for c in wrapped_cells(units))
    assert texts == sorted(
        [
            "20240517-30168",  # broken after its hyphen: no space
            "20240518-30169",
            "2026-05-14",
            "2026-05-15",
            "Alexandra Swift",
            "Beatrice Holloway",
            "+1 530-555-0152",
            "+1 689-555-0189",
            "3 Robinson Isle, Jenningshaven, TD7P 7RH",
            "826 James Camp, South Kathryn, TX 56219",
        ]
    )


def test_a_spreadsheet_column_is_never_joined() -> None:
    """One row per line, 20 px apart, a blank row (40 px): no step says a cell wrapped."""
    names = ["Alexandra", "Swift", "Beatrice", "Holloway", "Jordan", "Lee"]
    ys = [100, 120, 140, 180, 200, 220]
    units = [(line(n, 374, y), 374) for n, y in zip(names, ys, strict=True)]
    assert wrapped_cells(units) == []


def test_a_name_wrapped_in_its_cell_is_masked_on_both_lines() -> None:
    found = locate(_wrapped_table(), default_analyzer(), KEY, 0)
    names = [f for f in found if f.type == "person_name"]
    boxes = {(b.x // 10, b.y) for f in names for b in f.boxes}
    for y in (98, 118, 171, 191):
        assert any(y0 == y and 36 <= x <= 38 for x, y0 in boxes), (y, boxes)
    addresses = [f for f in found if f.type == "address"]
    covered = {b.y for f in addresses for b in f.boxes}
    assert {98, 118, 138, 171, 191, 211} <= covered, covered


def test_a_header_edge_placed_late_still_cuts_the_row() -> None:
    """A header's edge comes from estimated character boxes, up to half a line height right of
    where its column's words begin: "Alexandra" still falls under "Customer"."""
    row = _spread([("20240517-", 216), ("2026-", 313), ("Alexandra", 374)], y=98, h=24, line_h=24)
    pieces = split_under_headers(row, [216, 323, 385])
    assert [p.text for p in pieces] == ["20240517-", "2026-", "Alexandra"]


def test_a_column_whose_cells_wrap_less_than_their_row_is_still_joined() -> None:
    """Names take two lines in rows the address makes three lines tall: the step to the next
    name is two pitches and a padding, still a row's step, not a line's."""
    table = [ln for ln in _wrapped_table()[len(HEADER) :] if ln.box.x in (216, 374)]
    texts = sorted(c.text for c in wrapped_cells([(ln, ln.box.x) for ln in table]))
    assert texts == ["20240517-30168", "20240518-30169", "Alexandra Swift", "Beatrice Holloway"]


def test_a_form_s_label_over_its_value_is_not_one_cell() -> None:
    """Labels stacked over their values, one field per row: "Owner" / "James Lynn" stand one
    pitch apart like a wrapped cell, but no table row opens there: the label stays readable."""
    form = [
        line("Owner", 100, 100),
        line("James Lynn", 100, 120),
        line("Team", 100, 153),
        line("Sales", 100, 173),
        line("Region", 100, 206),  # "Region Springfield, IL 62704" would read as one address
        line("Springfield, IL 62704", 100, 226),
    ]
    found = locate(form, default_analyzer(), KEY, 0)
    assert any(b.y == 226 for f in found for b in f.boxes), found  # the address is found
    labels = {100, 153, 206}
    assert not [b for f in found for b in f.boxes if b.y in labels], found  # its label is not
