"""French identifiers: the NIR (social security number), key checked by stdnum.fr.nir."""

from __future__ import annotations

import re

from stdnum.fr import nir

from veil.detect.pattern import CODE_END, CODE_START, SEP, Pattern, PatternRecognizer

_S = f"{SEP}?"


class FrNirRecognizer(PatternRecognizer):
    """Sex, year, month, department (2A/2B for Corsica), commune, serial, two-digit key."""

    name = "fr_nir"
    type = "fr_nir"
    languages = ("fr",)
    patterns = (
        Pattern.text(
            "nir",
            rf"{CODE_START}[1-478]{_S}\d{{2}}{_S}\d{{2}}{_S}(?:\d{{2}}|2[ABab]){_S}\d{{3}}{_S}\d{{3}}"
            rf"{_S}\d{{2}}{CODE_END}",
            0.95,
        ),
    )
    context_words = (
        "sécurité sociale",
        "securite sociale",
        "n° ss",
        "nir",
        "insee",
        "numéro de sécu",
        "carte vitale",
        "social security",
    )
    context_boost = 0.05

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        return pattern.score if nir.is_valid(re.sub(r"[^0-9ABab]", "", match.group(0))) else None
