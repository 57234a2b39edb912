"""The organisation's own rules from the policy (`detect:`): its identifiers (`patterns`), terms
always masked (`deny`) and values never masked (`allow`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from veil.detect.base import Recognizer
from veil.detect.pattern import Pattern, PatternRecognizer, word_regex
from veil.models import TextSpan
from veil.options import CustomPattern, checksum_validator

DENIED_TYPE = "denied_term"


class CustomPatternRecognizer(PatternRecognizer):
    """One `detect.patterns` entry. The regex is searched in the normalised text (NFKC: full-width
    digits and letters read as ASCII); a checksum sees the match (or its group named `check`, e.g.
    the digits after a prefix) without spaces, hyphens, dots or slashes."""

    needs_digit = False

    def __init__(self, spec: CustomPattern) -> None:
        self.name = f"policy:{spec.type}"
        self.type = spec.type
        self.patterns = (
            Pattern(spec.type, re.compile(spec.regex), spec.score, needs_context=spec.needs_label),
        )
        self.context_words = spec.labels
        self._check = checksum_validator(spec.checksum) if spec.checksum else None
        super().__init__()

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        if self._check is None:
            return pattern.score
        checked = match.group("check") if "check" in match.re.groupindex else match.group(0)
        try:
            ok = self._check(re.sub(r"[\s.\-/]", "", checked or ""))
        except Exception:  # noqa: BLE001 - a checksum that cannot judge the value rejects it
            return None
        return pattern.score if ok else None


class DenyListRecognizer(Recognizer):
    """Terms masked wherever they appear: Latin terms as whole words, CJK terms anywhere."""

    name = "policy:deny"
    types = (DENIED_TYPE,)

    def __init__(self, terms: Iterable[str]) -> None:
        self._regex = word_regex(_fold(t) for t in terms)

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        if self._regex is None:
            return []
        found = self._regex.finditer(_fold(text))
        return [TextSpan(m.start(), m.end(), DENIED_TYPE, 1.0, self.name) for m in found]


def _fold(text: str) -> str:
    """NFKC and case folding, one character per character so offsets stay those of `text`."""
    return "".join(c if len(f := unicodedata.normalize("NFKC", c).casefold()) != 1 else f for c in text)


def policy_recognizers(patterns: Iterable[CustomPattern], deny: Iterable[str]) -> list[Recognizer]:
    out: list[Recognizer] = [CustomPatternRecognizer(p) for p in patterns]
    terms = [t for t in deny if t.strip()]
    if terms:
        out.append(DenyListRecognizer(terms))
    return out
