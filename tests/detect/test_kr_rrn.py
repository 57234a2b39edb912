"""Korean resident registration numbers: birth date and gender digit checked; the mod-11
checksum (dropped for numbers issued from October 2020) only raises the score."""

from __future__ import annotations

import pytest

from veil.detect.korea import KrRrnRecognizer

from .synthetic import expect, found, fullwidth, rrn_bad_checksum, rrn_of, types_found

OLD = rrn_of("900101123456")  # 1990-01-01, man, checksum valid
NEW = rrn_bad_checksum("030405312345")  # 2003-04-05, issued after 2020: no checksum
OLD_1800 = rrn_of("991231923456")  # born 1899, gender digit 9

POSITIVES = [
    (f"주민등록번호: {OLD[:6]}-{OLD[6:]}", f"{OLD[:6]}-{OLD[6:]}"),
    (f"주민번호 {NEW[:6]}-{NEW[6:]}", f"{NEW[:6]}-{NEW[6:]}"),
    (f"{NEW[:6]}-{NEW[6:]}", f"{NEW[:6]}-{NEW[6:]}"),
    (f"RRN {OLD[:6]} - {OLD[6:]}", f"{OLD[:6]} - {OLD[6:]}"),
    (f"주민등록번호{OLD}입니다", OLD),
    (f"주민등록번호 {fullwidth(OLD[:6] + '-' + OLD[6:])}", fullwidth(OLD[:6] + "-" + OLD[6:])),
    (f"{OLD_1800[:6]}-{OLD_1800[6:]}", f"{OLD_1800[:6]}-{OLD_1800[6:]}"),
    # Next to a phone number on the same line, found alone.
    (f"{OLD[:6]}-{OLD[6:]} 010-1234-5678", f"{OLD[:6]}-{OLD[6:]}"),
]

NEGATIVES = [
    "901301-1234567",  # month 13
    "900230-1234567",  # 30 February
    "900101-5234567",  # gender digit 5 is a foreigner's (kr_frn)
    "2024011800123",  # order number: month 24
    "ORD-900101-1234567",
    "99-1231-1234567",
    f"{rrn_of('991231' + '312345')[:6]}-{rrn_of('991231' + '312345')[6:]}",  # born 2099: future
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_rrn_exactly(line: str, value: str) -> None:
    spans = [s for s in found(line) if s[2] == "kr_rrn"]
    assert spans == expect(line, value, "kr_rrn")


def test_only_the_rrn_on_its_line() -> None:
    line = f"주민등록번호: {OLD[:6]}-{OLD[6:]}"
    assert found(line) == expect(line, f"{OLD[:6]}-{OLD[6:]}", "kr_rrn")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_an_rrn(line: str) -> None:
    assert "kr_rrn" not in types_found(line)


def test_failed_checksum_is_kept_but_scores_lower() -> None:
    recognizer = KrRrnRecognizer()
    (valid,) = recognizer.analyze(f"{OLD[:6]}-{OLD[6:]}")
    (unchecked,) = recognizer.analyze(f"{NEW[:6]}-{NEW[6:]}")
    assert valid.score > unchecked.score >= 0.5
