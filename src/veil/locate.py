"""From OCR text lines to findings on pixels.

Lines that sit on one row with a small gap are joined first, so a value the OCR split into several
words or boxes ("010 1234 5678", "4111 1111 1111 1111") is analysed, and masked, whole. Each line is
analysed with its screen context (the text to its left on the same row and the line just above it),
which is where labels such as "계좌번호" or "生年月日" sit. Character spans map to pixels through the
per-character boxes, so a number inside a sentence masks the number only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from veil.delimited import ROW_NUMBER, Field, fields, typed_fields
from veil.detect.analyzer import Analyzer
from veil.detect.contact import is_decoy_label
from veil.detect.dates import DateOfBirthRecognizer, listed_birth_date
from veil.detect.labels import is_ui_text, label_key
from veil.models import Box, Finding, TextLine, TextSpan
from veil.ocr._common import char_weight
from veil.ocr.base import REREAD_ENGINE
from veil.wrapped import Cell, wrapped_cells

# Two boxes on one row are joined when the gap is below this many line heights: word gaps inside a
# value are ~0.3-0.6, gaps between table cells are usually well above 1.5.
JOIN_GAP_HEIGHTS = 1.2
# The engine name of the cells a verifier adds for its masks (see veil.verify.rescan.mask_cells).
MASK_ENGINE = "mask"
COLUMN_RECOGNIZER = "column"
_BARE_NUMBER = re.compile(r"[+(]?\d[\d ().\-]{5,}\d")
# A fragment this close (in line heights) to a mask, or this far under its margin, touches it.
TOUCH_HEIGHTS = 0.5
# Cells of a header row read as one line stand at least this many line heights apart.
CELL_GAP_HEIGHTS = 0.8
# A left neighbour this short (spaces aside) is a prefix of the value's field, not a field itself.
PREFIX_CHARS = 6
LabelTest = Callable[[TextLine], bool]
_RULES = frozenset("|｜│┃¦")
_VALUE_MARK = re.compile(r"[0-9０-９@＠]")
_DIGIT_GAP = re.compile(r"(?<=\d) +(?=\d)")
_HANGUL_GAP = re.compile(r"(?<=[\uac00-\ud7a3]) (?=[\uac00-\ud7a3])")


# A form's value (its input box) starts within this many ems right of its label.
VALUE_REACH_EMS = 12
# How far left of a line its left cell may stand and still be its context: a label's value stands
# near it; the next column's label of a two-column form ("氏名 | ▇▇▇ … カード番号") is no value of
# the first column's label, and an empty input box between them reads as nothing.
LEFT_REACH_EMS = 24


_RULING = frozenset("-+=_~|｜│┃¦─━┼┬┴├┤")
RULING_SHARE = 0.7
RULING_MIN_CHARS = 10


def is_ruling(text: str) -> bool:
    """A table's drawn border read as text ("+------+-----t--+ ~~ 2 te"): at least
    `RULING_MIN_CHARS` rule characters making `RULING_SHARE` of the line's ink. The few letters an
    engine reads into a border are noise of the border, no value of the column above it."""
    ink = [c for c in text if not c.isspace()]
    rules = sum(c in _RULING for c in ink)
    return rules >= RULING_MIN_CHARS and rules >= RULING_SHARE * len(ink)


def _same_row(a: Box, b: Box) -> bool:
    overlap = min(a.y2, b.y2) - max(a.y, b.y)
    return overlap > 0.5 * min(a.h, b.h)


class RowBoxes:
    """The boxes of a screen's rows as arrays: a question asked of every row at once (which stand
    on this row, which stand above it) costs one pass in numpy, not one in Python. A dense table
    asks it of each of its hundreds of cells."""

    def __init__(self, rows: Sequence[TextLine]) -> None:
        self.rows = rows
        edges = np.array([(r.box.x, r.box.y, r.box.x2, r.box.y2) for r in rows], np.int64).reshape(-1, 4)
        self.x, self.y, self.x2, self.y2 = edges.T
        self.h = self.y2 - self.y

    def same_row(self, box: Box) -> npt.NDArray[np.bool_]:
        """`_same_row(row, box)` for every row."""
        overlap = np.minimum(self.y2, box.y2) - np.maximum(self.y, box.y)
        same: npt.NDArray[np.bool_] = overlap > 0.5 * np.minimum(self.h, box.h)
        return same

    def overlaps_x(self, box: Box) -> npt.NDArray[np.bool_]:
        return np.minimum(self.x2, box.x2) > np.maximum(self.x, box.x)


def _join(left: TextLine, right: TextLine) -> TextLine:
    gap = Box(left.box.x2, left.box.y, max(right.box.x - left.box.x2, 0), left.box.h)
    return TextLine(
        text=left.text + " " + right.text,
        box=left.box.union(right.box),
        char_boxes=(*left.char_boxes, gap, *right.char_boxes),
        confidence=min(left.confidence, right.confidence),
        engine=left.engine,
    )


def split_at_gaps(line: TextLine) -> list[TextLine]:
    """Cut a line where its characters stand farther apart than row joining would bridge.
    Tesseract now and then returns two cells of a form ("Date de naissance … 28 avril 2023",
    1,300 px apart) or a whole table as one "line"; analysed as one, a label would reach a value
    it does not label, and a span would take the giant line's height. Blank lines go."""
    ink = [i for i, c in enumerate(line.text) if not c.isspace()]
    if not ink or len(line.char_boxes) != len(line.text):
        return [line] if ink else []
    tallest = max(line.char_boxes[i].h for i in ink)
    if tallest == 0:
        return [line]  # no character geometry to cut by
    sane = 0 < line.box.h <= 2 * tallest
    height = line.box.h if sane else tallest
    pieces: list[list[int]] = [[ink[0]]]
    for prev, cur in pairwise(ink):
        if line.char_boxes[cur].x - line.char_boxes[prev].x2 > JOIN_GAP_HEIGHTS * height:
            pieces.append([cur])
        else:
            pieces[-1].append(cur)
    if len(pieces) == 1 and sane:
        return [line]
    return [_piece(line, p[0], p[-1] + 1, sane) for p in pieces]


def _piece(line: TextLine, start: int, end: int, sane: bool) -> TextLine:
    boxes = line.char_boxes[start:end]
    cover = Box.covering([b for b in boxes if b.area > 0] or [line.box])
    box = Box(cover.x, line.box.y, cover.w, line.box.h) if sane else cover
    return TextLine(line.text[start:end], box, boxes, line.confidence, line.engine)


def assemble_rows(lines: Sequence[TextLine]) -> list[TextLine]:
    """Join boxes that lie on one row with a word-sized gap; keep everything else as is."""
    # Left to right, so each box can only extend a row that ends before it starts.
    ordered = sorted(lines, key=lambda ln: (ln.box.x, ln.box.y))
    out: list[TextLine] = []
    # The rows so far as arrays (y, x2, y2, mask or not), updated as a row grows: the latest row
    # that may take the next box is found in one pass.
    y, x2, y2 = (np.zeros(len(ordered), np.int64) for _ in range(3))
    mask = np.zeros(len(ordered), np.bool_)
    for line in ordered:
        b, n = line.box, len(out)
        if line.engine == MASK_ENGINE:  # a mask is a cell of its own
            ok = np.zeros(n, np.bool_)
        else:
            h = y2[:n] - y[:n]
            gap = b.x - x2[:n]
            ok = (
                (np.minimum(y2[:n], b.y2) - np.maximum(y[:n], b.y) > 0.5 * np.minimum(h, b.h))
                & ~mask[:n]
                & (gap >= 0)
                & (gap <= JOIN_GAP_HEIGHTS * np.maximum(h, b.h))
            )
        hits = np.flatnonzero(ok)
        if hits.size == 0:
            out.append(line)
            target = n
        else:
            target = int(hits[-1])
            out[target] = _join(out[target], line)
        row = out[target].box
        y[target], x2[target], y2[target] = row.y, row.x2, row.y2
        mask[target] = out[target].engine == MASK_ENGINE
    return out


def _overlaps_x(a: Box, b: Box) -> bool:
    return _x_overlap(a, b) > 0


def context_of(
    line: TextLine,
    rows: Sequence[TextLine],
    is_label: LabelTest | None = None,
    is_field_label: LabelTest | None = None,
    boxes: RowBoxes | None = None,
    is_column: LabelTest | None = None,
) -> str:
    """Screen context of `line`, one item per text line, nearest first: the cell to its left on
    the same row; the one before that only when the nearest is a short prefix ("Phone | +82 |
    10-…", "계좌 | 국민은행 | 110-…"), not a value or a label of its own (in "Date de naissance |
    16/01/1985 | Date de commande | …" the birth-date label is not the order date's); the line
    just above it; and the column header (the nearest header cell above it in the same column,
    however far: a table scrolls under its header). `is_label` tells header cells,
    `is_field_label` labels, `is_column` every cell of a header row (labels or not: "Order",
    "Date"): of those, the one over the line's start heads its column (see `_over_start`).
    `boxes`: `rows` as arrays, when the caller has them."""
    if boxes is None or boxes.rows is not rows:
        boxes = RowBoxes(rows)
    b = line.box
    before = (boxes.x2 <= b.x + 2) | (boxes.x < b.x)
    beside = boxes.same_row(b) & (b.x - boxes.x2 <= LEFT_REACH_EMS * _em(line)) & before
    # A column header on the left labels its own column, not the next header cell.
    left = sorted(
        (
            r
            for r in (rows[i] for i in np.flatnonzero(beside).tolist())
            if r is not line
            # A mask's margin may reach over the first letters after it; it is still their left cell.
            and (r.box.x2 <= b.x + 2 or (r.engine == MASK_ENGINE and r.box.x < b.x))
            and not (is_label is not None and is_label(r))
        ),
        key=lambda r: -r.box.x2,
    )[:2]
    if left and (
        len("".join(left[0].text.split())) > PREFIX_CHARS
        or (is_field_label is not None and is_field_label(left[0]))
    ):
        left = left[:1]
    above = [rows[i] for i in np.flatnonzero((boxes.y2 <= b.y + 2) & boxes.overlaps_x(b)).tolist()]
    parts = [r.text for r in left]
    near = [r for r in above if line.box.y - r.box.y2 < 3 * line.box.h]
    if near:
        up = max(near, key=lambda r: r.box.y)
        if is_column is not None and is_column(up):  # a header row: the cell over its start
            up = _over_start(line, [r for r in near if is_column(r)], is_label or is_column)
        if not (
            is_field_label is not None
            and (_in_label_column(up, rows, is_field_label) or _labels_its_row(up, rows, is_field_label))
        ):
            parts.append(up.text)
    if is_label is not None:
        headers = [r for r in above if is_label(r) or (is_column is not None and is_column(r))]
        own = _over_start(line, headers, is_label) if headers else None
        if own is not None and is_label(own):
            parts.append(without_row_number(own.text))
    # Tesseract's Korean model often spaces out syllables ("여 권 번호"): give labels a chance.
    parts += [d for d in (_HANGUL_GAP.sub("", p) for p in parts) if d not in parts]
    return "\n".join(parts)


def _over_start(line: TextLine, above: Sequence[TextLine], labelled: LabelTest) -> TextLine:
    """Of the nearest row of `above` (header cells over `line`), the cell over the first word of
    `line` (the most of it; padded boxes of the next column's cells reach a few pixels into it):
    the header of the column it stands in. A row the OCR read across several columns ("ORD-2023-
    2026- Jane Roe" under "Order | Date | Customer") starts in the first of them; the customer's
    header, a pixel lower than the others, does not make its order number a name (its piece
    under that header is read with it, see `split_under_headers`). Of cells over that word, a
    `labelled` one first: two readings of one header cell, one of them garbled, stand there."""
    nearest = max(above, key=lambda r: r.box.y)
    row = [r for r in above if _same_row(r.box, nearest.box)]
    if len(row) == 1:
        return row[0]
    lead = _first_word(line)

    def over(r: TextLine) -> tuple[bool, bool, int, int]:
        reach = _x_overlap(r.box, lead)
        return reach > 0, labelled(r), reach, _x_overlap(r.box, line.box)

    return max(row, key=over)


def _first_word(line: TextLine) -> Box:
    """The box of the first word of `line` (the whole line without a box per character)."""
    text = line.text
    if len(line.char_boxes) != len(text) or not text.strip():
        return line.box
    a = len(text) - len(text.lstrip())
    b = text.find(" ", a)
    return Box.covering([c for c in line.char_boxes[a : b if b > 0 else len(text)] if c.area] or [line.box])


def _x_overlap(a: Box, b: Box) -> int:
    return max(min(a.x2, b.x2) - max(a.x, b.x), 0)


def _member_of(ids: set[int]) -> LabelTest:
    """The test of a row being one of the rows whose ids are `ids`."""
    return lambda row: id(row) in ids


def without_row_number(text: str) -> str:
    """`text` without a spreadsheet's row number in front ("1 お名前" -> "お名前"), for telling
    labels and header rows; a number followed by more digits ("010 1234") is left alone."""
    return ROW_NUMBER.sub("", text)


def _in_label_column(label: TextLine, rows: Sequence[TextLine], is_field_label: LabelTest) -> bool:
    """Whether `label` sits under another label: a form's column of labels, whose next cell down
    is one more label (maybe misread: "Order no." as "00901 00."), not the value of this one."""
    if not is_field_label(label):
        return False
    above = [
        r
        for r in rows
        if r.box.y2 <= label.box.y + 2
        and _overlaps_x(r.box, label.box)
        and label.box.y - r.box.y2 < 3 * label.box.h
    ]
    return bool(above) and is_field_label(max(above, key=lambda r: r.box.y))


def _labels_its_row(label: TextLine, rows: Sequence[TextLine], is_field_label: LabelTest) -> bool:
    """Whether `label` already has its value on its right: the nearest cell right of it on its
    row is no label (a value, or a mask over one). Such a label does not also label the line
    below it ("氏名 | ▇▇▇" over "マイナンバー" misread as "マイナンパー": the next field's label)."""
    if not is_field_label(label):
        return False
    reach = label.box.x2 + VALUE_REACH_EMS * _em(label)
    right = [
        r
        for r in rows
        if r is not label and _same_row(r.box, label.box) and label.box.x2 - 2 <= r.box.x <= reach
    ]
    nearest = min(right, key=lambda r: r.box.x, default=None)
    return nearest is not None and not is_field_label(nearest)


def _em(line: TextLine) -> float:
    """The font size of `line`, about: its height, or two character advances when that is more.
    An engine whose boxes hug the ink (Tesseract) boxes "Nom" at its cap height and "nom" at its
    x-height, half of PP-OCR's padded line; the advance does not depend on the box's padding."""
    weight = sum(char_weight(c) for c in line.text)
    return max(float(line.box.h), 2 * line.box.w / weight if weight else 0.0)


def header_cells(
    rows: Sequence[TextLine], labels: set[int], is_label: Callable[[str], bool] = lambda _: False
) -> set[int]:
    """Labels that head a table column: they sit on a row of three or more cells with at least
    one other label and no value (no digit, no '@'), and what stands right below them is not
    another label, nor a row opening with one (`is_label` of its first cell: "マイナンバー" and
    its value read as one row). A form's "label value label value" row, or a form's stack of
    labels, is not a header row, so a form label never spreads down its column; nor is a row of
    one label repeated: the title of each of cards side by side ("받는 사람" on shipping labels)."""
    out: set[int] = set()
    for row in rows:
        if id(row) not in labels:
            continue
        peers = [r for r in rows if _same_row(r.box, row.box)]
        cells = _distinct(peers, labels)
        named = sum(1 for r in cells if id(r) in labels)
        if named > 1 and len({label_key(without_row_number(r.text)) for r in cells if id(r) in labels}) == 1:
            continue  # cards side by side, each under its own title
        few = named < 2 and not (named and _table_below(cells, rows, labels))
        few = few or (len(cells) < 3 and not _table_below(cells, rows, labels))
        if few or any(
            _VALUE_MARK.search(without_row_number(r.text)) or r.engine == MASK_ENGINE for r in peers
        ):
            continue  # a table header has several columns; two lone labels are a form row
        below = [r for r in rows if r.box.y >= row.box.y2 - 2 and _overlaps_x(r.box, row.box)]
        first = min(below, key=lambda r: r.box.y, default=None)
        if first is None or id(first) in labels or is_label(leading_cell(first).text):
            continue  # a stack of labels is a form, not a table
        out.add(id(row))
    return out


def _distinct(cells: Sequence[TextLine], labels: set[int]) -> list[TextLine]:
    """`cells` with each cell read twice counted once (two readings over half of one box: "전 화
    번호" and "전화번호"), a label's reading kept: a form's "label | label" row read twice is no
    row of four cells."""
    out: list[TextLine] = []
    for cell in sorted(cells, key=lambda c: id(c) not in labels):
        if not any(cell.box.intersection_area(o.box) * 2 > min(cell.box.area, o.box.area) for o in out):
            out.append(cell)
    return out


def _table_below(peers: Sequence[TextLine], rows: Sequence[TextLine], labels: set[int]) -> bool:
    """Two header cells head a two-column table (not a form's "label label" row, nor one label
    and its value) when three rows or more below hold a cell under each of them before any label
    does: in a two-column form the next field's label comes after one value (a misread label,
    "メ一ル", may pass for a cell; the next one read right ends the run)."""
    if len(peers) != 2:
        return False
    top = max(p.box.y2 for p in peers) - 2
    below = sorted((r for r in rows if r.box.y >= top and r not in peers), key=lambda r: r.box.y)

    def run(head: TextLine) -> int:
        cells = [r for r in below if _overlaps_x(r.box, head.box)]
        return next((i for i, r in enumerate(cells) if id(r) in labels), len(cells))

    return min(run(p) for p in peers) >= 3


def leading_cell(row: TextLine) -> TextLine:
    """The first cell of `row`: its text up to the first gap of `CELL_GAP_HEIGHTS` line heights
    (the whole row when it has none, or no box per character)."""
    cuts = cell_cuts(row)
    return _piece(row, 0, cuts[0], True) if cuts else row


def cell_cuts(row: TextLine) -> list[int]:
    """Offsets of the spaces of `row` that stand in a cell gap (at least `CELL_GAP_HEIGHTS` line
    heights; word spaces are narrower). [] without a box per character."""
    text, boxes = row.text, row.char_boxes
    if len(boxes) != len(text):
        return []
    return [
        i
        for i in range(1, len(text) - 1)
        if text[i] == " "
        and text[i - 1] != " "
        and text[i + 1] != " "
        and boxes[i + 1].x - boxes[i - 1].x2 >= CELL_GAP_HEIGHTS * row.box.h
    ]


def script_of(text: str) -> str:
    """The script a value is written in, for a pseudonym label in the same script."""
    if any("\uac00" <= c <= "\ud7a3" for c in text):
        return "hangul"
    if any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text):
        return "kana"
    return "latin"


def value_hmac(key: bytes, value: str) -> str:
    """Keyed hash for linking the same value across frames; the key never leaves the host."""
    normal = "".join(value.split()).casefold()
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def split_under_headers(row: TextLine, edges: Sequence[int]) -> list[TextLine]:
    """The pieces of `row` under each column header whose left edge falls in a word gap of it.
    PP-OCR reads neighbouring cells with a narrow gap as one line ("198.51.100.129 Alex Tester"
    under "IP address" and "Name"); each piece must meet its own header. [] when no header cuts."""
    text, boxes = row.text, row.char_boxes
    if len(boxes) != len(text) or not any(abs(row.box.x - x) <= row.box.h for x in edges):
        return []  # a row that does not start at a column is no table row (a log line below it)
    # A header's edge comes from its characters' boxes, placed from the recogniser's columns: it
    # may stand up to half a line height right of where its column's first word begins.
    late = max(2, row.box.h // 2)
    cuts = [
        i
        for i in range(1, len(text) - 1)
        if text[i] == " "
        and text[i - 1] != " "
        and any(boxes[i - 1].x2 - 2 <= x <= boxes[i + 1].x + late for x in edges)
    ]
    if not cuts:
        return []
    bounds = [0, *cuts, len(text)]
    pieces = [(a if a == 0 else a + 1, b) for a, b in pairwise(bounds)]
    out = []
    for a, b in pieces:
        piece = _piece(row, a, b, True)
        # The piece's box reaches halfway into the gaps beside it, so a span's end padding applies.
        x1 = (boxes[a - 1].x + piece.box.x) // 2 if a > 0 else piece.box.x
        x2 = (boxes[b].x2 + piece.box.x2 + 1) // 2 if b < len(text) else piece.box.x2
        out.append(replace(piece, box=Box(x1, piece.box.y, x2 - x1, piece.box.h)))
    return out


def closed_up_digits(row: TextLine) -> list[TextLine]:
    """`row` without the spaces OCR put inside a letter-spaced number, or [] when it has none.
    Full-width digits ("０９０－８８４３－０６９６") stand a blank apart, and both engines read
    them as "0 9 0-8 8 4 3- 0 6 9 6" or "0 10-3225-6048": a value no pattern matches. A space
    goes when it parts two digit runs of at most two digits, one of them a single digit (written
    groups of a number, "06 12", "+33 7 36", stay apart). Character boxes follow the text."""
    text = row.text
    if len(row.char_boxes) != len(text):
        return []
    drop: set[int] = set()
    for gap in _DIGIT_GAP.finditer(text):
        left = _digit_run(text, gap.start() - 1, -1)
        right = _digit_run(text, gap.end(), 1)
        if min(left, right) == 1 and max(left, right) <= 2:
            drop.update(range(gap.start(), gap.end()))
    if not drop:
        return []
    keep = [i for i in range(len(text)) if i not in drop]
    return [
        replace(row, text="".join(text[i] for i in keep), char_boxes=tuple(row.char_boxes[i] for i in keep))
    ]


def _digit_run(text: str, start: int, step: int) -> int:
    """How many digits stand in a row from `start`, going by `step` (1 or -1)."""
    n, i = 0, start
    while 0 <= i < len(text) and text[i].isdigit():
        n, i = n + 1, i + step
    return n


def split_at_rules(row: TextLine) -> list[TextLine]:
    """Cut a row at the vertical rules the OCR read as characters ("9602 | 정새롬 | 010-…", a label
    and its input box's border): they separate cells, and no personal value holds one."""
    text = row.text
    if len(row.char_boxes) != len(text) or not any(c in _RULES for c in text):
        return [row]
    return kept_runs(row, [c not in _RULES for c in text])


def kept_runs(line: TextLine, keep: Sequence[bool]) -> list[TextLine]:
    """The runs of `line`'s characters marked in `keep`, each trimmed of spaces, as lines of their
    own (blank runs go)."""
    text = line.text
    out: list[TextLine] = []
    start: int | None = None
    for i, kept in enumerate([*keep, False]):
        if kept and start is None:
            start = i
        elif not kept and start is not None:
            a, b = start, i
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b:
                out.append(_piece(line, a, b, True))
            start = None
    return out


def split_header_row(row: TextLine, is_label: Callable[[str], bool]) -> list[TextLine]:
    """Cut a row of header cells that the OCR read as one line ("Amount Name") at its cell gaps
    (at least `CELL_GAP_HEIGHTS` line heights; word spaces are narrower), when it holds no value
    and one of the cells is a label. Anything else comes back whole."""
    cuts = [] if _VALUE_MARK.search(row.text) else cell_cuts(row)
    if not cuts:
        return [row]
    bounds = [-1, *cuts, len(row.text)]
    cells = [_piece(row, a + 1, b, True) for a, b in pairwise(bounds)]
    return cells if any(is_label(c.text) for c in cells) else [row]


def locate(lines: Sequence[TextLine], analyzer: Analyzer, key: bytes, frame_index: int) -> list[Finding]:
    # Where the verifier read a region again as one line, the page's shreds of it ("x", "|" under
    # a header the second reading now names) are no values of that header; a shred that holds
    # personal data by itself, with no context, is kept whatever reads over it.
    again = [ln.box for ln in lines if ln.engine == REREAD_ENGINE]

    def shred(ln: TextLine) -> bool:
        if not again or ln.engine in (REREAD_ENGINE, MASK_ENGINE):
            return False
        covered = any(b.intersection_area(ln.box) * 2 >= ln.box.area for b in again)
        return covered and not analyzer.analyze(ln.text)

    lines = [ln for ln in lines if not shred(ln) and not is_ruling(ln.text)]
    rows = assemble_rows([piece for line in lines for piece in split_at_gaps(line)])
    ruled = [split_at_rules(row) for row in rows]
    rows = [cell for cells in ruled for cell in cells]
    slots = rule_slots(ruled)
    vocabulary = analyzer.labels
    rows = [cell for row in rows for cell in split_header_row(row, lambda t: bool(vocabulary.label_type(t)))]
    labels = {id(r) for r in rows if analyzer.labels.label_type(without_row_number(r.text))}
    headers = header_cells(rows, labels, lambda t: bool(vocabulary.label_type(t)))
    field_labels = labels | {id(r) for r in rows if is_decoy_label(r.text)}

    is_label, is_field_label = _member_of(headers), _member_of(field_labels)

    # Every cell of a header row starts a column ("상품코드" too, though no personal label).
    heads = [r for r in rows if id(r) in headers]
    columns = [r for r in rows if any(_same_row(r.box, h.box) for h in heads)]
    is_column = _member_of({id(r) for r in columns})
    end = table_end(rows, columns)
    masks = [r for r in rows if r.engine == MASK_ENGINE]
    plain = [r for r in rows if r.engine != MASK_ENGINE] if masks else rows
    findings: list[Finding] = []
    in_columns: list[tuple[TextLine, int]] = []  # cells, and the edge of their column's header
    geometry = {id(layout): RowBoxes(layout) for layout in (rows, plain)}
    for row in plain:
        if id(row) in field_labels:
            # A label cell (of personal data or of a business field) is not itself a value.
            # Nothing else is ever skipped: a "header row" guessed wrong must cost over-masking,
            # never a leak.
            continue
        in_table = row.box.y < end
        edges = _header_edges(columns, row) if in_table else []
        # A fragment with digits touching a mask may be the rest of the masked number ("▇▇▇-5678"):
        # it is also read as if the mask were not there, so the label before the mask reaches it.
        # (Words after a masked e-mail in a sentence are no e-mail: only digits or '@' count.)
        remnant = _remnant(row, masks)
        layouts = (rows, plain) if remnant else (rows,)
        pieces = split_under_headers(row, edges)
        for piece in pieces or [row]:
            column = [e for e in edges if e <= piece.box.x + piece.box.h]
            if column:
                in_columns.append((piece, max(column)))
        # The whole row, then its pieces under each header: the primary pass may only find more.
        for unit in (row, *pieces, *closed_up_digits(row)):
            for layout in layouts:
                context = context_of(
                    unit,
                    layout,
                    is_label if in_table else None,
                    is_field_label,
                    geometry[id(layout)],
                    is_column,
                )
                for span in analyzer.analyze(unit.text, context):
                    found = finding_for(unit, span, key, frame_index)
                    if not any(_covers(f, found) for f in findings):
                        findings.append(found)
    # A cell wrapped onto several lines ("Alexandra" / "Swift") is read whole too: a value it
    # breaks over two lines or more (one on a single line was looked for on that line). A cell
    # opens on a table's row, where the engine read three lines or more across; a form's label
    # over its value ("Owner" / "James Lynn") is no cell.
    read = RowBoxes([ln for ln in lines if ln.engine != MASK_ENGINE])
    for cell in wrapped_cells(in_columns):
        if np.count_nonzero(read.same_row(cell.lines[0].box)) < 3:
            continue
        context = context_of(cell.lines[0], rows, is_label, is_field_label, geometry[id(rows)], is_column)
        for span in analyzer.analyze(cell.text, context):
            found = _cell_finding(cell, span, key, frame_index)
            if len(found.boxes) > 1 and not any(_covers(f, found) for f in findings):
                findings.append(found)
    findings += column_mates(plain, findings, key, frame_index, slots)
    # Cells as the engine read them too: rows joined at small gaps hold a date with its phone.
    cells = [
        c for ln in lines if ln.engine != MASK_ENGINE for p in split_at_gaps(ln) for c in split_at_rules(p)
    ]
    findings += birth_date_columns([*plain, *cells], findings, key, frame_index, slots)
    findings += birth_date_fields(plain, findings, key, frame_index)
    findings += delimited_columns(plain, findings, vocabulary.label_type, key, frame_index)
    return findings + name_columns([*plain, *cells], findings, key, frame_index, slots, vocabulary.label_type)


def _header_edges(columns: Sequence[TextLine], row: TextLine) -> list[int]:
    """Left edges of the header cells above `row`: not on its row, starting above it (PP-OCR's
    padded boxes of a header and of the first row under it may overlap by a few pixels)."""
    return [c.box.x for c in columns if c.box.y < row.box.y and not _same_row(c.box, row.box)]


def rule_slots(ruled: Sequence[Sequence[TextLine]]) -> dict[int, tuple[int, int]]:
    """For each cell of a row cut at rules, its place (index from the left, index from the right):
    a listing printed with '|' between fields ("2804 | Lucas Durand | 4155550164 | ORD-…") keeps
    a field at one place though its x varies with the lengths of the fields before it."""
    return {id(c): (i, len(cells) - 1 - i) for cells in ruled if len(cells) > 1 for i, c in enumerate(cells)}


def column_mates(
    rows: Sequence[TextLine],
    findings: Sequence[Finding],
    key: bytes,
    frame_index: int,
    slots: dict[int, tuple[int, int]] | None = None,
) -> list[Finding]:
    """Bare numbers in a column of found numbers: a cell holding only digits, with the cell just
    above or below it in the same column found whole as a number of the same digit count (a
    terminal's phone column: "0359556962" is a phone by its 0, "6175550180" below it has nothing
    to tell it alone). In a listing cut at rules (`slots`, see `rule_slots`), the column is the
    field at the same place, counted from the left or the right, in any other ruled row of the
    frame (log lines printed between rows leave no neighbour). Decoys are never found, so they
    never spread."""
    # A cell found whole: a finding of about the cell's own size (not one merely reaching over it).
    whole = {
        id(r): f
        for r in rows
        for f in findings
        if f.recognizer != COLUMN_RECOGNIZER
        and len(f.boxes) == 1
        and f.boxes[0].grow(4).contains(r.box)
        and r.box.grow(max(r.box.h, 4)).contains(f.boxes[0])
    }
    out: list[Finding] = []
    for row in rows:
        digits = _BARE_NUMBER.fullmatch(row.text.strip())
        centre = Box(row.box.x + row.box.w // 2, row.box.y + row.box.h // 2, 1, 1)
        if id(row) in whole or digits is None or any(b.contains(centre) for f in findings for b in f.boxes):
            continue
        count = sum(c.isdigit() for c in row.text)
        for mate in [*_column_neighbours(row, rows), *_rule_mates(row, rows, slots or {})]:
            f = whole.get(id(mate))
            if f is not None and sum(c.isdigit() for c in mate.text) == count:
                span = TextSpan(0, len(row.text), f.type, f.score, COLUMN_RECOGNIZER)
                found = finding_for(row, span, key, frame_index)
                if not any(_covers(o, found) for o in out):
                    out.append(found)
                break
    return out


BIRTH_COLUMN_RECOGNIZER = "birth-date-column"
BIRTH_COLUMN_MIN_CELLS = 3
_PERSONAL_ROW_TYPES = frozenset({"person_name", "phone", "email", "address"})


def birth_date_columns(
    rows: Sequence[TextLine],
    findings: Sequence[Finding],
    key: bytes,
    frame_index: int,
    slots: dict[int, tuple[int, int]] | None = None,
) -> list[Finding]:
    """Birth dates whose header is out of view or unread: a column of at least three cells, each
    one date a listed person could be born on (see `listed_birth_date`), on rows that mostly hold
    a person's name, phone, e-mail or address. A customer sheet scrolled past its header, a query
    result whose header the OCR dropped. A column of recent dates (orders, logins) never counts,
    nor one under a header that names another date ("created", "주문일")."""
    unique = {(r.text, r.box): r for r in rows}.values()
    cells = [d for r in unique for d in (r, *_trailing_date(r))]
    dated = [r for r in cells if listed_birth_date(r.text) and not _inside(r, findings, "date_of_birth")]
    if len(dated) < BIRTH_COLUMN_MIN_CELLS:
        return []
    personal = [b for f in findings if f.type in _PERSONAL_ROW_TYPES for b in f.boxes]
    out: list[Finding] = []
    for column in _columns(dated, slots or {}):
        if len(column) < BIRTH_COLUMN_MIN_CELLS or _other_date_header(column, rows):
            continue
        on_personal_rows = sum(any(_same_row(c.box, b) for b in personal) for c in column)
        if on_personal_rows * 2 < len(column):
            continue
        for cell in column:
            span = TextSpan(0, len(cell.text), "date_of_birth", 0.6, BIRTH_COLUMN_RECOGNIZER)
            out.append(finding_for(cell, span, key, frame_index))
    return out


def _trailing_date(row: TextLine) -> list[TextLine]:
    """The end of `row` that is a date ("12 佐藤 裕美子 1975/03/28": a row number, a name and a
    date the OCR read as one line), as a piece of its own; [] when it ends otherwise."""
    if len(row.char_boxes) != len(row.text):
        return []
    starts = [m.start() for m in re.finditer(r"(?<=\s)\S", row.text)][-5:]
    for start in starts:
        if listed_birth_date(row.text[start:]):
            return [_piece(row, start, len(row.text), True)]
    return []


def birth_date_fields(
    rows: Sequence[TextLine], findings: Sequence[Finding], key: bytes, frame_index: int
) -> list[Finding]:
    """Birth dates in delimited records read as one line each (a CSV export, see
    `veil.delimited`): the same field of at least three lines holds a date a listed person could
    be born on, on lines that mostly hold a person's name, phone, e-mail or address. Not when a
    header line names another date in that field ("created_at")."""
    unique = list({(r.text, r.box): r for r in rows}.values())
    split = {id(r): fields(r.text) for r in unique}
    by_field: dict[tuple[str, int], list[tuple[TextLine, Field]]] = defaultdict(list)
    for r in unique:
        for f in split[id(r)]:
            if listed_birth_date(r.text[f.start : f.end]):
                by_field[(f.separator, f.number)].append((r, f))
    personal = [b for f in findings if f.type in _PERSONAL_ROW_TYPES for b in f.boxes]
    out: list[Finding] = []
    for (separator, number), cells in by_field.items():
        if len(cells) < BIRTH_COLUMN_MIN_CELLS:
            continue
        heads = [
            r.text[f.start : f.end].casefold()
            for r in unique
            for f in split[id(r)]
            if f.separator == separator and f.number == number
        ]
        if any(word in head for head in heads for word in DateOfBirthRecognizer.negative_words):
            continue
        if sum(any(_same_row(r.box, b) for b in personal) for r, _f in cells) * 2 < len(cells):
            continue
        for r, f in cells:
            span = TextSpan(f.start, f.end, "date_of_birth", 0.6, BIRTH_COLUMN_RECOGNIZER)
            found = finding_for(r, span, key, frame_index)
            if not any(_covers(g, found) for g in (*findings, *out)):
                out.append(found)
    return out


FIELD_COLUMN_RECOGNIZER = "delimited-column"


def delimited_columns(
    rows: Sequence[TextLine],
    findings: Sequence[Finding],
    label_type: Callable[[str], str | None],
    key: bytes,
    frame_index: int,
) -> list[Finding]:
    """Whole fields of delimited records (a CSV export read a record a line) whose column holds
    personal data, by its header or by what was found in it (`veil.delimited.typed_fields`)."""
    out: list[Finding] = []
    for typed in typed_fields(rows, findings, label_type):
        field = typed.field
        span = TextSpan(field.start, field.end, typed.type, 0.6, FIELD_COLUMN_RECOGNIZER)
        if any(_covers(g, finding_for(typed.line, span, key, frame_index)) for g in (*findings, *out)):
            continue  # found already (once: the manifest counts values)
        start, end = field.reach(typed.line.text)
        span = TextSpan(start, end, typed.type, 0.6, FIELD_COLUMN_RECOGNIZER)
        out.append(finding_for(typed.line, span, key, frame_index))
    return out


NAME_COLUMN_RECOGNIZER = "name-column"
# A Latin name as a list prints it: two to four capitalised words ("Toby Lynch", "LARSON Roy",
# "Hélène d'Baron", "Jean-Luc de La Tour"), particles in lower case between them.
_LATIN_NAME_SHAPE = re.compile(
    r"(?:[A-ZÀ-Þ][A-Za-zÀ-ÿ'’.-]+|(?:de|du|des|da|di|van|von|der|le|la|d'|d’|O'|Mc)\s?)"
    r"(?:\s(?:[A-ZÀ-Þ][A-Za-zÀ-ÿ'’.-]+|de|du|des|da|di|van|von|der|le|la|d'[A-ZÀ-Þ][a-zà-ÿ]+)){1,3}"
)
_HANGUL_NAME_SHAPE = re.compile(r"[가-힣]{2,4}")


def name_columns(
    rows: Sequence[TextLine],
    findings: Sequence[Finding],
    key: bytes,
    frame_index: int,
    slots: dict[int, tuple[int, int]] | None = None,
    label_type: Callable[[str], str | None] = lambda _: None,
) -> list[Finding]:
    """Names the lists do not hold, in a column of names: a cell shaped like a name (see
    `_LATIN_NAME_SHAPE`; two to four Hangul syllables) in a column where at least two other
    cells were found as names whole and most name-shaped cells were. A customer list scrolled
    past its header, where "Toby Lynch" has nothing to tell it alone. A label (`label_type`, or a
    business field's), a button or a menu item ("Confirm Cancel", "전화번호", "편집") is shaped
    like a name but is none: a form's labels stand in the column of the names they label."""
    unique = list({(r.text, r.box): r for r in rows}.values())
    shaped = [
        r
        for r in unique
        if _name_shaped(text := without_row_number(r.text).strip()) and not _named_field(text, label_type)
    ]
    if len(shaped) < BIRTH_COLUMN_MIN_CELLS:
        return []
    out: list[Finding] = []
    for column in _columns(shaped, slots or {}):
        found = [c for c in column if _inside(c, findings, "person_name")]
        if len(found) < 2 or len(found) * 2 < len(column):
            continue
        for cell in column:
            if cell in found:
                continue
            text = cell.text
            start = len(text) - len(without_row_number(text))
            span = TextSpan(start, len(text.rstrip()), "person_name", 0.55, NAME_COLUMN_RECOGNIZER)
            out.append(finding_for(cell, span, key, frame_index))
    return out


def _named_field(text: str, label_type: Callable[[str], str | None]) -> bool:
    """Whether `text` is a label, a business field's label, or UI text (a button, a menu item)."""
    return bool(label_type(text)) or is_decoy_label(text) or is_ui_text(text)


def _name_shaped(text: str) -> bool:
    return bool(_LATIN_NAME_SHAPE.fullmatch(text) or _HANGUL_NAME_SHAPE.fullmatch(text))


def _inside(row: TextLine, findings: Sequence[Finding], kind: str) -> bool:
    centre = Box(row.box.x + row.box.w // 2, row.box.y + row.box.h // 2, 1, 1)
    return any(f.type == kind and any(b.contains(centre) for b in f.boxes) for f in findings)


def _columns(cells: Sequence[TextLine], slots: dict[int, tuple[int, int]]) -> list[list[TextLine]]:
    """`cells` grouped in columns: aligned left or right within a line height, or at one place
    in a listing cut at rules (see `rule_slots`)."""
    parent = list(range(len(cells)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(cells):
        for j in range(i + 1, len(cells)):
            b = cells[j]
            h = max(a.box.h, b.box.h)
            aligned = abs(a.box.x - b.box.x) <= h or abs(a.box.x2 - b.box.x2) <= h
            pa, pb = slots.get(id(a)), slots.get(id(b))
            placed = pa is not None and pb is not None and (pa[0] == pb[0] or pa[1] == pb[1])
            if (aligned or placed) and not _same_row(a.box, b.box):
                parent[root(i)] = root(j)
    groups: dict[int, list[TextLine]] = {}
    for i, c in enumerate(cells):
        groups.setdefault(root(i), []).append(c)
    return list(groups.values())


def _other_date_header(column: Sequence[TextLine], rows: Sequence[TextLine]) -> bool:
    """Whether the nearest text above the column's top cell, over it, names another kind of date."""
    top = min(column, key=lambda c: c.box.y)
    above = [r for r in rows if r.box.y2 <= top.box.y + 2 and _overlaps_x(r.box, top.box)]
    if not above:
        return False
    header = max(above, key=lambda r: r.box.y).text.casefold()
    return any(word in header for word in DateOfBirthRecognizer.negative_words)


def _column_neighbours(row: TextLine, rows: Sequence[TextLine]) -> list[TextLine]:
    """The nearest cell above and the nearest below, left-aligned with `row`, within 3 lines."""
    near = [
        r
        for r in rows
        if r is not row
        and abs(r.box.x - row.box.x) <= row.box.h
        and 0 < abs(r.box.y - row.box.y) <= 3 * row.box.h
    ]
    above = [r for r in near if r.box.y < row.box.y]
    below = [r for r in near if r.box.y > row.box.y]
    out = [max(above, key=lambda r: r.box.y)] if above else []
    return out + ([min(below, key=lambda r: r.box.y)] if below else [])


def _rule_mates(row: TextLine, rows: Sequence[TextLine], slots: dict[int, tuple[int, int]]) -> list[TextLine]:
    """The cells at `row`'s place in the other ruled rows (see `rule_slots`)."""
    place = slots.get(id(row))
    if place is None:
        return []
    left, right = place
    return [
        r
        for r in rows
        if r is not row
        and (p := slots.get(id(r))) is not None
        and (p[0] == left or p[1] == right)
        and not _same_row(r.box, row.box)
    ]


def table_end(rows: Sequence[TextLine], columns: Sequence[TextLine]) -> int:
    """Where the table under the header row `columns` ends: at the first row below it whose text
    runs across half the column edges or more (two at least) mid-word (a log line printed after a
    query's result); headers reach no further. A cell overflowing into its neighbour, or a row of
    cells the OCR read as one line, crosses one edge or none."""
    if not columns:
        return 0
    top = max(c.box.y2 for c in columns)
    edges = sorted({c.box.x for c in columns})[1:]
    for row in sorted((r for r in rows if r.box.y >= top - 2), key=lambda r: r.box.y):
        # Spans of words: from a character to the next one, when no space stands between them.
        pairs = zip(row.char_boxes, row.char_boxes[1:], row.text, row.text[1:], strict=False)
        inside = [(a.x, b.x2) for a, b, ca, cb in pairs if not ca.isspace() and not cb.isspace()]
        crossed = sum(1 for e in edges if any(x1 < e - 1 and x2 > e + 1 for x1, x2 in inside))
        if crossed >= max(2, (len(edges) + 1) // 2):
            return row.box.y
    return 1 << 30


def _remnant(row: TextLine, masks: Sequence[TextLine]) -> bool:
    """Whether `row` may be the rest of a masked value: it touches a mask with a digit or '@' among
    its first (or last) `PREFIX_CHARS` characters on that side, spaces aside ("▇▇▇-5678", "▇▇▇ - 5678",
    "010-12▇▇▇"). The words after a masked value in a message ("▇▇▇に変更してください。 9時01分") are
    no part of it, whatever digits come later."""
    ink = "".join(row.text.split())
    if not ink:
        return False
    reach = TOUCH_HEIGHTS * row.box.h
    head, tail = ink[:PREFIX_CHARS], ink[-PREFIX_CHARS:]
    for m in masks:
        if not _same_row(m.box, row.box):
            continue
        if -reach <= row.box.x - m.box.x2 <= reach and _VALUE_MARK.search(head):
            return True
        if -reach <= m.box.x - row.box.x2 <= reach and _VALUE_MARK.search(tail):
            return True
    return False


def _covers(kept: Finding, new: Finding) -> bool:
    """`new` repeats `kept` (found again in a piece of the row, within a pixel or two)."""
    return kept.type == new.type and all(any(k.grow(2).contains(b) for k in kept.boxes) for b in new.boxes)


def _cell_finding(cell: Cell, span: TextSpan, key: bytes, frame_index: int) -> Finding:
    """A value found in a wrapped cell: a box on each of its lines the value reaches."""
    boxes: list[Box] = []
    for line, start in zip(cell.lines, cell.offsets, strict=True):
        a, b = max(span.start, start) - start, min(span.end, start + len(line.text)) - start
        if a < b and line.text[a:b].strip():
            boxes += line.span_boxes(a, b)
    return _found(span, cell.text[span.start : span.end], boxes, key, frame_index)


def finding_for(row: TextLine, span: TextSpan, key: bytes, frame_index: int) -> Finding:
    """The finding of `span` of `row`'s text: its characters' boxes, the value's keyed hash."""
    value = row.text[span.start : span.end]
    return _found(span, value, row.span_boxes(span.start, span.end), key, frame_index)


def _found(span: TextSpan, value: str, boxes: Sequence[Box], key: bytes, frame_index: int) -> Finding:
    return Finding(
        type=span.type,
        boxes=tuple(boxes),
        recognizer=span.recognizer,
        score=span.score,
        value_hmac=value_hmac(key, value),
        frame_index=frame_index,
        script=script_of(value),
    )
