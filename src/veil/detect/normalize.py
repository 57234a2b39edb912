"""NFKC normalisation that remembers where every character came from.

Detectors match on the normalised text (full-width digits become ASCII, the ideographic space a
space, dash look-alikes a hyphen) but must report offsets into the ORIGINAL string, because those
offsets pick the character boxes to mask. Each normalised character therefore keeps the original
range of the cluster it came from.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Dash look-alikes OCR returns for a hyphen; NFKC leaves them alone. One-to-one, so offsets hold.
_DASHES = str.maketrans(
    {
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u30a0": "-",  # katakana-hiragana double hyphen
    }
)
# The katakana prolonged-sound mark looks like a hyphen but is part of words (データ); it is read
# as a hyphen only between digits, where Japanese OCR often puts it inside phone numbers.
_LONG_VOWEL = "\u30fc"
_WHITESPACE = str.maketrans({"\t": " ", "\u00a0": " ", "\u202f": " "})


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """`text` is the normalised string; character i of it came from original[starts[i]:ends[i]]."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    original_length: int

    def __repr__(self) -> str:
        # Never show the text: it is OCR output and may hold personal data.
        return f"NormalizedText(length={len(self.text)}, original_length={self.original_length})"

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised range [start, end) to the original range covering it."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError("range outside the normalised text")
        return self.starts[start], self.ends[end - 1]


def _clusters(text: str) -> list[tuple[int, int]]:
    """Split into a base character plus its combining marks, so NFKC can compose e + U+0301."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        out.append((i, j))
        i = j
    return out


def normalize(text: str) -> NormalizedText:
    """NFKC-normalise `text`, map dash look-alikes to '-', keep offsets into the original."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    if text.isascii():
        # Fast path: ASCII is already NFKC; only tabs change, one to one.
        norm = text.translate(_WHITESPACE)
        return NormalizedText(norm, tuple(range(len(text))), tuple(range(1, len(text) + 1)), len(text))
    for a, b in _clusters(text):
        piece = unicodedata.normalize("NFKC", text[a:b]).translate(_DASHES).translate(_WHITESPACE)
        pieces.append(piece)
        starts.extend([a] * len(piece))
        ends.extend([b] * len(piece))
    norm = "".join(pieces)
    if _LONG_VOWEL in norm:
        norm = _digit_dashes(norm)
    return NormalizedText(norm, tuple(starts), tuple(ends), len(text))


def _digit_dashes(norm: str) -> str:
    chars = list(norm)
    for i, ch in enumerate(chars):
        if ch != _LONG_VOWEL:
            continue
        before = norm[i - 1] if i > 0 else ""
        after = norm[i + 1] if i + 1 < len(norm) else ""
        if before.isdigit() and after.isdigit():
            chars[i] = "-"
    return "".join(chars)
