"""Seeded generators of obviously synthetic personal values and of decoys that must stay visible.

Checksummed identifiers are made valid with python-stdnum, phone numbers are checked with
phonenumbers, so a detector that validates checksums sees them as real. Decoys (order numbers,
prices, the merchant's own support line, ...) are re-drawn until no checksum validator accepts them.
Values live in memory only; never log them.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.fr import nir
from stdnum.jp import in_ as jp_in
from stdnum.kr import brn, rrn

from veil.exceptions import VeilError

LANGUAGES: tuple[str, ...] = ("ko", "ja", "fr", "en")
STRUCTURED_TYPES: tuple[str, ...] = (
    "email",
    "phone",
    "card",
    "iban",
    "bank_account",
    "kr_rrn",
    "kr_frn",
    "kr_brn",
    "kr_passport",
    "kr_driver_licence",
    "jp_my_number",
    "fr_nir",
    "ip_address",
    "date_of_birth",
)
NAME_TYPE = "person_name"  # in the truth, but scored apart from the structured types
DECOY_TYPES: tuple[str, ...] = (
    "order_number",
    "sku",
    "price",
    "tracking_number",
    "support_phone",
    "date",
    "invoice_number",
    "time",
)
REGION = {"ko": "KR", "ja": "JP", "fr": "FR", "en": "US"}

# Which structured types a back office in each language plausibly shows.
TYPES_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "ko": ("email", "phone", "card", "bank_account", "kr_rrn", "kr_frn", "kr_brn", "kr_passport",
           "kr_driver_licence", "ip_address", "date_of_birth"),
    "ja": ("email", "phone", "card", "bank_account", "jp_my_number", "ip_address", "date_of_birth"),
    "fr": ("email", "phone", "card", "iban", "bank_account", "fr_nir", "ip_address", "date_of_birth"),
    "en": ("email", "phone", "card", "iban", "bank_account", "ip_address", "date_of_birth"),
}  # fmt: skip

LABELS: dict[str, tuple[str, str, str, str]] = {  # ko, ja, fr, en
    "email": ("이메일", "メール", "E-mail", "Email"),
    "phone": ("연락처", "電話番号", "Téléphone", "Phone"),
    "card": ("카드번호", "カード番号", "N° de carte", "Card number"),
    "iban": ("IBAN", "IBAN", "IBAN", "IBAN"),
    "bank_account": ("입금계좌", "口座 普通", "RIB", "Account no."),
    "kr_rrn": ("주민등록번호", "住民登録番号", "N° RRN", "RRN"),
    "kr_frn": ("외국인등록번호", "外国人登録番号", "N° étranger", "Alien reg. no."),
    "kr_brn": ("사업자등록번호", "事業者登録番号", "N° entreprise", "Business reg. no."),
    "kr_passport": ("여권번호", "旅券番号", "Passeport", "Passport no."),
    "kr_driver_licence": ("운전면허번호", "運転免許番号", "Permis", "Driver licence"),
    "jp_my_number": ("마이넘버", "マイナンバー", "My Number", "My Number"),
    "fr_nir": ("NIR", "NIR", "N° de sécurité sociale", "French NIR"),
    "ip_address": ("접속 IP", "接続IP", "Adresse IP", "IP address"),
    "date_of_birth": ("생년월일", "生年月日", "Date de naissance", "Date of birth"),
    "person_name": ("고객명", "氏名", "Nom", "Name"),
    "order_number": ("주문번호", "注文番号", "N° de commande", "Order no."),
    "sku": ("상품코드", "商品コード", "Référence", "SKU"),
    "price": ("금액", "金額", "Montant", "Amount"),
    "tracking_number": ("운송장번호", "追跡番号", "N° de suivi", "Tracking no."),
    "support_phone": ("고객센터", "お客様センター", "Service client", "Customer support"),
    "date": ("주문일", "注文日", "Date de commande", "Order date"),
    "invoice_number": ("세금계산서 번호", "請求書番号", "N° de facture", "Invoice no."),
    "time": ("처리시각", "受付時刻", "Heure", "Time"),
}

_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
_PHONE_CHARS = re.compile(r"^[+0-9０-９()\s.\-－]+$")
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


@dataclass(frozen=True, slots=True)
class FakeValue:
    """One generated value. `label` is the field label in the screen's language: context shown
    next to the value, never part of its truth box."""

    type: str
    language: str
    text: str
    label: str
    decoy: bool = False


def label_for(type_: str, language: str) -> str:
    return LABELS[type_][LANGUAGES.index(language)]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _compact(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text)


def is_valid_phone(text: str, language: str) -> bool:
    if not _PHONE_CHARS.match(text):
        return False  # phonenumbers would read letters as a vanity number; we only want digits
    try:
        number = phonenumbers.parse(text, REGION[language])
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def _is_card(text: str) -> bool:
    digits = _compact(text)
    return digits.isdigit() and 13 <= len(digits) <= 19 and bool(luhn.is_valid(digits))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_rrn(text: str, gender_digits: str) -> bool:
    return bool(rrn.is_valid(text)) and rrn.compact(text)[6] in gender_digits


# Validators with a checksum or a strict grammar; decoys must pass none of them.
CHECKSUM_VALIDATORS: dict[str, Callable[[str, str], bool]] = {
    "email": lambda t, _lang: bool(_EMAIL_RE.match(t)),
    "phone": is_valid_phone,
    "card": lambda t, _lang: _is_card(t),
    "iban": lambda t, _lang: bool(std_iban.is_valid(t)),
    "kr_rrn": lambda t, _lang: _is_rrn(t, "1234"),
    "kr_frn": lambda t, _lang: _is_rrn(t, "5678"),
    "kr_brn": lambda t, _lang: bool(brn.is_valid(t)),
    "jp_my_number": lambda t, _lang: bool(jp_in.is_valid(t)),
    "fr_nir": lambda t, _lang: bool(nir.is_valid(t)),
    "ip_address": lambda t, _lang: _is_ip(t),
}

# Format-only grammars for the types that have no checksum.
FORMAT_PATTERNS: dict[str, re.Pattern[str]] = {
    "bank_account": re.compile(r"^[0-9][0-9 \-]{5,30}[0-9]$"),
    "kr_passport": re.compile(r"^[MSRGD][0-9]{3}[A-Z0-9][0-9]{4}$"),
    "kr_driver_licence": re.compile(r"^[0-9]{2}-[0-9]{2}-[0-9]{6}-[0-9]{2}$"),
    "date_of_birth": re.compile(r"^[0-9A-Za-zéû年月日년월일/.,\- ]{8,20}$"),
}


def validate(type_: str, text: str, language: str) -> bool:
    """Whether `text` is a well-formed value of `type_` (checksum where one exists)."""
    if type_ in CHECKSUM_VALIDATORS:
        return CHECKSUM_VALIDATORS[type_](text, language)
    return bool(FORMAT_PATTERNS[type_].match(text))


def accepted_by_any_checksum(text: str, language: str) -> str | None:
    """The first checksum type that accepts `text`, or None."""
    for type_, check in CHECKSUM_VALIDATORS.items():
        if check(text, language):
            return type_
    return None


class FakeData:
    """Seeded generator: the same seed gives the same values, in the same order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # -- public -------------------------------------------------------------------------------
    def value(self, type_: str, language: str) -> FakeValue:
        """A valid personal value of a structured type (or `person_name`)."""
        if type_ == NAME_TYPE:
            return self.name(language)
        make = getattr(self, f"_{type_}", None)
        if type_ not in STRUCTURED_TYPES or make is None:
            raise VeilError(f"unknown synthetic type: {type_}")
        for _ in range(200):
            text = make(language)
            if validate(type_, text, language):
                return FakeValue(type_, language, text, label_for(type_, language))
        raise VeilError(f"could not generate a valid {type_} for {language}")

    def decoy(self, type_: str, language: str) -> FakeValue:
        """A value that looks like data but is not personal; must stay visible."""
        make = getattr(self, f"_decoy_{type_}", None)
        if type_ not in DECOY_TYPES or make is None:
            raise VeilError(f"unknown decoy type: {type_}")
        for _ in range(200):
            text = make(language)
            # The support line is a real phone number on purpose: it is the merchant's, not a person's.
            if type_ == "support_phone" or accepted_by_any_checksum(text, language) is None:
                return FakeValue(type_, language, text, label_for(type_, language), decoy=True)
        raise VeilError(f"could not generate a decoy {type_} for {language}")

    def name(self, language: str) -> FakeValue:
        first, last = _NAMES[language]
        given, family = self.rng.choice(first), self.rng.choice(last)
        text = f"{family}{given}" if language in ("ko", "ja") else f"{given} {family}"
        return FakeValue(NAME_TYPE, language, text, label_for(NAME_TYPE, language))

    def any_value(self, language: str) -> FakeValue:
        return self.value(self.rng.choice(TYPES_BY_LANGUAGE[language]), language)

    def any_decoy(self, language: str) -> FakeValue:
        return self.decoy(self.rng.choice(DECOY_TYPES), language)

    # -- structured types ---------------------------------------------------------------------
    def _email(self, language: str) -> str:
        stems = {"ko": ("kim.demo", "lee.test", "park.sample"), "ja": ("yamada.demo", "sato.test"),
                 "fr": ("jean.exemple", "marie.test"),
                 "en": ("jane.doe", "john.sample")}[language]  # fmt: skip
        domain = self.rng.choice(("example.com", "example.org", "example.net", "mail.example.com"))
        return f"{self.rng.choice(stems)}{self.rng.randrange(10, 999)}@{domain}"

    def _phone(self, language: str) -> str:
        r = self.rng
        groups, intl = {
            "ko": (["010", r.choice("23456789") + _digits(r, 3), _digits(r, 4)], "+82"),
            "ja": ([r.choice(("090", "080")), r.choice("123456789") + _digits(r, 3), _digits(r, 4)], "+81"),
            "fr": (["0" + r.choice("67")] + [_digits(r, 2) for _ in range(4)], "+33"),
            "en": ([r.choice(("201", "212", "415", "617")), "555", "01" + _digits(r, 2)], "+1"),
        }[language]
        if language == "ko" and r.random() < 0.25:
            groups = ["02", r.choice("23456789") + _digits(r, 2), _digits(r, 4)]
        if language == "ja" and r.random() < 0.25:
            groups = ["03", r.choice("3456") + _digits(r, 3), _digits(r, 4)]
        return self._join_phone(groups, intl, language)

    def _join_phone(self, groups: list[str], intl: str, language: str) -> str:
        r = self.rng
        style = r.choice(("hyphen", "hyphen", "dot", "space", "none", "intl", "fullwidth"))
        if style == "fullwidth" and language not in ("ko", "ja"):
            style = "hyphen"  # full-width digits are an East Asian habit (and Latin fonts lack them)
        if style == "intl":
            first = groups[0][1:] if groups[0].startswith("0") else groups[0]
            return f"{intl} " + " ".join([first, *groups[1:]])
        if language == "en" and style in ("hyphen", "space"):
            return f"({groups[0]}) {groups[1]}-{groups[2]}"
        sep = {"hyphen": "-", "dot": ".", "space": " ", "none": "", "fullwidth": "-"}[style]
        if language == "fr" and style == "hyphen":
            sep = " "
        text = sep.join(groups)
        return text.translate(_FULLWIDTH) if style == "fullwidth" else text

    def _card(self, language: str) -> str:
        r = self.rng
        prefix = r.choice(("4", "51", "53", "55", "3528" if language == "ja" else "4"))
        body = prefix + _digits(r, 15 - len(prefix))
        number = body + luhn.calc_check_digit(body)
        sep = r.choice((" ", "-", "-", ""))
        return sep.join(number[i : i + 4] for i in range(0, 16, 4))

    def _iban(self, language: str) -> str:
        r = self.rng
        country = "FR" if language == "fr" else r.choice(("DE", "GB", "FR"))
        if country == "FR":
            bban = self._rib_digits()
        elif country == "DE":
            bban = _digits(r, 18)
        else:
            bban = r.choice(("NWBK", "BARC", "MIDL")) + _digits(r, 14)
        raw = country + "00" + bban
        number = country + std_iban.calc_check_digits(raw) + bban
        return str(std_iban.format(number)) if r.random() < 0.8 else number

    def _rib_digits(self) -> str:
        bank, branch, account = _digits(self.rng, 5), _digits(self.rng, 5), _digits(self.rng, 11)
        # The French RIB key; python-stdnum has no module for it.
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        return f"{bank}{branch}{account}{key:02d}"

    def _bank_account(self, language: str) -> str:
        r = self.rng
        if language == "ko":
            shape = r.choice(((3, 3, 6), (4, 3, 6), (6, 2, 6)))
            return "-".join(_digits(r, n) for n in shape)
        if language == "ja":
            return r.choice("123456789") + _digits(r, 6)
        if language == "fr":
            rib = self._rib_digits()
            return f"{rib[:5]} {rib[5:10]} {rib[10:21]} {rib[21:]}"
        return r.choice("123456789") + _digits(r, r.choice((7, 9, 11)))

    def _rrn_like(self, gender_19xx: str, gender_20xx: str) -> str:
        r = self.rng
        year = r.randrange(1950, 2006)
        gender = r.choice(gender_19xx if year < 2000 else gender_20xx)
        body = f"{year % 100:02d}{r.randrange(1, 13):02d}{r.randrange(1, 29):02d}{gender}"
        body += f"{r.randrange(0, 96):02d}" + _digits(r, 3)
        return f"{body[:6]}-{body[6:]}{rrn.calc_check_digit(body)}"

    def _kr_rrn(self, language: str) -> str:
        return self._rrn_like("12", "34")

    def _kr_frn(self, language: str) -> str:
        return self._rrn_like("56", "78")

    def _kr_brn(self, language: str) -> str:
        # python-stdnum has no calc for BRN: draw the body and let its validator pick the check digit.
        body = f"{self.rng.randrange(101, 999)}{self.rng.randrange(1, 99):02d}" + _digits(self.rng, 4)
        for check in "0123456789":
            if brn.is_valid(body + check):
                return f"{body[:3]}-{body[3:5]}-{body[5:]}{check}"
        return body + "0"  # rejected by validate(); the caller draws again

    def _kr_passport(self, language: str) -> str:
        r = self.rng
        if r.random() < 0.5:
            return "M" + _digits(r, 8)
        return f"M{_digits(r, 3)}{r.choice('ABCDEFGH')}{_digits(r, 4)}"

    def _kr_driver_licence(self, language: str) -> str:
        r = self.rng
        return f"{r.randrange(11, 29)}-{r.randrange(0, 25):02d}-{_digits(r, 6)}-{_digits(r, 2)}"

    def _jp_my_number(self, language: str) -> str:
        body = self.rng.choice("123456789") + _digits(self.rng, 10)
        number = body + jp_in.calc_check_digit(body)
        return self.rng.choice((" ", "-", "")).join(number[i : i + 4] for i in range(0, 12, 4))

    def _fr_nir(self, language: str) -> str:
        r = self.rng
        body = f"{r.choice('12')}{r.randrange(50, 100):02d}{r.randrange(1, 13):02d}"
        body += f"{r.choice((1, 13, 33, 44, 59, 69, 75, 78, 92, 93)):02d}{r.randrange(1, 990):03d}"
        body += f"{r.randrange(1, 999):03d}"
        number = body + nir.calc_check_digits(body)
        return str(nir.format(number)) if r.random() < 0.7 else number

    def _ip_address(self, language: str) -> str:
        r = self.rng
        if r.random() < 0.15:
            return f"2001:db8::{r.randrange(1, 0xFFFF):x}"
        net = r.choice(("192.0.2", "198.51.100", "203.0.113"))  # RFC 5737 documentation ranges
        return f"{net}.{r.randrange(1, 255)}"

    def _date_of_birth(self, language: str) -> str:
        return self._date_text(language, self.rng.randrange(1950, 2006))

    def _date_text(self, language: str, year: int) -> str:
        r = self.rng
        m, d = r.randrange(1, 13), r.randrange(1, 29)
        month_fr = ("janv.", "févr.", "mars", "avril", "mai", "juin", "juil.", "août", "sept.", "oct.",
                    "nov.", "déc.")[m - 1]  # fmt: skip
        month_en = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[m - 1]
        choices = {
            "ko": (f"{year}-{m:02d}-{d:02d}", f"{year}.{m:02d}.{d:02d}", f"{year}년 {m}월 {d}일"),
            "ja": (f"{year}/{m:02d}/{d:02d}", f"{year}年{m}月{d}日", f"{year}-{m:02d}-{d:02d}"),
            "fr": (f"{d:02d}/{m:02d}/{year}", f"{d:02d}.{m:02d}.{year}", f"{d} {month_fr} {year}"),
            "en": (f"{m:02d}/{d:02d}/{year}", f"{month_en} {d}, {year}", f"{year}-{m:02d}-{d:02d}"),
        }[language]
        return r.choice(choices)

    # -- decoys -------------------------------------------------------------------------------
    def _decoy_order_number(self, language: str) -> str:
        return f"ORD-{self.rng.randrange(2023, 2027)}-{_digits(self.rng, 6)}"

    def _decoy_sku(self, language: str) -> str:
        r = self.rng
        return f"SKU-{REGION[language]}-{_digits(r, 5)}-{r.choice('ABCDEFGH')}"

    def _decoy_price(self, language: str) -> str:
        r = self.rng
        if language == "ko":
            amount = r.randrange(10, 2000) * 100
            return r.choice((f"₩{amount:,}", f"{amount:,}원"))
        if language == "ja":
            amount = r.randrange(100, 50000)
            return r.choice((f"¥{amount:,}", f"{amount:,}円"))
        euros, cents = r.randrange(1, 999), r.randrange(100)
        if language == "fr":
            return f"{euros},{cents:02d} €"
        return f"${euros}.{cents:02d}"

    def _decoy_tracking_number(self, language: str) -> str:
        r = self.rng
        if language == "en":
            return f"1Z{_digits(r, 3)}AA1{_digits(r, 10)}"
        if language == "fr":
            return f"6A{_digits(r, 11)}"
        return f"TRK {_digits(r, 4)}-{_digits(r, 4)}-{_digits(r, 4)}"

    def _decoy_support_phone(self, language: str) -> str:
        r = self.rng
        return {
            "ko": f"{r.choice(('1588', '1544', '1577'))}-{_digits(r, 4)}",
            "ja": f"0120-{r.randrange(100, 999)}-{_digits(r, 3)}",
            "fr": f"09 69 {_digits(r, 2)} {_digits(r, 2)} {_digits(r, 2)}",
            "en": f"1-800-555-01{_digits(r, 2)}",
        }[language]

    def _decoy_date(self, language: str) -> str:
        return self._date_text(language, self.rng.randrange(2023, 2027))

    def _decoy_invoice_number(self, language: str) -> str:
        prefix = {"ko": "TAX", "ja": "INV", "fr": "FAC", "en": "INV"}[language]
        return f"{prefix}-{self.rng.randrange(2023, 2027)}-{_digits(self.rng, 5)}"

    def _decoy_time(self, language: str) -> str:
        h, m = self.rng.randrange(8, 20), self.rng.randrange(60)
        return {
            "ko": f"오후 {h - 12}:{m:02d}" if h > 12 else f"{h:02d}:{m:02d}",
            "ja": f"{h}時{m:02d}分",
            "fr": f"{h}h{m:02d}",
            "en": f"{(h - 1) % 12 + 1}:{m:02d} {'PM' if h >= 12 else 'AM'}",
        }[language]


_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (given names, family names)
    "ko": (("가람", "나래", "다솜", "보람", "한결", "새롬", "길동"), ("김", "이", "박", "최", "정", "홍")),
    "ja": (("太郎", "花子", "一郎", "次郎", "桜子"), ("山田", "佐藤", "鈴木", "高橋", "田中")),
    "fr": (("Jean", "Marie", "Camille", "Lucas", "Léa"), ("Dupont", "Durand", "Exemple", "Testeur")),
    "en": (("John", "Jane", "Alex", "Sam", "Robin"), ("Doe", "Roe", "Sample", "Tester")),
}
