"""Payment data: cards (Luhn, stdnum.luhn), IBANs (mod 97, stdnum.iban) and bank account numbers,
which have no checksum in common and are reported only next to a label that says so."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban, luhn

from veil.detect.contact import DECOY_WORDS
from veil.detect.pattern import CODE_END, CODE_START, SEP, Pattern, PatternRecognizer, Prepared

_S = SEP
_IBAN_MIN = 15  # shortest IBAN (Norway)
_SHORT_CARD, _SHORT_CARD_SCORE = 13, 0.6
_MISREAD_SCORE = 0.6  # plus the label's boost; never found without one
# Issuer prefixes of the card networks seen on KO/JA/FR/EN screens: Visa, Mastercard, Amex,
# Diners, JCB, Discover, UnionPay, and the Korean/French domestic ranges that reuse them.
_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[0689]|35|6[0245]|9", re.ASCII)


class CardRecognizer(PatternRecognizer):
    name = "card"
    type = "card"
    patterns = (
        # The usual groupings: 4-4-4-4(-3), 4-6-5, 4-6-4.
        Pattern.number(
            "grouped",
            rf"\d{{4}}(?:{_S}\d{{4}}){{2,3}}(?:{_S}\d{{1,3}})?|\d{{4}}{_S}\d{{6}}{_S}\d{{4,5}}",
            0.95,
            (13, 19),
            partial=True,
        ),
        # Any other grouping, as OCR drops and adds spaces.
        Pattern.number("loose", rf"\d{{1,15}}(?:{_S}\d{{1,15}}){{1,6}}", 0.85, (13, 19), partial=True),
        Pattern.number("digits", r"\d{13,19}", 0.9, (13, 19), partial=True),
        # After a card label, a card-shaped number whose check digit fails: OCR added or dropped a
        # digit ("41112 0005 4222 8067"), and a card number is what the label says is there.
        Pattern.number(
            "misread", rf"\d{{3,6}}(?:{_S}\d{{3,6}}){{2,4}}", _MISREAD_SCORE, (15, 17), needs_context=True
        ),
    )
    context_words = (
        "카드",
        "카드번호",
        "신용카드",
        "カード",
        "カード番号",
        "クレジット",
        "carte",
        "carte bancaire",
        "cb",
        "card",
        "card number",
        "visa",
        "mastercard",
        "amex",
    )
    negative_words = DECOY_WORDS

    def validate(self, match: re.Match[str], pattern: Pattern) -> float | None:
        digits = re.sub(r"\D", "", match.group(0))
        if pattern.name == "misread":
            return pattern.score if _CARD_PREFIX.match(digits) else None
        if not _CARD_PREFIX.match(digits) or not luhn.is_valid(digits):
            return None
        # 13-digit cards are long retired; 13 digits are far more often an EAN-13 barcode.
        return _SHORT_CARD_SCORE if len(digits) == _SHORT_CARD else pattern.score


class IbanRecognizer(PatternRecognizer):
    name = "iban"
    type = "iban"
    # Letters and digits in groups of four, or none; OCR may drop or add the spaces.
    patterns = (
        Pattern.text(
            "iban",
            rf"{CODE_START}[A-Z]{{2}}[ ]?\d{{2}}(?:[ ]?[0-9A-Z]){{11,30}}(?![0-9a-z])",
            0.95,
        ),
    )
    context_words = ("iban", "계좌", "口座", "compte", "account", "bank")

    def _candidates(self, text: Prepared, pattern: Pattern) -> Iterator[tuple[int, int, float]]:
        # The regex may run on into a following code ("... 189 BIC BNPAFRPP"): try the longest
        # prefix that passes the mod-97 check.
        for m in pattern.regex.finditer(text.norm.text):
            for end in range(m.end(), m.start() + _IBAN_MIN - 1, -1):
                value = text.norm.text[m.start() : end]
                if value[-1] != " " and iban.is_valid(value):
                    yield m.start(), end, pattern.score
                    break


BANK_WORDS = (
    "계좌",
    "계좌번호",
    "입금계좌",
    "口座",
    "口座番号",
    "普通",
    "当座",
    "振込先",
    "rib",
    "relevé d'identité bancaire",
    "compte",
    "n° de compte",
    "account",
    "account no",
    "acct",
    "bank account",
)


class BankAccountRecognizer(PatternRecognizer):
    name = "bank_account"
    type = "bank_account"
    patterns = (
        # RIB: bank (5) branch (5) account (11, letters allowed) key (2).
        Pattern.text(
            "rib",
            rf"{CODE_START}\d{{5}}{_S}?\d{{5}}{_S}?[0-9A-Z]{{11}}{_S}?\d{{2}}{CODE_END}",
            0.65,
            needs_context=True,
        ),
        # The same after the word "RIB", masked with it as an account's kind is below.
        Pattern.text(
            "rib-word",
            rf"(?<![\w])RIB[ ]?:?[ ]?\d{{5}}{_S}?\d{{5}}{_S}?[0-9A-Z]{{11}}{_S}?\d{{2}}{CODE_END}",
            0.95,
        ),
        Pattern.number(
            "grouped",
            rf"\d{{2,6}}{_S}\d{{2,6}}{_S}\d{{2,8}}(?:{_S}\d{{1,6}})?",
            0.6,
            (8, 16),
            needs_context=True,
        ),
        Pattern.number("digits", r"\d{6,16}", 0.6, (6, 16), needs_context=True),
        # A Japanese account written with its type ("普通 1234567", "当座預金1234567"): the type
        # is part of what identifies it and is masked with the number.
        Pattern.text("typed", rf"(?:普通|当座|貯蓄)(?:預金)?[ ]?\d{{7}}{CODE_END}", 0.9),
        # The account's kind or bank before it: "Savings 43195026", "Checking ••• 4605308693",
        # "Compte courant 12345678901", "국민 123456-12-123456", "신한은행 110-123-456789".
        Pattern.text(
            "kind",
            r"(?<![\w])(?i:checking|savings|chequing|current|compte courant|compte épargne|livret a)"
            r"(?:[ ](?i:account|acct\.?))?[ ]?[:#]?[ ]?(?:[*•·x]{2,6}[ ]?)?\d(?:[ -]?\d){5,16}" + CODE_END,
            0.85,
        ),
        Pattern.text(
            "bank",
            r"(?<![\w])(?:국민|신한|우리|하나|농협|기업|카카오뱅크|토스뱅크|케이뱅크|SC제일|씨티|새마을|우체국|수협|"
            r"부산|대구|경남|광주)(?:은행)?[ ]?(?:\d{2,6}(?:-\d{2,6}){1,3}|\d{10,14})" + CODE_END,
            0.85,
        ),
    )
    context_words = BANK_WORDS
    negative_words = DECOY_WORDS
    context_window = 32
