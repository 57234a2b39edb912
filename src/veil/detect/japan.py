"""Japanese identifiers: the Individual Number (My Number), check digit by stdnum.jp.in_."""

from __future__ import annotations

import re

from stdnum.jp import in_

from veil.detect.contact import DECOY_WORDS
from veil.detect.pattern import SEP, Pattern, PatternRecognizer


class JpMyNumberRecognizer(PatternRecognizer):
    """12 digits, 4-4-4 or not grouped. One check digit passes one random number in ten, so a
    checksum-valid number without a label scores below 1 and must stand alone (a whole chain):
    part of a longer run such as a tracking number is not taken."""

    name = "jp_my_number"
    type = "jp_my_number"
    languages = ("ja",)
    patterns = (
        Pattern.number("grouped", rf"\d{{4}}{SEP}\d{{4}}{SEP}\d{{4}}", 0.85, (12, 12)),
        Pattern.number("digits", r"\d{12}", 0.8, (12, 12)),
        Pattern.number("loose", rf"\d{{1,11}}(?:{SEP}\d{{1,11}}){{1,3}}", 0.75, (12, 12)),
    )
    context_words = ("マイナンバー", "個人番号", "my number", "mynumber", "individual number", "마이넘버")
    negative_words = DECOY_WORDS
    context_boost = 0.2

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        return pattern.score if in_.is_valid(re.sub(r"\D", "", match.group(0))) else None
