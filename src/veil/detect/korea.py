"""Korean identifiers: resident (RRN) and foreigner (FRN) registration numbers, business
registration numbers (BRN), passports and driver's licences."""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.kr import brn, rrn

from veil.detect.contact import DECOY_WORDS
from veil.detect.pattern import CODE_END, CODE_START, SEP, Pattern, PatternRecognizer

_S = SEP
# Only 1-4, 9, 0 (residents) or 5-8 (foreigners) may follow the birth date.
_RRN_GROUPED = rf"\d{{6}}{_S}\d{{7}}"
_RRN_DIGITS = r"\d{13}"
_CHECKSUM_BONUS = 0.2


class _RegistrationNumber(PatternRecognizer):
    """YYMMDD-GNNNNNN. The mod-11 check digit was dropped for numbers issued from October 2020,
    so a failed checksum never rejects a number; a passing one is extra evidence."""

    gender_digits = ""
    patterns = (
        Pattern.number("grouped", _RRN_GROUPED, 0.75, (13, 13), partial=True),
        Pattern.number("digits", _RRN_DIGITS, 0.5, (13, 13), partial=True),
    )
    negative_words = DECOY_WORDS

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        number = re.sub(r"\D", "", match.group(0))
        if number[6] not in self.gender_digits:
            return None
        try:
            rrn.get_birth_date(number, allow_future=False)
        except ValidationError:
            return None
        return pattern.score + (_CHECKSUM_BONUS if rrn.is_valid(number) else 0.0)


class KrRrnRecognizer(_RegistrationNumber):
    name = "kr_rrn"
    type = "kr_rrn"
    gender_digits = "123490"
    context_words = ("주민등록번호", "주민번호", "주민등록", "resident registration", "rrn")


class KrFrnRecognizer(_RegistrationNumber):
    name = "kr_frn"
    type = "kr_frn"
    gender_digits = "5678"
    context_words = (
        "외국인등록번호",
        "외국인번호",
        "외국인등록",
        "등록번호",
        "alien registration",
        "foreign registration",
        "arc",
        "frn",
    )


class KrBrnRecognizer(PatternRecognizer):
    """NNN-NN-NNNNN. python-stdnum checks the office, type and serial fields only; it has no
    check digit for this number, so a shape match scores low and a label matters."""

    name = "kr_brn"
    type = "kr_brn"
    patterns = (
        Pattern.number("grouped", rf"\d{{3}}{_S}\d{{2}}{_S}\d{{5}}", 0.55, (10, 10)),
        Pattern.number("digits", r"\d{10}", 0.5, (10, 10), needs_context=True),
    )
    context_words = (
        "사업자등록번호",
        "사업자번호",
        "사업자 등록번호",
        "사업자",
        "등록번호",
        "business registration",
        "brn",
        "事業者登録番号",
    )
    negative_words = DECOY_WORDS
    context_boost = 0.35

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        return pattern.score if brn.is_valid(match.group(0).replace(".", "")) else None


class KrPassportRecognizer(PatternRecognizer):
    """M + 8 digits (before December 2021) or M + 3 digits + letter + 4 digits; the first letter
    is the passport type (M multiple, S single, R travel certificate, G/O official, D diplomatic)."""

    name = "kr_passport"
    type = "kr_passport"
    patterns = (
        Pattern.text("new", rf"{CODE_START}[MSRGOD][ ]?\d{{3}}[A-Z]\d{{4}}{CODE_END}", 0.55),
        Pattern.text("old", rf"{CODE_START}[MSRGOD][ ]?\d{{8}}{CODE_END}", 0.5, needs_context=True),
    )
    context_words = ("여권", "여권번호", "passport", "passeport", "旅券", "パスポート")
    context_boost = 0.35


class KrDriverLicenceRecognizer(PatternRecognizer):
    """Region (11-28) - year - serial - check: NN-NN-NNNNNN-NN."""

    name = "kr_driver_licence"
    type = "kr_driver_licence"
    patterns = (
        Pattern.number("grouped", rf"\d{{2}}{_S}\d{{2}}{_S}\d{{6}}{_S}\d{{2}}", 0.6, (12, 12), partial=True),
        Pattern.number("digits", r"\d{12}", 0.5, (12, 12), needs_context=True),
    )
    context_words = (
        "운전면허",
        "운전면허번호",
        "면허번호",
        "driver",
        "driver's licence",
        "driver's license",
        "licence",
        "license",
        "運転免許",
    )
    negative_words = DECOY_WORDS
    context_boost = 0.3

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        region = int(match.group(0)[:2])
        return pattern.score if 11 <= region <= 28 else None
