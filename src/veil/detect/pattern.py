"""Pattern recognizers (after Presidio's `PatternRecognizer`): declarative regexes, context words
and a `validate` hook.

Two kinds of pattern:
- text patterns are searched in the normalised text, like Presidio's;
- number patterns are matched whole against *number chains*: runs of digit groups joined by a
  hyphen, a dot or OCR's unreliable spaces ("010 1234 5678", "4111-1111-1111-1111"). A pattern
  sees one contiguous run of groups at a time, so a value split over several OCR words is found
  whole, and a value glued to a neighbouring number ("2024-01-15 090-1234-5678") is found alone
  when its pattern allows a part of a chain.

Scores: `validate` returns the base score (or None to reject); a label such as "연락처" just
before the value, or in the caller's `context`, adds `context_boost`; a decoy label ("주문번호",
"tracking") nearest before the value subtracts `negative_penalty`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from veil.detect.base import Recognizer
from veil.detect.normalize import NormalizedText, normalize
from veil.models import TextSpan

# Separator inside a number as OCR returns it: a hyphen or dot, maybe with spaces, or 1-2 spaces.
# A dot followed by a space but not preceded by one ends a sentence ("is 2125550157. 7:53 PM").
SEP = r"(?:[ ]?-[ ]?|[ ]?\.(?=\d)|[ ]\.[ ]|[ ]{1,2})"
_GROUP = r"(?:\(\d{1,5}\)|\d+)"
_CHAIN = re.compile(
    rf"(?:\+[ ]?)?{_GROUP}(?:(?:{SEP}|(?<=\))|(?=\())(?:{_GROUP}))*",
    re.ASCII,
)
_GROUP_RE = re.compile(_GROUP, re.ASCII)
# Part of a code such as ORD-2024-118843, SKU_0042 or 12kg: a Latin letter glued to the chain.
_CODE_BEFORE = re.compile(r"[A-Za-z0-9][-_/]?$", re.ASCII)
_CODE_AFTER = re.compile(r"^(?:[-_/]?[A-Za-z0-9])", re.ASCII)
_TIME_BEFORE = re.compile(r"\d[:：]$", re.ASCII)
_TIME_AFTER = re.compile(r"^[:：]\d", re.ASCII)
# A count glued to its unit of time or money ("11時27分", "3시", "500円") is no part of a number.
_UNIT_AFTER = re.compile(r"^[時分秒円시분초원]")
PARTIAL_PENALTY = 0.1
# Boundaries for text patterns: not inside a word, nor hyphen-joined to a code (SKU-M123A4567).
CODE_START = r"(?<![0-9A-Za-z])(?<![0-9A-Za-z][-_/])"
CODE_END = r"(?![0-9A-Za-z])(?![-_/][0-9A-Za-z])"
_MAX_WINDOW_GROUPS = 8


@dataclass(frozen=True, slots=True)
class Pattern:
    """One declarative pattern. `chain` patterns fullmatch a window of a number chain (digits
    counted in `digits`); text patterns are searched. `partial` lets a chain pattern match part
    of a longer chain; `needs_context` drops matches without a label."""

    name: str
    regex: re.Pattern[str]
    score: float
    chain: bool = False
    digits: tuple[int, int] = (1, 64)
    partial: bool = False
    needs_context: bool = False

    @staticmethod
    def text(name: str, regex: str, score: float, *, flags: int = 0, needs_context: bool = False) -> Pattern:
        return Pattern(name, re.compile(regex, re.ASCII | flags), score, needs_context=needs_context)

    @staticmethod
    def number(
        name: str,
        regex: str,
        score: float,
        digits: tuple[int, int],
        *,
        partial: bool = False,
        needs_context: bool = False,
    ) -> Pattern:
        return Pattern(name, re.compile(regex, re.ASCII), score, True, digits, partial, needs_context)


def word_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation of context words; Latin words only match as whole words ("tel" not in
    "hotel"), CJK words anywhere (no spaces between words)."""
    parts = []
    for word in sorted({w.casefold() for w in words}, key=len, reverse=True):
        escaped = re.escape(word)
        if word[:1].isascii() and word[:1].isalpha():
            escaped = rf"(?<![a-z]){escaped}"
        if word[-1:].isascii() and word[-1:].isalpha():
            escaped = rf"{escaped}(?![a-z])"
        parts.append(escaped)
    return re.compile("|".join(parts)) if parts else None


class Prepared:
    """A text normalised once and shared by every recognizer of an analyzer run."""

    __slots__ = ("_chains", "folded", "has_digit", "norm")

    def __init__(self, text: str) -> None:
        self.norm: NormalizedText = normalize(text)
        self.folded: str = self.norm.text.casefold() if self.norm.text.isascii() else self._fold()
        self._chains: list[Chain] | None = None
        self.has_digit = any(c.isdigit() for c in self.norm.text)

    def __repr__(self) -> str:
        return f"Prepared(length={len(self.norm.text)})"

    def _fold(self) -> str:
        # casefold can change length (ß -> ss); keep one character per character for offsets.
        return "".join(c if len(f := c.casefold()) != 1 else f for c in self.norm.text)

    @property
    def chains(self) -> list[Chain]:
        if self._chains is None:
            self._chains = list(_find_chains(self.norm.text))
        return self._chains


@dataclass(frozen=True, slots=True)
class Chain:
    """A run of digit groups; `windows` holds (start, end, is_whole, digit count) of each
    contiguous run of groups, longest first, computed once for all patterns."""

    start: int
    groups: tuple[tuple[int, int], ...]
    windows: tuple[tuple[int, int, bool, int], ...]


def _find_chains(text: str) -> Iterator[Chain]:
    for m in _CHAIN.finditer(text):
        start = m.start()
        groups = [g.span() for g in _GROUP_RE.finditer(text, start, m.end())]
        before = _CODE_BEFORE.search(text, max(0, start - 2), start)
        after = _CODE_AFTER.match(text[groups[-1][1] : groups[-1][1] + 2])
        # Hyphen- or underscore-joined to a Latin code (ORD-2024-118843, SKU_0042): that joined
        # run is the code; what a space parts from it is not ("ORD-2023-944419 4225 4706 3513"
        # read as one line is an order number and a My Number). Glued directly or by a slash
        # (...1111 12/27, 12kg): only that group is the code's.
        coded_before = bool(before and before.group(0)[-1] in "-_")
        coded_after = bool(after and after.group(0)[0] in "-_")
        if coded_before or coded_after:
            groups = _outside_code(text, groups, coded_before, coded_after)
            if not groups:
                continue
            if coded_before:
                start, before = groups[0][0], None
            if coded_after:
                after = None  # the space before the code ends the kept run
        # A clock time is no part of a number: "…270 4:44 PM", "10:30 010-1234-5678".
        before = before or _TIME_BEFORE.search(text, max(0, start - 2), start)
        tail = text[groups[-1][1] : groups[-1][1] + 2]
        after = after or _TIME_AFTER.match(tail) or (_UNIT_AFTER.match(tail) if len(groups) > 1 else None)
        if before:
            groups.pop(0)
            start = groups[0][0] if groups else start
        if groups and after:
            groups.pop()
        if groups:
            yield Chain(start, tuple(groups), _windows(text, start, groups))


def _outside_code(
    text: str, groups: list[tuple[int, int]], coded_before: bool, coded_after: bool
) -> list[tuple[int, int]]:
    """The groups a space parts from a code joined at the chain's start and/or end."""
    spaced = [not text[groups[i - 1][1] : groups[i][0]].strip() for i in range(1, len(groups))]
    first, last = 0, len(groups)
    if coded_before:
        first = next((i + 1 for i, gap in enumerate(spaced) if gap), len(groups))
    if coded_after:
        last = next((i + 1 for i in range(len(spaced) - 1, -1, -1) if spaced[i]), 0)
    return groups[first:last] if first < last else []


def _windows(text: str, start: int, groups: list[tuple[int, int]]) -> tuple[tuple[int, int, bool, int], ...]:
    """Every run of whole groups. A run counts as standing alone ("whole") when it is the whole
    chain, or when only spaces part it from its neighbours in a chain of hyphen- or dot-joined
    values: table cells that OCR read as one line ("960708-6846637 440-91-52210") are separate."""
    digits = [sum(c.isdigit() for c in text[a:b]) for a, b in groups]
    n, out = len(groups), []
    spaced = [False] + [not text[groups[i - 1][1] : groups[i][0]].strip() for i in range(1, n)] + [False]
    # Only when some value in the chain is hyphen- or dot-joined: in "1234 5678 9018 1234" a space
    # may be a group separator inside one value, so only the whole chain stands alone.
    if not any(not spaced[i] for i in range(1, n)):
        spaced = [False] * (n + 1)
    for size in range(min(n, _MAX_WINDOW_GROUPS), 0, -1):
        for i in range(n - size + 1):
            first = start if i == 0 else groups[i][0]
            alone = (i == 0 or spaced[i]) and (i + size == n or spaced[i + size])
            out.append((first, groups[i + size - 1][1], size == n or alone, sum(digits[i : i + size])))
    return tuple(out)


class PatternRecognizer(Recognizer):
    """A recognizer defined by `patterns`, `context_words`, `negative_words` and `validate`."""

    type: str = ""
    patterns: tuple[Pattern, ...] = ()
    context_words: tuple[str, ...] = ()
    negative_words: tuple[str, ...] = ()
    context_boost: float = 0.25
    negative_penalty: float = 0.35
    # How far before a value a label may stand (normalised characters).
    context_window: int = 24
    # Skip texts without a digit (most screen text) when every pattern needs one.
    needs_digit: bool = True

    def __init__(self) -> None:
        self.types = (self.type,)
        self._positive = word_regex(self.context_words)
        self._negative = word_regex(self.negative_words)

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        """Base score of a match, or None to reject it. Override to check a checksum."""
        return pattern.score

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        return self.analyze_prepared(Prepared(text), Prepared(context) if context else None)

    def analyze_prepared(self, text: Prepared, context: Prepared | None) -> list[TextSpan]:
        if self.needs_digit and not text.has_digit:
            return []
        found: dict[tuple[int, int], float] = {}
        for pattern in self.patterns:
            for start, end, score in self._candidates(text, pattern):
                if (start, end) in found:
                    continue
                final = self._with_context(text, context, start, score, pattern.needs_context)
                if final is not None:
                    found[(start, end)] = final
        # A window is dropped only for a strictly better overlapping one (before the 1.0 cap, which
        # would tie "4945-3605-9650-2664" with the looser "9650-2664 19.10.2026"). Equal ones all
        # go on: the analyzer keeps the best of overlapping spans across every recognizer, so a
        # window that ties here may still win there ("… 472 05 06 50 00 78 61": the NIR takes
        # "05", the phone is "06 50 00 78 61", not "05 06 …").
        out: list[TextSpan] = []
        for (start, end), final in found.items():
            if any(s < end and start < e and f > final for (s, e), f in found.items()):
                continue
            a, b = text.norm.to_original(start, end)
            out.append(TextSpan(a, b, self.type, round(min(final, 1.0), 3), self.name))
        return out

    def _candidates(self, text: Prepared, pattern: Pattern) -> Iterator[tuple[int, int, float]]:
        if not pattern.chain:
            for m in pattern.regex.finditer(text.norm.text):
                score = self.validate(m, pattern)
                if score is not None:
                    yield m.start(), m.end(), score
            return
        for chain in text.chains:
            yield from self._chain_candidates(text.norm.text, chain, pattern)

    def _chain_candidates(
        self, norm: str, chain: Chain, pattern: Pattern
    ) -> Iterator[tuple[int, int, float]]:
        """Every window the pattern accepts, best first (score, then length)."""
        low, high = pattern.digits
        found: list[tuple[float, int, int]] = []
        for start, end, whole, digits in chain.windows:
            if not (low <= digits <= high and (whole or pattern.partial)):
                continue
            m = pattern.regex.fullmatch(norm, start, end)
            score = None if m is None else self.validate(m, pattern)
            if score is not None:
                found.append((score if whole else score - PARTIAL_PENALTY, start, end))
        found.sort(key=lambda f: (-f[0], f[1] - f[2]))
        for score, start, end in found:
            yield start, end, score

    def _with_context(
        self, text: Prepared, context: Prepared | None, start: int, score: float, needed: bool
    ) -> float | None:
        # A label on the line beats the surrounding context (a column header): it is nearer.
        evidence = self._label_before(text.folded, start)
        if evidence == 0 and context is not None:
            evidence = self._label_in(context.folded)
        if evidence > 0:
            return score + self.context_boost
        if needed:
            return None
        return score - self.negative_penalty if evidence < 0 else score

    def _label_before(self, folded: str, start: int) -> int:
        """+1 if the nearest label before `start` is a context word, -1 if a decoy word, else 0.
        A label only counts when no other number stands between it and the value."""
        lo = max(0, start - self.context_window)
        best, sign = -1, 0
        for regex, value in ((self._positive, 1), (self._negative, -1)):
            if regex is None:
                continue
            for m in regex.finditer(folded, lo, start):
                if m.end() > best or (m.end() == best and value > 0):
                    best, sign = m.end(), value
        if sign and any(c.isdigit() for c in folded[best:start]):
            return 0
        return sign

    def _label_in(self, folded_context: str) -> int:
        if self._positive is not None and self._positive.search(folded_context):
            return 1
        if self._negative is None:
            return 0
        # A decoy word counts only in a label (a cell without digits): the row above a value in a
        # table is data ("SKU-KR-13358-A …"), and its words say nothing about this cell.
        labels = (part for part in folded_context.split("\n") if not any(c.isdigit() for c in part))
        return -1 if any(self._negative.search(part) for part in labels) else 0
