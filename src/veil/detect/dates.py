"""Dates of birth: any common KO / JA / FR / EN date form, reported ONLY next to a birth-date
label (in the text just before it, or in the caller's `context`). A date alone is not personal."""

from __future__ import annotations

import datetime
import re

from veil.detect.pattern import Pattern, PatternRecognizer

_I = re.IGNORECASE
_FR_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "février": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "août": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "décembre": 12,
    # Abbreviations as French UIs print them ("24 déc. 1997"); the dot is optional.
    "janv": 1,
    "févr": 2,
    "fevr": 2,
    "fév": 2,
    "avr": 4,
    "juil": 7,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "déc": 12,
    "dec": 12,
}
_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EN = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_FR = "(?P<mon>" + "|".join(sorted(_FR_MONTHS, key=len, reverse=True)) + r")\.?"
# First year of each Japanese era: era year N is base + N - 1 (元年 is year 1).
_ERAS = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
_ERA = "(?P<era>" + "|".join(_ERAS) + r")[ ]?(?P<ey>\d{1,2}|元)"
_Y, _M, _D = r"(?P<y>\d{4})", r"(?P<m>\d{1,2})", r"(?P<d>\d{1,2})"
_ND, _NA = r"(?<!\d)", r"(?!\d)"
_EARLIEST_YEAR = 1900


def _p(name: str, regex: str, score: float = 0.7, flags: int = 0) -> Pattern:
    return Pattern.text(name, regex, score, flags=flags, needs_context=True)


class DateOfBirthRecognizer(PatternRecognizer):
    name = "date_of_birth"
    type = "date_of_birth"
    patterns = (
        _p("ymd", rf"{_ND}{_Y}[ ]?(?P<sep>[-./])[ ]?{_M}[ ]?(?P=sep)[ ]?{_D}{_NA}"),
        _p("dmy", rf"{_ND}(?P<a>\d{{1,2}})[ ]?(?P<sep>[-./])[ ]?(?P<b>\d{{1,2}})[ ]?(?P=sep)[ ]?{_Y}{_NA}"),
        _p("ko", rf"{_ND}{_Y}[ ]?년[ ]?{_M}[ ]?월[ ]?{_D}[ ]?일"),
        _p("ja", rf"{_ND}{_Y}[ ]?年[ ]?{_M}[ ]?月[ ]?{_D}[ ]?日"),
        _p("ja-era", rf"{_ERA}[ ]?年[ ]?{_M}[ ]?月[ ]?{_D}[ ]?日"),
        _p("fr", rf"{_ND}{_D}(?:er)?[ ]?{_FR}[ ]?{_Y}{_NA}", flags=_I),
        _p("en-mdy", rf"(?<![A-Za-z]){_EN}[ ]?{_D}(?:st|nd|rd|th)?,?[ ]?{_Y}{_NA}", flags=_I),
        _p("en-dmy", rf"{_ND}{_D}(?:st|nd|rd|th)?[ ]?{_EN},?[ ]?{_Y}{_NA}", flags=_I),
        _p("compact", rf"{_ND}(?P<y>(?:19|20)\d{{2}})(?P<m>\d{{2}})(?P<d>\d{{2}}){_NA}", 0.6),
    )
    context_words = (
        "생년월일",
        "생일",
        "출생일",
        "生年月日",
        "誕生日",
        "出生日",
        "date de naissance",
        "né le",
        "née le",
        "né(e) le",
        "naissance",
        "dob",
        "d.o.b",
        "date of birth",
        "birth date",
        "birthdate",
        "birthday",
        "born",
    )
    negative_words = (
        "가입일",
        "등록일",
        "주문일",
        "발급일",
        "작성일",
        "登録日",
        "発行日",
        "注文日",
        "作成日",
        "date de commande",
        "date d'émission",
        "créé le",
        "order date",
        "issued",
        "created",
        "updated",
    )

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        for year, month, day in _readings(match, pattern.name):
            if _plausible_birth_date(year, month, day):
                return pattern.score
        return None


# A person listed in a table is this many years old at least (a column of such dates beside names
# is a column of birth dates; see `veil.locate.birth_date_columns`).
MIN_LISTED_AGE_YEARS = 14


def listed_birth_date(cell: str) -> bool:
    """Whether a table cell holds one date, and nothing else, that could be a listed person's
    birth date: a real date from 1900 to `MIN_LISTED_AGE_YEARS` years ago. Korean lists end a
    dotted date with a dot ("1981.01.26.")."""
    text = cell.strip()
    text = text[:-1] if text.endswith(".") and text[:4].isdigit() else text
    latest = datetime.date.today().year - MIN_LISTED_AGE_YEARS
    for pattern in DateOfBirthRecognizer.patterns:
        match = pattern.regex.fullmatch(text)
        if match is not None and any(
            _plausible_birth_date(y, m, d) and y <= latest for y, m, d in _readings(match, pattern.name)
        ):
            return True
    return False


def _readings(match: re.Match[str], kind: str) -> list[tuple[int, int, int]]:
    """(year, month, day) readings of a match; a numeric d/m/y is read both ways."""
    g = match.groupdict()
    if kind == "dmy":
        a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
        return [(y, b, a), (y, a, b)]
    if kind == "ja-era":
        year = _ERAS[g["era"]] + (1 if g["ey"] == "元" else int(g["ey"])) - 1
        return [(year, int(g["m"]), int(g["d"]))]
    if kind == "fr":
        return [(int(g["y"]), _FR_MONTHS[g["mon"].casefold()], int(g["d"]))]
    if kind.startswith("en"):
        return [(int(g["y"]), _EN_MONTHS.index(g["mon"][:3].casefold()) + 1, int(g["d"]))]
    return [(int(g["y"]), int(g["m"]), int(g["d"]))]


def _plausible_birth_date(year: int, month: int, day: int) -> bool:
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return False
    return year >= _EARLIEST_YEAR and date <= datetime.date.today()
