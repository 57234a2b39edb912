"""Table cells the browser wrapped onto several lines.

A narrow column wraps its cells: "479 Walters Glens," / "Bldg A, Room 349," / "Dorothyside, WV3
7JL" is one address, "Alexandra" / "Swift" one name, "+1 530-" / "555-" / "0152" one phone
number. OCR reads each line on its own, and no line alone is the value. `wrapped_cells` finds the
stacks of lines that make one cell, so the detectors can read the cell whole.

A cell's lines stand one line pitch apart (the smallest step between two lines of a column, over
the whole table); the last line of a row and the first of the next stand a row's padding further
apart than whole pitches. That difference is the only evidence used: in a table where no step is
whole pitches and a padding (a spreadsheet: one pitch between rows, two over a blank one) nothing
is joined, since one row per line and one cell per line look alike. A column is the lines under
one header. With no header in view (a table scrolled past it) the lines that start at one left
edge could stand for a column; measured on the browser benchmark's dev screens that found 10 more
values and masked 34 more decoys (the OCR's lines run across cells, "2026- Annette", and a form's
label stands over its value), so it is not done. Pitch, not the gap between boxes, so
Tesseract's tight boxes and PP-OCR's padded ones give the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from veil.models import TextLine

# A step of a column up to this many line pitches is the next line of the same cell.
SAME_CELL_PITCH = 1.25
# Evidence that cells wrap at all: a step of whole line pitches and a row's padding, the padding
# this share of a pitch. A spreadsheet's steps are one pitch, or two over a blank row: never this.
ROW_PADDING = (0.35, 0.85)
JITTER = 1.2  # the line pitch is the median of the steps within this share over the smallest
MIN_STEP = 0.6  # line heights: a smaller step down is two lines overlapping, not a pitch
MAX_LINES = 4  # a cell wrapped further than this is a paragraph, not a value
ALIGN_HEIGHTS = 1.0  # left edges of one cell's lines agree within this many line heights


@dataclass(frozen=True, slots=True)
class Cell:
    """A wrapped cell: its lines top to bottom, the text they make, and where each line's text
    starts in it."""

    lines: tuple[TextLine, ...]
    text: str
    offsets: tuple[int, ...]


def wrapped_cells(units: Sequence[tuple[TextLine, int]]) -> list[Cell]:
    """The cells of two lines or more among `units`, each a line (or a piece of one) with the
    left edge of the column header it stands under."""
    columns: defaultdict[int, list[TextLine]] = defaultdict(list)
    for line, edge in units:
        if line.text.strip():
            columns[edge].append(line)
    stacks = [sorted(lines, key=lambda ln: ln.box.y) for lines in columns.values()]
    steps = [_steps(lines) for lines in stacks]
    ordered = sorted(s for column in steps for s in column if s)
    if not ordered:
        return []
    pitch = median([s for s in ordered if s <= JITTER * ordered[0]])
    low, high = ROW_PADDING
    if not any(s > pitch and low <= (s / pitch) % 1 <= high for s in ordered):
        return []  # no row padding seen between lines: nothing says a cell wrapped
    cells: list[Cell] = []
    for lines, column in zip(stacks, steps, strict=True):
        cells += _column_cells(lines, column, pitch)
    return cells


def _steps(lines: Sequence[TextLine]) -> list[int]:
    """The step down from each line to the next; 0 where they overlap (two readings of one row, a
    line the screen's edge cut read above a whole one): no line pitch."""
    out = []
    for a, b in pairwise(lines):
        step = b.box.y - a.box.y
        out.append(step if step >= MIN_STEP * max(a.box.h, b.box.h) else 0)
    return out


def _column_cells(lines: Sequence[TextLine], steps: Sequence[int], pitch: float) -> list[Cell]:
    """The column's cells: lines one pitch below the one above, aligned with the cell's first."""
    cells: list[Cell] = []
    stack = [lines[0]]
    for (above, below), step in zip(pairwise(lines), steps, strict=True):
        same = (
            0 < step <= SAME_CELL_PITCH * pitch
            and abs(below.box.x - stack[0].box.x) <= ALIGN_HEIGHTS * min(above.box.h, below.box.h)
            and len(stack) < MAX_LINES
        )
        if same:
            stack.append(below)
            continue
        if len(stack) > 1:
            cells.append(_joined(stack))
        stack = [below]
    if len(stack) > 1:
        cells.append(_joined(stack))
    return cells


def _joined(lines: Sequence[TextLine]) -> Cell:
    """The lines' text as the cell holds it: a line that ends in a hyphen goes on without a space
    (the browser breaks "+1 530-555-0152" after a hyphen), the others with one."""
    text, offsets = "", []
    for line in lines:
        if text and not (text.endswith("-") and line.text[:1].isalnum()):
            text += " "
        offsets.append(len(text))
        text += line.text
    return Cell(tuple(lines), text, tuple(offsets))
