"""Fields of delimited records read as one line: a CSV export, a `COPY ... TO STDOUT`, a log
line with `|` or tabs. The OCR reads "Kim Minsu,1984-11-09,010-…" as one line, so the table
rules that see columns by their place on screen (`veil.locate`) see no column; the field's
number does that job here. Quotes are honoured ("a, b" is one field); the OCR's full-width
comma counts as a comma."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from veil.models import Box, Finding, TextLine

# A separator counts when it cuts a line into at least this many fields.
MIN_FIELDS = 3
_SEPARATORS = {",": ",，", ";": ";；", "|": "|", "\t": "\t"}
_QUOTED = re.compile(r'"[^"]*"?')
# A row number in front of a line ("12 Kim Minsu,…": an editor's gutter read with the line).
ROW_NUMBER = re.compile(r"^\s*\d{1,4}\s+(?=[^\d\s])")


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a delimited line: `start`/`end` index the line's text, without the
    surrounding blanks and quotes."""

    separator: str
    number: int
    start: int
    end: int

    def reach(self, text: str) -> tuple[int, int]:
        """The field's span in `text` reaching the separators on either side (included): the ink
        between a separator and the field's first or last character read is the field's, whatever
        the OCR made of it (a Korean address whose Hangul the engine dropped reads '"6687(召召)"',
        its characters' boxes covering half its ink). The first field starts where it starts (a
        row number may stand before it), the last ends where it ends."""
        chars = _SEPARATORS[self.separator]
        start, end = self.start, self.end
        before = start - 1
        while before >= 0 and (text[before].isspace() or text[before] == '"'):
            before -= 1
        if before >= 0 and text[before] in chars:
            start = before
        after = end
        while after < len(text) and (text[after].isspace() or text[after] == '"'):
            after += 1
        if after < len(text) and text[after] in chars:
            end = after + 1
        return start, end


def fields(text: str) -> list[Field]:
    """The fields of `text` under the separator that cuts it into the most fields (at least
    `MIN_FIELDS`), or [] when no separator does."""
    best: list[Field] = []
    for name, chars in _SEPARATORS.items():
        found = _split(text, chars, name)
        if len(found) >= MIN_FIELDS and len(found) > len(best):
            best = found
    return best


def _split(text: str, chars: str, name: str) -> list[Field]:
    cuts, k = [], 0
    while k < len(text):
        if text[k] == '"':
            quoted = _QUOTED.match(text, k)
            k = quoted.end() if quoted else k + 1
            continue
        if text[k] in chars:
            cuts.append(k)
        k += 1
    if not cuts:
        return []
    out = []
    for number, (a, b) in enumerate(zip([-1, *cuts], [*cuts, len(text)], strict=True)):
        start, end = a + 1, b
        while start < end and (text[start].isspace() or text[start] == '"'):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] == '"'):
            end -= 1
        out.append(Field(name, number, start, end))
    return out


# Types a column of delimited records is given from what the detectors found in it.
COLUMN_TYPES = frozenset({"person_name", "address", "date_of_birth", "phone", "email"})
# Lines of a column that must hold a value of its type (and at least half of those that reach it).
COLUMN_MIN_LINES = 3
FIELD_MAX_CHARS = 120  # longer is prose, not a field


@dataclass(frozen=True, slots=True)
class TypedField:
    """A field of `line` that holds a value of `type` because of its column."""

    line: TextLine
    field: Field
    type: str


ColumnKey = tuple[str, str, int]  # ("L" or "R", separator, field number from that end)


def typed_fields(
    lines: Sequence[TextLine], findings: Sequence[Finding], label_type: Callable[[str], str | None]
) -> list[TypedField]:
    """Whole fields of delimited records that hold a personal value because of their column: a
    header line names it ("name,birth_date,phone,address"), or at least `COLUMN_MIN_LINES` lines,
    half of those reaching it, hold a value the detectors found there. A column is known by its
    number from either end: an unquoted comma inside a value ("May 25, 1952") shifts the fields
    after it from the left, not from the right. Each such field is masked whole (a detector that
    found the street of a quoted address has not found its city)."""
    split = {
        id(ln): _numbered(ln.text)
        for ln in lines
        if len(ln.char_boxes) == len(ln.text) and not _prose(ln.text)
    }
    split = {k: fs for k, fs in split.items() if fs}
    rows = [ln for ln in lines if id(ln) in split]
    named, headers = _header_types(rows, split, label_type)
    found = _found_types(rows, split, findings, headers)
    out: list[TypedField] = []
    for ln in rows:
        if id(ln) in headers:
            continue
        fs = split[id(ln)]
        for i, f in enumerate(fs):
            if not 0 < f.end - f.start <= FIELD_MAX_CHARS:
                continue
            keys = _keys(f, i, len(fs))
            # Counted from the left and from the right, a field shifted by a stray comma gets two
            # types (its own and its neighbour's): it is masked as both.
            kinds = [named.get(k) or found.get(k) for k in keys]
            out += [TypedField(ln, f, kind) for kind in dict.fromkeys(kinds) if kind is not None]
    return out


# A sentence ending before more words (not "Apt. 863", "St. Louis"), or a field of many words.
_SENTENCE_END = re.compile(r"[.!?](?=\s+[^\sA-Z0-9])|[。！？]")
PROSE_WORDS = 10


def _prose(text: str) -> bool:
    """Whether a line is prose with commas (a chat message), not a record."""
    # Words of two characters or more: an engine spaces out Hangul syllables ("강 원 특 별 자 치 도").
    return bool(_SENTENCE_END.search(text)) or any(
        sum(len(w) > 1 for w in text[f.start : f.end].split()) > PROSE_WORDS for f in fields(text)
    )


def _numbered(text: str) -> list[Field]:
    """`fields(text)`, the first without a row number in front of the line."""
    fs = fields(text)
    gutter = ROW_NUMBER.match(text)
    if fs and gutter and gutter.end() < fs[0].end:
        fs[0] = Field(fs[0].separator, 0, gutter.end(), fs[0].end)
    return fs


def _keys(f: Field, i: int, count: int) -> tuple[ColumnKey, ColumnKey]:
    return ("L", f.separator, i), ("R", f.separator, count - 1 - i)


def _header_types(
    rows: Sequence[TextLine], split: dict[int, list[Field]], label_type: Callable[[str], str | None]
) -> tuple[dict[ColumnKey, str], set[int]]:
    """Column types named by header lines: two fields or more are labels of personal data
    (snake_case read as words), and no field holds a digit."""
    named: dict[ColumnKey, str] = {}
    headers: set[int] = set()
    for ln in rows:
        fs = split[id(ln)]
        cells = [ln.text[f.start : f.end] for f in fs]
        if any(ch.isdigit() for c in cells for ch in c):
            continue
        kinds = [label_type(c.replace("_", " ")) for c in cells]
        if sum(k is not None for k in kinds) < 2:
            continue
        headers.add(id(ln))
        for i, (f, kind) in enumerate(zip(fs, kinds, strict=True)):
            if kind is not None:
                for key in _keys(f, i, len(fs)):
                    named.setdefault(key, kind)
    return named, headers


def _found_types(
    rows: Sequence[TextLine], split: dict[int, list[Field]], findings: Sequence[Finding], headers: set[int]
) -> dict[ColumnKey, str]:
    """Column types from the detectors: the type found in the column's field on enough lines."""
    reach: Counter[ColumnKey] = Counter()
    hits: Counter[tuple[ColumnKey, str]] = Counter()
    boxes = [(f.type, b) for f in findings if f.type in COLUMN_TYPES for b in f.boxes]
    for ln in rows:
        if id(ln) in headers:
            continue
        fs = split[id(ln)]
        for i, f in enumerate(fs):
            if f.end <= f.start:
                continue
            keys = _keys(f, i, len(fs))
            reach.update(keys)
            (span,) = ln.span_boxes(f.start, f.end)
            for kind in {k for k, b in boxes if _inside(b, span)}:
                hits.update((key, kind) for key in keys)
    out: dict[ColumnKey, str] = {}
    for (key, kind), n in sorted(hits.items(), key=lambda item: -item[1]):
        if n >= COLUMN_MIN_LINES and 2 * n >= reach[key]:
            out.setdefault(key, kind)
    return out


def _inside(found: Box, span: Box) -> bool:
    """A finding's box lies in a field's: its centre inside the field's, on the same line."""
    cx, cy = found.x + found.w // 2, found.y + found.h // 2
    return span.x <= cx < span.x2 and span.y <= cy < span.y2
