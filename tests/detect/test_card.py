"""Payment cards: Luhn-valid (stdnum.luhn), grouped 4-4-4-4 / 4-6-5 or not, 13-19 digits."""

from __future__ import annotations

import pytest

from veil.detect.finance import CardRecognizer

from .synthetic import card, expect, found, fullwidth, group, types_found, wrong_last

VISA = card("411111111111111")  # 16 digits
MASTER = card("555555555555444")
AMEX = card("37828224631000")  # 15 digits
VISA13 = card("422222222222")
UNIONPAY19 = card("621234567890123456")

POSITIVES = [
    (f"Card {group(VISA, (4, 4, 4, 4))}", group(VISA, (4, 4, 4, 4))),
    (f"카드번호: {group(VISA, (4, 4, 4, 4), '-')} 승인", group(VISA, (4, 4, 4, 4), "-")),
    (f"カード番号 {MASTER}", MASTER),
    # PP-OCR moved the space in a chat line: 12 + 4 digits, still one Luhn-valid card.
    (f"私のカード番号は{MASTER[:12]} {MASTER[12:]}です。", f"{MASTER[:12]} {MASTER[12:]}"),
    (f"Carte {group(AMEX, (4, 6, 5))} exp 12/27", group(AMEX, (4, 6, 5))),
    (f"{group(VISA, (4, 4, 4, 4))} 12/27", group(VISA, (4, 4, 4, 4))),
    (f"Visa {VISA13}", VISA13),
    (f"UnionPay {group(UNIONPAY19, (4, 4, 4, 4))}", group(UNIONPAY19, (4, 4, 4, 4))),
    # OCR dropped one space and added another.
    (f"card {VISA[:4]} {VISA[4:12]} {VISA[12:]}", f"{VISA[:4]} {VISA[4:12]} {VISA[12:]}"),
    (f"カード {fullwidth(group(VISA, (4, 4, 4, 4), '-'))}", fullwidth(group(VISA, (4, 4, 4, 4), "-"))),
    (f"결제카드{group(MASTER, (4, 4, 4, 4))}입니다", group(MASTER, (4, 4, 4, 4))),
]

# After a card label, a card-shaped number whose check digit fails is a card misread by OCR.
MISREAD = [
    (f"Card {group(wrong_last(VISA), (4, 4, 4, 4))}", group(wrong_last(VISA), (4, 4, 4, 4))),
    (f"Carte {group(wrong_last(AMEX), (4, 6, 5))}", group(wrong_last(AMEX), (4, 6, 5))),
    # PP-OCR read one digit twice in a chat message ("4111" as "41112"): 17 digits.
    (f"Mon N° de carte est {VISA[:3]}1{VISA[3]} {group(VISA[4:], (4, 4, 4))}.",
     f"{VISA[:3]}1{VISA[3]} {group(VISA[4:], (4, 4, 4))}"),
]  # fmt: skip

NEGATIVES = [
    # Without a label the check digit decides.
    group(wrong_last(VISA), (4, 4, 4, 4)),
    f"Commande {VISA[:3]}1{VISA[3]} {group(VISA[4:], (4, 4, 4))}",
    # A label does not make any number a card: too few digits, or no card network's prefix.
    f"カード番号 {wrong_last(MASTER)[:12]}",
    f"Card {group('1' + wrong_last(VISA)[1:], (4, 4, 4, 4))}",
    "ORD-2024-118843",
    "SKU-4111111111111111",
    "₩12,500",
    "¥3,980",
    "12,50 €",
    # A Luhn-valid run with an issuer prefix no card network uses.
    card("123456789012345"),
    "주문번호 2024011800123",
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_card_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "card")


@pytest.mark.parametrize(("line", "value"), MISREAD)
def test_a_card_label_takes_a_card_shaped_number_whose_check_digit_fails(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "card")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_a_card(line: str) -> None:
    assert "card" not in types_found(line)


def test_checksum_valid_card_scores_near_one() -> None:
    (span,) = CardRecognizer().analyze(group(VISA, (4, 4, 4, 4)))
    assert span.score >= 0.9
