"""The registry: built-ins, options, language filter, one-line registration."""

from __future__ import annotations

import pytest

from veil.detect import default_analyzer, known_types, recognizers_for, registry
from veil.detect.fakes import FixedRecognizer
from veil.exceptions import PolicyError
from veil.models import TextSpan
from veil.options import DetectOptions

BUILT_IN = {
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
}


def test_every_built_in_type_is_known() -> None:
    assert set(known_types()) >= BUILT_IN


def test_disabled_types_are_not_run() -> None:
    analyzer = default_analyzer(DetectOptions(disabled_types=("phone", "email")))
    assert "phone" not in analyzer.types and "email" not in analyzer.types
    assert analyzer.analyze("연락처 010-1234-5678 a@example.com") == []


def test_unknown_disabled_type_stops_with_the_name() -> None:
    with pytest.raises(PolicyError, match="phon"):
        default_analyzer(DetectOptions(disabled_types=("phon",)))


def test_min_score_comes_from_options() -> None:
    assert default_analyzer(DetectOptions(min_score=0.9)).min_score == 0.9
    # A bare national number scores 0.55: dropped at 0.9, kept at the default.
    assert default_analyzer(DetectOptions(min_score=0.9)).analyze("0312345678") == []
    assert default_analyzer().analyze("0312345678") != []


def test_language_filter() -> None:
    korean = {t for r in recognizers_for(["ko"]) if not r.fallback for t in r.types}
    assert "kr_rrn" in korean and "jp_my_number" not in korean and "fr_nir" not in korean
    assert "jp_my_number" in {t for r in recognizers_for(["ja"]) for t in r.types}


def test_registering_a_recognizer_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FACTORIES", list(registry._FACTORIES))
    registry.register(lambda: FixedRecognizer([TextSpan(0, 4, "person_name", 0.9, "fixed")]))
    analyzer = default_analyzer()
    assert "person_name" in analyzer.types
    assert [s.type for s in analyzer.analyze("Hong said hi")] == ["person_name"]
