"""Fields of delimited records read as one line: a CSV export, a `COPY ... TO STDOUT`, a log
line with `|` or tabs. The OCR reads "Kim Minsu,1984-11-09,010-…" as one line, so the table
rules that see columns by their place on screen (`veil.locate`) see no column; the field's
number does that job here. Quotes are honoured ("a, b" is one field); the OCR's full-width
comma counts as a comma."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A separator counts when it cuts a line into at least this many fields.
MIN_FIELDS = 3
_SEPARATORS = {",": ",，", ";": ";；", "|": "|", "\t": "\t"}
_QUOTED = re.compile(r'"[^"]*"?')


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a delimited line: `start`/`end` index the line's text, without the
    surrounding blanks and quotes."""

    separator: str
    number: int
    start: int
    end: int


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
