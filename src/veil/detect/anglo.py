"""United States and United Kingdom identifiers.

- US social security number (SSN, AAA-GG-SSSS) and individual taxpayer number (ITIN, 9XX-7X-XXXX),
  employer identification number (EIN, XX-XXXXXXX): stdnum.us.ssn / itin / ein check the area,
  group and prefix ranges the IRS and SSA never issue.
- UK National Insurance number (NINO, QQ 12 34 56 C): prefix letters and suffix checked here (stdnum
  has no NINO module); NHS number (943 476 5919): mod-11 check by stdnum.gb.nhs; driving licence
  number (MORGA753116SM9IJ): the DVLA layout.

A bare nine-digit run is an SSN only next to its label: order numbers and phone fragments have
nine digits too. An NHS number looks like a ten-digit phone number, so it needs its label as well
(the phone recognizer masks it anyway).
"""

from __future__ import annotations

import re

from stdnum.gb import nhs
from stdnum.us import ein, itin, ssn

from veil.detect.contact import DECOY_WORDS
from veil.detect.pattern import CODE_END, CODE_START, Pattern, PatternRecognizer

_DASH = r"[ ]?[- ][ ]?"
_SSN_CONTEXT = (
    "ssn",
    "social security",
    "social security number",
    "social security no",
    "soc. sec.",
    "ss#",
    "ss no",
    "tax id",
    "taxpayer id",
    "tin",
)


def _digits(match: re.Match[str]) -> str:
    return re.sub(r"\D", "", match.group(0))


class _CheckedNumber(PatternRecognizer):
    """A number whose digits python-stdnum checks (`is_valid`); English screens only."""

    languages = ("en",)
    negative_words = DECOY_WORDS
    context_boost = 0.2

    @staticmethod
    def is_valid(number: str) -> bool:
        raise NotImplementedError

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        return pattern.score if self.is_valid(_digits(match)) else None


class UsSsnRecognizer(_CheckedNumber):
    name = "us_ssn"
    type = "us_ssn"
    patterns = (
        Pattern.number("grouped", rf"\d{{3}}{_DASH}\d{{2}}{_DASH}\d{{4}}", 0.7, (9, 9)),
        Pattern.number("digits", r"\d{9}", 0.45, (9, 9), needs_context=True),
    )
    context_words = _SSN_CONTEXT

    is_valid = staticmethod(ssn.is_valid)


class UsItinRecognizer(_CheckedNumber):
    name = "us_itin"
    type = "us_itin"
    patterns = (
        Pattern.number("grouped", rf"9\d{{2}}{_DASH}\d{{2}}{_DASH}\d{{4}}", 0.7, (9, 9)),
        Pattern.number("digits", r"9\d{8}", 0.45, (9, 9), needs_context=True),
    )
    context_words = ("itin", "individual taxpayer", *_SSN_CONTEXT)

    is_valid = staticmethod(itin.is_valid)


class UsEinRecognizer(_CheckedNumber):
    """An EIN names a business, and a sole proprietor by it: masked when labelled or grouped
    XX-XXXXXXX with a prefix the IRS assigns."""

    name = "us_ein"
    type = "us_ein"
    patterns = (
        Pattern.number("grouped", r"\d{2}[ ]?-[ ]?\d{7}", 0.55, (9, 9)),
        Pattern.number("digits", r"\d{9}", 0.45, (9, 9), needs_context=True),
    )
    context_words = ("ein", "employer identification", "employer id", "fein", "tax id", "taxpayer id")

    is_valid = staticmethod(ein.is_valid)


# First letter never D, F, I, Q, U, V; second never D, F, I, O, Q, U, V; some pairs never issued.
_NINO = (
    rf"{CODE_START}(?P<prefix>[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[ ]?\d{{2}}[ ]?\d{{2}}[ ]?\d{{2}}"
    rf"[ ]?[A-D]{CODE_END}"
)
_NINO_NEVER = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


class UkNinoRecognizer(PatternRecognizer):
    name = "uk_nino"
    type = "uk_nino"
    languages = ("en",)
    patterns = (Pattern.text("nino", _NINO, 0.8),)
    context_words = ("national insurance", "ni number", "ni no", "nino", "nat ins")
    context_boost = 0.15

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        return None if match.group("prefix").upper() in _NINO_NEVER else pattern.score


class UkNhsRecognizer(_CheckedNumber):
    name = "uk_nhs"
    type = "uk_nhs"
    patterns = (
        Pattern.number("nhs", rf"\d{{3}}{_DASH}?\d{{3}}{_DASH}?\d{{4}}", 0.5, (10, 10), needs_context=True),
    )
    context_words = ("nhs", "nhs number", "nhs no", "health number", "chi number")
    context_boost = 0.4

    is_valid = staticmethod(nhs.is_valid)


# Surname (5, padded with 9), decade digit, month (+5 for women), day, year digit, initials (2,
# padded with 9), an arbitrary digit, two check letters.
_UK_LICENCE = (
    rf"{CODE_START}[A-Z9]{{5}}\d(?:[05][1-9]|[16][0-2])(?:0[1-9]|[12]\d|3[01])\d[A-Z9]{{2}}\d[A-Z]{{2}}"
    rf"(?:[ ]?\d{{2}})?{CODE_END}"
)


class UkDrivingLicenceRecognizer(PatternRecognizer):
    name = "uk_driving_licence"
    type = "uk_driving_licence"
    languages = ("en",)
    patterns = (Pattern.text("dvla", _UK_LICENCE, 0.75),)
    context_words = ("driving licence", "driver's license", "driver license", "licence number", "dl")
    context_boost = 0.2
