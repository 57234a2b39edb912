"""Japanese My Number: 12 digits, check digit by stdnum.jp.in_, grouped 4-4-4 or not."""

from __future__ import annotations

import pytest

from veil.detect.japan import JpMyNumberRecognizer

from .synthetic import expect, found, fullwidth, group, my_number, types_found, wrong_last

MN = my_number("12345678901")
MN2 = my_number("98765432109")

POSITIVES = [
    (f"マイナンバー：{group(MN, (4, 4, 4))}", group(MN, (4, 4, 4))),
    (f"個人番号 {MN}", MN),
    (f"{group(MN2, (4, 4, 4), '-')}", group(MN2, (4, 4, 4), "-")),
    (f"個人番号{fullwidth(group(MN, (4, 4, 4), '-'))}です", fullwidth(group(MN, (4, 4, 4), "-"))),
    (f"マイナンバー {MN[:4]} {MN[4:]}", f"{MN[:4]} {MN[4:]}"),
    # Table cells OCR read as one line: the order number is a code, the My Number still counts.
    (f"ORD-2023-944419 {group(MN, (4, 4, 4))} SKU-JP-26703-C", group(MN, (4, 4, 4))),
]

NEGATIVES = [
    f"マイナンバー {group(wrong_last(MN), (4, 4, 4))}",
    wrong_last(MN2),
    "注文番号 ORD-2024-118843",
    "¥3,980",
    # Twelve valid digits inside a longer run (a tracking or card number) are not a My Number.
    f"{group(MN, (4, 4, 4))} 1234",
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_my_number_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "jp_my_number")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_my_number(line: str) -> None:
    assert "jp_my_number" not in types_found(line)


def test_label_makes_it_certain_and_tracking_label_doubtful() -> None:
    recognizer = JpMyNumberRecognizer()
    bare = recognizer.analyze(MN)[0].score
    assert recognizer.analyze(f"マイナンバー {MN}")[0].score == 1.0 > bare
    assert recognizer.analyze(f"追跡番号 {MN}")[0].score < bare
