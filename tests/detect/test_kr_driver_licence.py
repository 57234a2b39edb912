"""Korean driver's licences: NN-NN-NNNNNN-NN, region 11-28."""

from __future__ import annotations

import pytest

from veil.detect.korea import KrDriverLicenceRecognizer

from .synthetic import expect, found, fullwidth, types_found

POSITIVES = [
    ("운전면허번호: 11-12-345678-90", "", "11-12-345678-90"),
    ("11-12-345678-90", "", "11-12-345678-90"),
    ("면허번호 28 99 123456 01", "", "28 99 123456 01"),
    ("111234567890", "운전면허", "111234567890"),
    (f"운전면허 {fullwidth('21-05-012345-67')}", "", fullwidth("21-05-012345-67")),
]

NEGATIVES = [
    ("99-12-345678-90", ""),  # no region 99
    ("111234567890", ""),  # twelve digits without a label
    ("ORD-11-12-345678-90", ""),
]


@pytest.mark.parametrize(("line", "context", "value"), POSITIVES)
def test_finds_the_licence_exactly(line: str, context: str, value: str) -> None:
    assert found(line, context) == expect(line, value, "kr_driver_licence")


@pytest.mark.parametrize(("line", "context"), NEGATIVES)
def test_not_a_licence(line: str, context: str) -> None:
    assert "kr_driver_licence" not in types_found(line, context)


def test_label_raises_the_score() -> None:
    recognizer = KrDriverLicenceRecognizer()
    bare = recognizer.analyze("11-12-345678-90")[0].score
    labelled = recognizer.analyze("운전면허 11-12-345678-90")[0].score
    assert labelled > bare
