"""Contact details: e-mail addresses, phone numbers (KR / JP / FR / US and international forms,
checked by phonenumbers) and IP addresses (checked by the stdlib `ipaddress`)."""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

from veil.detect.labels import label_key
from veil.detect.pattern import SEP, Pattern, PatternRecognizer

# Labels and decoy labels shared by several recognizers; each recognizer adds its own.
DECOY_WORDS = (
    "고객센터",
    "お客様センター",
    "カスタマーサポート",
    "service client",
    "customer support",
    "support line",
    "helpdesk",
    "주문번호",
    "주문 번호",
    "송장번호",
    "운송장",
    "상품코드",
    "注文番号",
    "伝票番号",
    "追跡番号",
    "お問い合わせ番号",
    "商品コード",
    "n° de commande",
    "numéro de commande",
    "n° commande",
    "n° de facture",
    "numéro de facture",
    "n° de suivi",
    "numéro de suivi",
    "colis",
    "réf",
    "ref",
    "order no",
    "order number",
    "order #",
    "order id",
    "order date",
    "date de commande",
    "주문일",
    "주문일자",
    "注文日",
    "invoice",
    "tracking",
    "sku",
    "item no",
)

_DECOY_LABELS = frozenset(label_key(word) for word in DECOY_WORDS)


def is_decoy_label(text: str) -> bool:
    """Whether a whole cell is a business field's label ("N° de facture", "주문번호"): it is no
    one's data, and it labels the cell beside it, not a cell farther along the row."""
    return label_key(text) in _DECOY_LABELS


_S = SEP


# Letters and digits of an address: ASCII, and the accented Latin letters of internationalised
# addresses (RFC 6531 local parts, IDN domains: "chloé.okonkwo@example.com", "anna@bücher.de").
# Not every script's letters: a Korean or Japanese word written against an address ("메일taro@")
# is no part of it.
_EL = "A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"


class EmailRecognizer(PatternRecognizer):
    name = "email"
    type = "email"
    # OCR may put a space on either side of the '@'; never around dots, where it would swallow the
    # next word of a sentence.
    patterns = (
        Pattern.text(
            "email",
            rf"(?<![{_EL}._%+-])[{_EL}][{_EL}._%+-]*[ ]?@[ ]?"
            rf"[{_EL}](?:[{_EL}-]*[{_EL}])?(?:\.[{_EL}](?:[{_EL}-]*[{_EL}])?)*"
            r"\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
            0.9,
        ),
        # Being typed: a local part, the '@' and the start of the domain ("jane.doe@exampl",
        # "jane.doe@"): the finished address would be masked, its first keystrokes must be too.
        # An @-handle ("@minsu") has no local part before its '@', so it is no address.
        Pattern.text(
            "email-typing",
            rf"(?<![{_EL}._%+-])[{_EL}][{_EL}._%+-]+@(?:[{_EL}][{_EL}.-]*)?"
            rf"(?![{_EL}@])",
            0.6,
        ),
    )
    needs_digit = False
    context_words = ("이메일", "메일", "メール", "e-mail", "email", "courriel", "mail", "adresse")

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        local, _, domain = match.group(0).partition("@")
        local = local.rstrip()
        if ".." in local or local.endswith("."):
            return None
        if pattern.name == "email-typing" and (
            local.casefold() in _SYSTEM_ACCOUNTS or domain.casefold().startswith("localhost")
        ):
            return None  # a shell prompt's or a DSN's "postgres@localhost", nobody's address
        return pattern.score


_SYSTEM_ACCOUNTS = frozenset(
    {"root", "admin", "user", "postgres", "ubuntu", "debian", "git", "www-data", "pi", "mysql", "oracle"}
)


# phonenumbers regions tried for numbers written with the national trunk prefix 0.
_TRUNK_REGIONS = ("KR", "JP", "FR", "GB")


class PhoneRecognizer(PatternRecognizer):
    name = "phone"
    type = "phone"
    patterns = (
        Pattern.number(
            "international",
            rf"\+[ ]?[1-9]\d{{0,2}}(?:{_S}?\(0\))?(?:{_S}?\(?\d{{1,5}}\)?){{1,6}}",
            0.8,
            (8, 16),
            partial=True,
        ),
        Pattern.number(
            "national-grouped",
            rf"(?:\(0\d{{0,4}}\){_S}?|0\d{{0,4}}{_S})\d{{1,5}}(?:{_S}\d{{1,5}}){{0,3}}",
            0.7,
            (9, 11),
            partial=True,
        ),
        # Japanese style: 03(1234)5678.
        Pattern.number("national-paren", r"0\d{1,4}\(\d{1,4}\)\d{3,4}", 0.7, (9, 11), partial=True),
        Pattern.number(
            "us-grouped",
            rf"(?:1{_S}?)?(?:\([2-9]\d{{2}}\){_S}?|[2-9]\d{{2}}{_S})[2-9]\d{{2}}{_S}\d{{4}}",
            0.65,
            (10, 11),
            partial=True,
        ),
        Pattern.number("national", r"0\d{8,10}", 0.55, (9, 11)),
        Pattern.number("us", r"1?[2-9]\d{2}[2-9]\d{6}", 0.5, (10, 11), needs_context=True),
    )
    context_words = (
        "전화",
        "전화번호",
        "연락처",
        "휴대폰",
        "핸드폰",
        "휴대전화",
        "팩스",
        "電話",
        "電話番号",
        "携帯",
        "連絡先",
        "tel",
        "tél",
        "téléphone",
        "telephone",
        "portable",
        "mobile",
        "phone",
        "cell",
        "fax",
        "contact",
    )
    negative_words = DECOY_WORDS

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        value = match.group(0)
        if pattern.name == "international":
            regions: tuple[str | None, ...] = (None,)
        elif pattern.name.startswith("us"):
            regions = ("US",)
        else:
            regions = _TRUNK_REGIONS
        numbers = [n for n in (_parse_valid(value, region) for region in regions) if n is not None]
        if not numbers and pattern.name in _WRITTEN_AS_PHONES:
            # Written the way only phone numbers are ("+44 7700 900850", "(300) 555-0118"), of a
            # possible length, but in no allocated range: the ranges kept for films and tests, or
            # a range allocated after this library's data. Still somebody's number on a screen.
            possible = [n for n in (_parse(value, r) for r in regions) if n is not None]
            fitting = [n for n in possible if phonenumbers.is_possible_number(n) and _grouping_fits(value, n)]
            return _UNALLOCATED_SCORE if fitting else None
        # The written grouping tells the country of a number valid in several: "06 06 80 11 74" is
        # a French mobile, though 060-680-1174 would be a Korean premium-rate line.
        # A company's toll-free / shared-cost line is nobody's personal data.
        fitting = [n for n in numbers if _grouping_fits(value, n)]
        if fitting:
            return None if all(_is_business(n) for n in fitting) else pattern.score
        if not numbers or any(_is_business(n) for n in numbers):
            return None
        return _MISGROUPED_SCORE


_BUSINESS_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
    }
)

# A valid number whose digit groups cut across the number's own format ("01-15 090-1234" read
# as 011-5090-1234) is more likely two neighbouring values; keep it, but weakly.
_MISGROUPED_SCORE = 0.45


def _is_business(number: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.number_type(number) in _BUSINESS_TYPES


_WRITTEN_AS_PHONES = frozenset({"international", "us-grouped"})
_UNALLOCATED_SCORE = 0.5


def _parse(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None


def _parse_valid(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    number = _parse(value, region)
    return number if number is not None and phonenumbers.is_valid_number(number) else None


def _boundaries(groups: list[str]) -> set[int]:
    out, total = set(), 0
    for g in groups[:-1]:
        total += len(g)
        out.add(total)
    return out


def _grouping_fits(value: str, number: phonenumbers.PhoneNumber) -> bool:
    """OCR drops separators but does not invent them: every break in `value` must be a break
    of the number's format as written: international when it starts with '+', else national
    (the two count different digits: "0120-123-456" is no "+82 12-012-3456")."""
    written = re.findall(r"\d+", value.replace("(0)", ""))
    if len(written) < 2:
        return True
    international = value.lstrip().startswith("+")
    fmt = (
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
        if international
        else phonenumbers.PhoneNumberFormat.NATIONAL
    )
    formatted = re.findall(r"\d+", phonenumbers.format_number(number, fmt))
    return _boundaries(written) <= _boundaries(formatted)


_IPV4 = r"(?<![0-9A-Za-z.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9A-Za-z]|\.\d)"
# Hex groups, with the letters OCR reads for 1 and 0 in them ("a17a" -> "al7a"). An address may
# follow its label's colon with no space ("接続IP:2001:db8::a9ed").
_HEX = r"[0-9A-Fa-flIOo]"
_IPV6 = (
    r"(?:(?<![0-9A-Za-z:.])|(?<=[^0-9A-Fa-f:.]:))"
    rf"(?:{_HEX}{{0,4}}:){{2,7}}(?:{_HEX}{{1,4}}|:)?(?![0-9A-Za-z:])"
)
_LOOK_ALIKES = str.maketrans("lIOo", "1100")


class IpAddressRecognizer(PatternRecognizer):
    name = "ip_address"
    type = "ip_address"
    patterns = (Pattern.text("ipv6", _IPV6, 0.8), Pattern.text("ipv4", _IPV4, 0.7))
    context_words = ("ip", "ip address", "adresse ip", "ipアドレス", "ip 주소", "host", "호스트", "接続元")
    negative_words = ("version", "ver", "v", "build", "버전", "バージョン", "révision", "release")
    negative_penalty = 0.4

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        value = match.group(0)
        if pattern.name == "ipv6":
            if value.count(":") < 2:
                return None
            read = value.translate(_LOOK_ALIKES)
            if read != value and not any(c.isdigit() for c in value):
                return None  # only look-alikes for digits: words, not an address
            value = read
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return None
        return pattern.score
