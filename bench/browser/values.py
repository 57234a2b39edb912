"""The values shown on the browser screens: personal data and decoys, drawn from a seed.

Names and addresses come from Faker's locales (ko_KR, ja_JP, fr_FR, en_US, en_GB) and a few
combinatorial lists of our own (French particles and double names, rare Korean surnames, US
military and PO box addresses, building tails), not from the detectors' lists
(`veil/detect/data/*.txt`, the census lists of the `names` package). Each name says whether
every word of it is in those lists (`listed` "in") or not ("out"), so in-list and out-of-list
recall can be reported apart. Checksummed numbers
(cards, IBANs, KR RRN, My Number) are valid and random; nothing belongs to anyone.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from faker import Faker
from stdnum import luhn
from stdnum.jp import in_ as jp_in
from stdnum.kr import rrn

from veil.detect.names import census_names, word_list

LANGUAGES: tuple[str, ...] = ("ko", "ja", "fr", "en")
PERSONAL_TYPES: tuple[str, ...] = (
    "person_name", "address", "date_of_birth", "bank_account", "phone", "email", "card", "iban",
    "kr_rrn", "jp_my_number", "us_ssn", "uk_nino", "avatar", "face",
)  # fmt: skip
DECOY_KINDS: tuple[str, ...] = (
    "order_no", "sku", "tracking_no", "support_phone", "invoice_no", "amount", "ui_label",
)  # fmt: skip
LOCALES = {"ko": ("ko_KR",), "ja": ("ja_JP",), "fr": ("fr_FR",), "en": ("en_US", "en_GB")}

_KO_RARE_SURNAMES = ("탁", "빈", "어", "편", "승", "봉", "사", "부", "가", "묵", "피", "감", "동방", "독고")
_FR_PARTICLES = ("de ", "Le ", "de La ", "du ", "d'", "Le ", "De ")
_KO_TAILS = ("{a}동 {b}호", "{c}층", "{a}동 {b}호 (아파트)", "지하 1층 {b}호")
_FR_TAILS = ("Bât. {L}, {c}e étage, apt {b}", "Résidence Les Tilleuls, apt {b}", "{c}e étage")
_EN_TAILS = ("Apt {b}", "Suite {b}", "Floor {c}, Unit {b}", "Bldg {L}, Room {b}")
_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"


@dataclass(frozen=True, slots=True)
class Value:
    """One value as drawn: its type (or decoy kind), its text, and for names whether every word
    is in the detectors' own lists ("in"/"out"; "" for other types)."""

    type: str
    text: str
    listed: str = ""


@cache
def _fakers(locale: str) -> Faker:
    return Faker(locale)


def _listed_latin(name: str) -> str:
    census_firsts, census_lasts = census_names()
    firsts = word_list("latin_first_names.txt") | census_firsts
    lasts = word_list("latin_surnames.txt") | census_lasts
    words = [w for w in re.split(r"[\s\-']+", name) if w and w[0].isupper() and w not in {"Le", "De", "La"}]
    ok = len(words) >= 2 and words[0] in firsts and all(w in lasts or w in firsts for w in words[1:])
    return "in" if ok else "out"


def _listed_ko(name: str) -> str:
    surnames = word_list("ko_surnames.txt")
    return "in" if name[:2] in surnames or name[:1] in surnames else "out"


def _listed_ja(surname: str, given: str) -> str:
    ok = surname in word_list("ja_surnames.txt") and given in word_list("ja_given.txt")
    return "in" if ok else "out"


class Values:
    """Draws values for one screen in one language; the same seed gives the same values."""

    def __init__(self, language: str, seed: int) -> None:
        self.language = language
        self.rng = random.Random(seed)
        self._currency = self.rng.choice(("$", "£"))

    def _faker(self) -> Faker:
        faker = _fakers(self.rng.choice(LOCALES[self.language]))
        faker.seed_instance(self.rng.randrange(1 << 30))
        return faker

    # ---------------------------------------------------------------- names

    def name(self) -> Value:
        f, r, lang = self._faker(), self.rng, self.language
        if lang == "ko":
            text = f.name()
            if r.random() < 0.3:
                text = r.choice(_KO_RARE_SURNAMES) + text[1:]
            return Value("person_name", text, _listed_ko(text))
        if lang == "ja":
            last, first = f.last_name(), f.first_name()
            sep = r.choice((" ", "", "\u3000"))
            return Value("person_name", f"{last}{sep}{first}", _listed_ja(last, first))
        first, last = f.first_name(), f.last_name()
        if lang == "fr" and r.random() < 0.35:
            last = r.choice(_FR_PARTICLES) + last if r.random() < 0.6 else f"{last}-{f.last_name()}"
        text = r.choice((f"{first} {last}", f"{first} {last}", f"{last.upper()} {first}"))
        return Value("person_name", text, _listed_latin(text))

    def given_name(self) -> Value:
        """The first name alone, as in a sign-off ("Thanks,\\nSarah") or a chat handle."""
        f = self._faker()
        text = f.first_name()
        if self.language == "ko":
            return Value("person_name", text, "out")
        if self.language == "ja":
            return Value("person_name", text, "in" if text in word_list("ja_given.txt") else "out")
        return Value("person_name", text, "in" if text in word_list("latin_first_names.txt") else "out")

    # ------------------------------------------------------------- addresses

    def address(self) -> Value:
        f, r, lang = self._faker(), self.rng, self.language
        fill = {"a": r.randrange(101, 120), "b": r.randrange(101, 2504), "c": r.randrange(2, 30),
                "L": r.choice("ABCDE")}  # fmt: skip
        if lang == "ko":
            text = f.address()
            if r.random() < 0.6:
                text += " " + r.choice(_KO_TAILS).format(**fill)
        elif lang == "ja":
            text = f.address()
            if r.random() < 0.5 and " " not in text:
                text += (
                    f" {f.city()}{r.choice(('ハイツ', 'マンション', 'レジデンス', 'ビル'))}{fill['b']}号室"
                )
            if r.random() < 0.5:
                text = f"〒{f.postcode()} {text}"
        elif lang == "fr":
            street, _, town = f.address().partition("\n")
            tail = r.choice(_FR_TAILS).format(**fill) + "\n" if r.random() < 0.5 else ""
            text = f"{street}\n{tail}{town}"
        else:
            text = self._en_address(f, fill)
        return Value("address", text)

    def _en_address(self, f: Faker, fill: dict[str, object]) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.2:
            unit = r.choice(("PSC {n}, Box {m}", "Unit {n} Box {m}", "CMR {n}, Box {m}"))
            post = f"{r.choice(('APO', 'FPO', 'DPO'))} {r.choice(('AE', 'AP', 'AA'))} "
            post += f"{r.randrange(9000, 96999):05d}"
            return unit.format(n=r.randrange(1000, 9999), m=r.randrange(100, 9999)) + "\n" + post
        if roll < 0.35:
            us = _fakers("en_US")
            us.seed_instance(r.randrange(1 << 30))
            return f"PO Box {r.randrange(10, 99999)}\n{us.city()}, {us.state_abbr()} {us.postcode()}"
        text = str(f.address())
        if r.random() < 0.4 and "Apt" not in text and "Suite" not in text:
            street, _, rest = text.partition("\n")
            text = f"{street}, {r.choice(_EN_TAILS).format(**fill)}\n{rest}"
        return text

    # ------------------------------------------------------ numbers and such

    def date_of_birth(self) -> Value:
        r = self.rng
        d = date(1940, 1, 1) + timedelta(days=r.randrange(0, 365 * 65))
        formats = {
            "ko": (f"{d:%Y.%m.%d}", f"{d:%Y-%m-%d}", f"{d.year}년 {d.month}월 {d.day}일", f"{d:%Y.%m.%d}."),
            "ja": (f"{d:%Y/%m/%d}", f"{d.year}年{d.month}月{d.day}日", f"{d:%Y-%m-%d}", f"{d:%Y.%m.%d}"),
            "fr": (f"{d:%d/%m/%Y}", f"{d:%Y-%m-%d}", f"{d:%d.%m.%Y}", f"{d:%Y.%m.%d}"),
            "en": (f"{d:%m/%d/%Y}", f"{d:%Y-%m-%d}", f"{d:%b} {d.day}, {d.year}", f"{d:%d/%m/%Y}"),
        }[self.language]
        return Value("date_of_birth", r.choice(formats))

    def phone(self) -> Value:
        r, n = self.rng, self.rng.randrange
        text = {
            "ko": lambda: r.choice(
                (
                    f"010-{n(2000, 9999)}-{n(1000, 9999)}",
                    f"02-{n(200, 999)}-{n(1000, 9999)}",
                    f"+82 10-{n(2000, 9999)}-{n(1000, 9999)}",
                )
            ),
            "ja": lambda: r.choice(
                (
                    f"090-{n(1000, 9999)}-{n(1000, 9999)}",
                    f"03-{n(1000, 9999)}-{n(1000, 9999)}",
                    f"080{n(1000, 9999)}{n(1000, 9999)}",
                )
            ),
            "fr": lambda: r.choice(
                (
                    f"06 {n(10, 99)} {n(10, 99)} {n(10, 99)} {n(10, 99)}",
                    f"+33 1 {n(10, 99)} {n(10, 99)} {n(10, 99)} {n(10, 99)}",
                    f"07.{n(10, 99)}.{n(10, 99)}.{n(10, 99)}.{n(10, 99)}",
                )
            ),
            "en": lambda: r.choice(
                (
                    f"({n(201, 989)}) 555-01{n(10, 99)}",
                    f"+1 {n(201, 989)}-555-01{n(10, 99)}",
                    f"+44 7700 900{n(100, 999)}",
                    f"020 7946 0{n(100, 999)}",
                )
            ),
        }[self.language]()
        return Value("phone", text)

    def email(self) -> Value:
        f = self._faker()
        local = f.user_name() if self.rng.random() < 0.5 else f.email().split("@")[0]
        return Value("email", f"{local}@{self.rng.choice(('example.com', 'example.org', 'example.net'))}")

    def card(self) -> Value:
        body = self.rng.choice(("4", "51", "55", "37", "6011")) + "".join(
            str(self.rng.randrange(10)) for _ in range(20)
        )
        body = body[: (14 if body.startswith("37") else 15)]
        digits = body + luhn.calc_check_digit(body)
        if len(digits) == 15:
            return Value("card", f"{digits[:4]} {digits[4:10]} {digits[10:]}")
        sep = self.rng.choice((" ", "-", " "))
        return Value("card", sep.join(digits[i : i + 4] for i in range(0, 16, 4)))

    def iban(self) -> Value:
        locale = "fr_FR" if self.language in ("fr", "ko", "ja") else self.rng.choice(("en_GB", "fr_FR"))
        f = _fakers(locale)
        f.seed_instance(self.rng.randrange(1 << 30))
        raw = f.iban()
        return Value("iban", " ".join(raw[i : i + 4] for i in range(0, len(raw), 4)))

    def bank_account(self) -> Value:
        r, n = self.rng, self.rng.randrange
        text = {
            "ko": lambda: (
                f"{r.choice(('국민', '신한', '우리', '하나', '농협'))} "
                + r.choice(
                    (
                        f"{n(100000, 999999)}-{n(10, 99)}-{n(100000, 999999)}",
                        f"{n(100, 999)}-{n(100, 999)}-{n(100000, 999999)}",
                    )
                )
            ),
            "ja": lambda: f"{r.choice(('普通', '当座', '普通預金'))} {n(1000000, 9999999)}",
            "fr": lambda: f"RIB {n(10000, 99999)} {n(10000, 99999)} {n(10**10, 10**11 - 1)} {n(10, 99)}",
            "en": lambda: r.choice(
                (
                    f"Checking {n(10**9, 10**10 - 1)}",
                    f"Savings {n(10**7, 10**8 - 1)}",
                    f"Sort code {n(10, 99)}-{n(10, 99)}-{n(10, 99)} Acc {n(10**7, 10**8 - 1)}",
                )
            ),
        }[self.language]()
        return Value("bank_account", text)

    def national_id(self) -> Value | None:
        """The language's national number: KR RRN, JP My Number, US SSN or UK NINO; None in French."""
        r, n = self.rng, self.rng.randrange
        if self.language == "ko":
            d = date(1950, 1, 1) + timedelta(days=n(0, 365 * 55))
            gender = r.choice("12") if d.year < 2000 else r.choice("34")
            body = f"{d:%y%m%d}{gender}{n(10000, 99999)}"
            return Value("kr_rrn", f"{body[:6]}-{body[6:]}{rrn.calc_check_digit(body)}")
        if self.language == "ja":
            body = f"{n(1, 10**11):011d}"
            digits = body + jp_in.calc_check_digit(body)
            return Value("jp_my_number", r.choice((digits, f"{digits[:4]} {digits[4:8]} {digits[8:]}")))
        if self.language == "en":
            if r.random() < 0.5:
                return Value("us_ssn", f"{n(101, 665)}-{n(10, 99)}-{n(1000, 9999)}")
            prefix = r.choice(_NINO_FIRST) + r.choice(_NINO_SECOND)
            if prefix in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
                prefix = "AB"
            return Value("uk_nino", f"{prefix} {n(10, 99)} {n(10, 99)} {n(10, 99)} {r.choice('ABCD')}")
        return None

    # ----------------------------------------------------------------- decoys

    def decoy(self, kind: str) -> Value:
        r, n, lang = self.rng, self.rng.randrange, self.language
        makers = {
            "order_no": lambda: r.choice(
                (
                    f"ORD-{n(2023, 2026)}-{n(100000, 999999)}",
                    f"#{n(100000, 999999)}",
                    f"{n(2024, 2026)}{n(1, 12):02d}{n(1, 28):02d}-{n(1000, 99999):05d}",
                )
            ),
            "sku": lambda: r.choice(
                (
                    f"SKU-{r.choice('ABCKMX')}{r.choice('BLRTZ')}-{n(1000, 9999)}-"
                    + r.choice(("XL", "M", "S", "BLK")),
                    f"{r.choice(('KB', 'TS', 'MG'))}{n(100, 999)}-{n(10, 99)}",
                )
            ),
            "tracking_no": lambda: r.choice(
                (
                    f"1Z{n(100, 999)}AA{n(10**9, 10**10 - 1)}",
                    f"{n(1000, 9999)}-{n(1000, 9999)}-{n(1000, 9999)}",
                    f"CP{n(10**8, 10**9 - 1)}FR",
                )
            ),
            "support_phone": lambda: {
                "ko": f"1588-{n(1000, 9999)}",
                "ja": f"0120-{n(100, 999)}-{n(100, 999)}",
                "fr": f"09 69 {n(10, 99)} {n(10, 99)} {n(10, 99)}",
                "en": f"1-800-555-01{n(10, 99)}",
            }[lang],
            "invoice_no": lambda: r.choice(
                (f"INV-{n(2023, 2026)}-{n(100, 99999):05d}", f"F{n(2024, 2026)}/{n(1000, 9999)}")
            ),
            "amount": lambda: {
                "ko": f"₩{n(1000, 9999999):,}",
                "ja": f"¥{n(100, 999999):,}",
                "fr": f"{n(1, 9999):,}".replace(",", " ") + f",{n(0, 99):02d} €",
                "en": self._currency + f"{n(1, 99999):,}.{n(0, 99):02d}",
            }[lang],
        }
        return Value(kind, makers[kind]())
