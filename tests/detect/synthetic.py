"""Synthetic identifiers for the detector tests, made valid (or invalid) with python-stdnum's
own check-digit functions. None belongs to a real person."""

from __future__ import annotations

from stdnum import iban, luhn
from stdnum.fr import nir
from stdnum.jp import in_
from stdnum.kr import rrn

from veil.detect import default_analyzer
from veil.detect.analyzer import Analyzer

_FULL = str.maketrans("0123456789-", "０１２３４５６７８９－")
# The content recognizers alone: labelled values (layout context) are tested in test_labels.py.
_ALL = default_analyzer()
ANALYZER: Analyzer = Analyzer([r for r in _ALL.recognizers if not r.fallback], _ALL.min_score)


def fullwidth(text: str) -> str:
    """ASCII digits and hyphens as the full-width forms Japanese screens use."""
    return text.translate(_FULL)


def wrong_last(number: str) -> str:
    """The same number with its last digit changed, so its check digit fails."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def card(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def iban_of(country: str, bban: str) -> str:
    return country + iban.calc_check_digits(country + "00" + bban) + bban


def my_number(body: str) -> str:
    return body + in_.calc_check_digit(body)


def rrn_of(body: str) -> str:
    return body + rrn.calc_check_digit(body)


def rrn_bad_checksum(body: str) -> str:
    return body + str((int(rrn.calc_check_digit(body)) + 1) % 10)


def nir_of(body: str) -> str:
    return body + nir.calc_check_digits(body)


def group(number: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    out, i = [], 0
    for size in sizes:
        if number[i : i + size]:
            out.append(number[i : i + size])
        i += size
    if i < len(number):
        out.append(number[i:])
    return sep.join(out)


def found(text: str, context: str = "") -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.type) for s in ANALYZER.analyze(text, context)]


def expect(text: str, value: str, kind: str) -> list[tuple[int, int, str]]:
    """The single span `value` in `text` as (start, end, type)."""
    start = text.index(value)
    return [(start, start + len(value), kind)]


def types_found(text: str, context: str = "") -> set[str]:
    return {kind for _, _, kind in found(text, context)}
