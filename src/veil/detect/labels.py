"""Layout context: field labels and column headers that announce a personal value.

A label ("연락처", "氏名", "Adresse", "Phone") marks the value to its right or below it, and a
column header marks every cell of its column. `label_type` says whether a whole OCR line or
cell IS a label; `split_label_value` finds "氏名：山田 太郎" in one line; `LabelledValueRecognizer`
makes the whole text a value of the announced type when the caller passes the label as
`context`, so values no other recognizer would flag (a partial `010-12` being typed, `김민`, a
cell in a 고객명 column) are masked too.

The vocabulary is plain data (`BUILTIN_LABELS`); a policy extends it with `extra_labels`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from veil.detect.base import Recognizer
from veil.detect.normalize import normalize
from veil.models import TextSpan

LABEL_SCORE = 0.9

_BY_TYPE: dict[str, tuple[str, ...]] = {
    "person_name": (
        "이름", "성명", "고객명", "성함", "고객 이름", "예금주", "받는 사람", "받는분", "수령인",
        "보내는 사람",
        "담당자", "작성자", "신청인", "보호자", "환자명", "가입자", "회원명", "대표자",
        "氏名", "お名前", "名前", "フリガナ", "ふりがな", "氏名(カナ)", "お名前(カナ)", "姓", "名",
        "担当者", "ご担当者",
        "受取人", "差出人", "申込者", "名義人", "口座名義", "契約者", "患者名",
        "nom", "prénom", "nom de famille", "nom complet", "prénom et nom", "nom et prénom", "titulaire",
        "destinataire", "expéditeur", "name", "full name", "first name", "last name", "surname",
        "given name", "family name", "customer", "customer name", "recipient", "account holder",
        "contact name", "patient", "patient name", "cardholder", "card holder", "sender",
        # Column headers of CRM and ticket tables whose cells are people.
        "contact", "contact person", "client", "client name", "applicant", "requester",
        "employee", "employee name", "assignee",
    ),
    "phone": (
        "연락처", "휴대폰", "휴대폰 번호", "휴대전화", "전화", "전화번호", "핸드폰",
        "연락 가능한 번호", "팩스",
        "電話番号", "電話", "携帯電話", "携帯番号", "連絡先", "携帯", "tel", "fax",
        "téléphone", "tél", "portable", "mobile", "numéro de téléphone", "n° de téléphone", "n° de tél",
        "phone", "phone number",
        "telephone", "mobile number", "cell", "contact number",
    ),
    "address": (
        "주소", "배송지", "배송 주소", "도로명 주소", "지번 주소", "상세주소", "상세 주소", "거주지",
        "주소지",
        "住所", "ご住所", "お届け先", "送付先", "所在地", "現住所",
        "adresse", "adresse postale", "adresse de livraison", "domicile", "address", "street address",
        "shipping address", "billing address", "home address", "mailing address",
    ),
    "bank_account": (
        "계좌번호", "계좌", "입금계좌", "환불계좌", "口座番号", "口座", "振込先",
        "numéro de compte", "compte bancaire", "account number", "bank account", "account no",
    ),
    "email": (
        "이메일", "메일", "전자우편", "メール", "メールアドレス", "e-mail", "email", "courriel",
        "email address",
    ),
    "date_of_birth": (
        "생년월일", "생일", "生年月日", "誕生日", "date de naissance", "né le", "née le", "date of birth",
        "dob", "birth date", "birthday", "birthdate", "born", "출생일", "출생", "naissance",
        "né(e) le",
    ),
    "kr_rrn": ("주민등록번호", "주민번호"),
    "jp_my_number": ("マイナンバー", "個人番号"),
    "fr_nir": ("numéro de sécurité sociale", "n° de sécurité sociale", "nir"),
    "card": ("카드번호", "カード番号", "numéro de carte", "n° de carte", "n° carte",
             "numéro de carte bancaire", "card number"),
    "kr_brn": ("사업자등록번호", "사업자번호", "사업자 등록번호"),
    "kr_frn": ("외국인등록번호", "외국인번호"),
    "kr_passport": ("여권번호", "旅券番号", "パスポート番号", "numéro de passeport", "passport number",
                    "passport no", "passport"),
    "kr_driver_licence": ("운전면허번호", "면허번호", "運転免許証番号", "numéro de permis",
                          "driver's license", "driving licence number", "driver license", "driver's licence",
                          "driving licence", "dl number"),
    "ip_address": ("접속ip", "ip 주소", "ip주소", "接続ip", "ipアドレス", "adresse ip", "ip address", "ip"),
    "iban": ("iban",),
    "us_ssn": ("ssn", "social security number", "social security no", "ss#", "ssn / itin"),
    "us_itin": ("itin", "individual taxpayer identification number"),
    "us_ein": ("ein", "employer identification number", "fein"),
    "uk_nino": ("national insurance number", "national insurance no", "ni number", "ni no", "nino"),
    "uk_nhs": ("nhs number", "nhs no"),
    "uk_driving_licence": ("driving licence no", "licence number"),
}  # fmt: skip

_PUNCT = re.compile(r"[\s:：*＊()（）\[\]【】・.·_]+")
# One-line "label: value": a label, a colon (ASCII or full width) or a tab/wide gap, then text.
_SPLIT = re.compile(r"^\s*(?P<label>[^:：\t]{1,30}?)\s*(?:[:：]|\t|\s{3,})\s*(?=\S)")
_SPACE = re.compile(r"\s+(?=\S)")
_BRACKETED = re.compile(r"[(（][^()（）]{0,30}[)）]")
_LABEL_PREFIX_CHARS = 60  # raw characters before the space: spaces and colons may pad a label


def label_key(text: str) -> str:
    """The form labels are compared in: NFKC, case-folded, without spaces, colons, asterisks
    (required-field marks) or brackets."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text).casefold())


def _build(extra: Mapping[str, str]) -> dict[str, str]:
    table = {label_key(label): kind for kind, labels in _BY_TYPE.items() for label in labels}
    for label, kind in extra.items():
        key = label_key(label)
        if not key or not kind:
            raise ValueError("a label and its type must both be non-empty")
        table[key] = kind
    return table


BUILTIN_LABELS: Mapping[str, str] = MappingProxyType(_build({}))
"""Normalised label -> personal-data type it announces."""


class LabelVocabulary:
    """The built-in labels plus a policy's `extra_labels` (label text -> type)."""

    def __init__(self, extra_labels: Mapping[str, str] | None = None) -> None:
        self._table = _build(extra_labels or {})
        self._cjk_keys = tuple(k for k in self._table if len(k) >= 2 and not k.isascii())

    def __repr__(self) -> str:
        return f"LabelVocabulary(labels={len(self._table)})"

    def label_type(self, text: str) -> str | None:
        """The type a whole OCR line or cell announces when it IS a label, else None. A hint in
        brackets does not hide one: "생년월일 (YYYY.MM.DD)", "Phone (mobile)", "SSN (for the tax form)";
        two labels slashed are one ("SSN / NI number": the first one's type)."""
        key = label_key(text)
        if not 0 < len(key) <= 40:
            return None
        kind = self._table.get(key)
        if kind is None and ("(" in text or "（" in text):
            kind = self._table.get(label_key(_BRACKETED.sub(" ", text)))
        if kind is None and "/" in text:
            # Two labels of one field, slashed: "SSN / NI number", "Phone / Fax", "Nom / Prénom".
            kinds = [self._table.get(label_key(part)) for part in text.split("/")]
            kind = kinds[0] if all(kinds) else None
        return kind

    def holds_label(self, text: str) -> bool:
        """Whether a label stands inside `text`: a CJK label anywhere (scripts without spaces), or
        a Latin label as a whole word. Such text is labels, not a value."""
        key = label_key(text)
        if any(k in key for k in self._cjk_keys):
            return True
        return any(self._table.get(label_key(word)) for word in text.split() if len(word) > 2)

    def split_label_value(self, text: str) -> tuple[str, int] | None:
        """(type, offset where the value starts) for "label: value" in one line, else None."""
        m = _SPLIT.match(text)
        kind = self.label_type(m.group("label")) if m else None
        if m is not None and kind:
            return kind, m.end()
        return self._split_at_space(text)

    def _split_at_space(self, text: str) -> tuple[str, int] | None:
        """ "Date of birth 01/0": a number's label, one space, then a value with a digit. A label
        cell and the input box beside it are one row once OCR words are joined, and a form shows
        no colon between them. The longest label wins ("Date of birth", not "Date")."""
        # Only prefixes short enough to be a label (`label_type` takes 40 normalised characters):
        # a long chat line costs a few lookups, not one per word.
        gaps = list(_SPACE.finditer(text, 0, _LABEL_PREFIX_CHARS + 1))
        for gap in reversed(gaps):
            kind = self.label_type(text[: gap.start()])
            if kind in NUMERIC_TYPES and _has_number(text[gap.end() :]):
                return kind, gap.end()
        return None


_DEFAULT = LabelVocabulary()


def label_type(text: str) -> str | None:
    """Built-in vocabulary: the type a whole line/cell announces if it is a label, else None."""
    return _DEFAULT.label_type(text)


def split_label_value(text: str) -> tuple[str, int] | None:
    """Built-in vocabulary: (type, value start offset) for "氏名：山田 太郎", else None."""
    return _DEFAULT.split_label_value(text)


@cache
def _ui_keys() -> frozenset[str]:
    from importlib import resources

    text = resources.files("veil.detect").joinpath("data", "ui_words.txt").read_text(encoding="utf-8")
    return frozenset(
        label_key(s) for line in text.splitlines() if (s := line.strip()) and not s.startswith("#")
    )


_UI_SEPARATORS = re.compile(r"\s*[|/·•]\s*|\s{2,}")


def is_ui_text(text: str) -> bool:
    """Whether `text` is a button, a menu item or a row of them ("Reply  Forward  Create ticket",
    "保存", "문자 발송"): each item (split at wide gaps and separators, else at spaces) is a UI word."""
    keys = _ui_keys()
    if label_key(text) in keys:
        return True
    for parts in (_UI_SEPARATORS.split(text.strip()), text.split()):
        items = [label_key(p) for p in parts if label_key(p)]
        if items and all(k in keys for k in items):
            return True
    return False


class LabelledValueRecognizer(Recognizer):
    """A value is personal because of where it stands: when `context` (the label to the left or
    above, or the column header) is a label, the whole trimmed text is a value of that type, even
    partial (`010-12` while typing) or unflaggable by content. A line "label: value" with a
    value after the label is handled the same way without context."""

    name = "labelled-value"
    languages = ("ko", "ja", "fr", "en")
    fallback = True

    def __init__(self, extra_labels: Mapping[str, str] | None = None) -> None:
        self.vocabulary = LabelVocabulary(extra_labels)
        self.types = tuple(dict.fromkeys(self.vocabulary._table.values()))

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        if not text.strip():
            return []
        # Context lines come nearest first (left neighbour, line above, column header).
        kind = next(
            (k for k in (self.vocabulary.label_type(c) for c in context.split("\n") if c.strip()) if k), None
        )
        if kind is not None and self.vocabulary.split_label_value(text) is not None:
            kind = None  # the line carries its own "label: value"; that label decides
        elif kind is not None and _business_field(text):
            return []  # "주문번호: ORD-…" under a name's label: the line's own label decides
        start = 0
        if kind is None:
            split = self.vocabulary.split_label_value(text)
            if split is None:
                return []
            kind, start = split
        elif self.vocabulary.label_type(text) is not None or self.vocabulary.holds_label(text):
            return []  # a header row under a header row, or a stack of labels read as one line
        else:
            split = self.vocabulary.split_label_value(text)
            start = split[1] if split else 0
        return self._whole(text, start, kind)

    def _whole(self, text: str, start: int, kind: str) -> list[TextSpan]:
        value = text[start:]
        stripped = value.strip()
        if not stripped or not _has_content(stripped) or is_ui_text(stripped):
            return []
        if kind in NUMERIC_TYPES and not _has_number(stripped):
            # "Date de naissance | ▇▇▇ | Date de commande": what follows a number's label without
            # a single digit is the next field's label, not the number (typed prefixes have one).
            return []
        a = start + value.index(stripped)
        return [TextSpan(a, a + len(stripped), kind, LABEL_SCORE, self.name)]


def _business_field(text: str) -> bool:
    """Whether `text` opens with a business field's label and a colon ("운송장: 1Z709…", "Order
    no: #4471 · Weight: 1.2 kg"): the value of that field, an order or tracking number, whatever
    personal label stands above or left of the line (a shipping label's "받는 분" over it)."""
    from veil.detect.contact import is_decoy_label  # contact imports labels; avoid a cycle

    m = _SPLIT.match(text)
    return m is not None and ":" in text[: m.end()].replace("：", ":") and is_decoy_label(m.group("label"))


# Types whose every value, even partly typed, holds a digit.
NUMERIC_TYPES = frozenset(
    {
        "phone", "bank_account", "date_of_birth", "kr_rrn", "jp_my_number", "fr_nir", "card",
        "kr_brn", "kr_frn", "kr_passport", "kr_driver_licence", "ip_address", "iban",
        "us_ssn", "us_itin", "us_ein", "uk_nhs",
    }
)  # fmt: skip


def _has_number(value: str) -> bool:
    """A digit in any script (full-width too), or a numeral written in kanji (昭和六十年, 平成元年)."""
    return any(c.isdigit() or c == "元" or unicodedata.numeric(c, None) is not None for c in value)


def _has_content(value: str) -> bool:
    """A value needs a letter or digit; a lone '-' or ':' left of an empty field is not one."""
    return any(c.isalnum() for c in normalize(value).text)
