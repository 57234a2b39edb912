"""Korean business registration numbers: NNN-NN-NNNNN, fields checked by stdnum.kr.brn."""

from __future__ import annotations

import pytest

from veil.detect.korea import KrBrnRecognizer

from .synthetic import expect, found, fullwidth, types_found

POSITIVES = [
    ("사업자등록번호: 220-81-12345", "", "220-81-12345"),
    ("사업자번호 2208112345", "", "2208112345"),
    ("123-45-67890", "", "123-45-67890"),
    ("2208112345", "사업자등록번호", "2208112345"),
    (f"사업자 {fullwidth('220-81-12345')}", "", fullwidth("220-81-12345")),
]

NEGATIVES = [
    ("2208112345", ""),  # ten digits without a label
    ("000-81-12345", "사업자등록번호"),  # tax office 000 does not exist
    ("220-00-12345", ""),  # business type 00
    ("220-81-00000", ""),  # serial 0000
    ("ORD-220-81-12345", ""),
]


@pytest.mark.parametrize(("line", "context", "value"), POSITIVES)
def test_finds_the_brn_exactly(line: str, context: str, value: str) -> None:
    assert found(line, context) == expect(line, value, "kr_brn")


@pytest.mark.parametrize(("line", "context"), NEGATIVES)
def test_not_a_brn(line: str, context: str) -> None:
    assert "kr_brn" not in types_found(line, context)


def test_label_raises_the_score() -> None:
    recognizer = KrBrnRecognizer()
    assert (
        recognizer.analyze("사업자등록번호 220-81-12345")[0].score
        > recognizer.analyze("220-81-12345")[0].score
    )
