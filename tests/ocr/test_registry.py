from __future__ import annotations

import pytest

from tests.ocr.synthetic import CJK_FONT, LATIN_FONT, norm, render
from tests.plugins.ocr_faults import FixedEngine
from veil.exceptions import PolicyError
from veil.ocr import registry
from veil.ocr.base import OcrEngine
from veil.ocr.rapid import RapidOcrEngine
from veil.ocr.routed import RoutedEngine
from veil.ocr.tess import TesseractEngine
from veil.options import OcrOptions


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))


@pytest.mark.parametrize(
    ("name", "kind"), [("auto", RoutedEngine), ("rapidocr", RapidOcrEngine), ("tesseract", TesseractEngine)]
)
def test_built_in_engines(name: str, kind: type[OcrEngine]) -> None:
    engine = registry.make_engine(name, OcrOptions())
    assert isinstance(engine, kind)


def test_tesseract_reads_all_four_languages() -> None:
    engine = registry.make_engine("tesseract", OcrOptions())
    assert isinstance(engine, TesseractEngine)
    assert engine.languages == "kor+jpn+fra+eng"


def test_min_confidence_is_passed_on() -> None:
    engine = registry.make_engine("rapidocr", OcrOptions(min_confidence=0.7))
    assert isinstance(engine, RapidOcrEngine)
    assert engine.min_confidence == 0.7


def test_unknown_engine_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"unknown OCR engine 'nope'.*auto"):
        registry.make_engine("nope", OcrOptions())


def test_third_party_engine_registers_like_a_built_in() -> None:
    registry.register_engine("fixed", lambda options: FixedEngine([]))
    assert isinstance(registry.make_engine("fixed", OcrOptions()), FixedEngine)
    assert "fixed" in registry.engine_names()
    with pytest.raises(PolicyError, match="already registered"):
        registry.register_engine("fixed", lambda options: FixedEngine([]))
    registry.register_engine("fixed", lambda options: RapidOcrEngine(), replace=True)
    assert isinstance(registry.make_engine("fixed", OcrOptions()), RapidOcrEngine)


@pytest.mark.parametrize("name", ["", "bad name", "x/y"])
def test_bad_engine_names_are_refused(name: str) -> None:
    with pytest.raises(PolicyError):
        registry.register_engine(name, lambda options: FixedEngine([]))


@pytest.mark.parametrize(
    ("engine", "verifier", "kind"),
    [
        ("auto", "auto", TesseractEngine),
        ("rapidocr", "auto", TesseractEngine),
        ("tesseract", "auto", RoutedEngine),
        ("auto", "rapidocr", RapidOcrEngine),
        ("auto", "tesseract", TesseractEngine),
    ],
)
def test_verifier_is_independent_of_the_primary(engine: str, verifier: str, kind: type[OcrEngine]) -> None:
    options = OcrOptions(engine=engine, verifier_engine=verifier)  # type: ignore[arg-type]
    made = registry.make_verifier_engine(options)
    assert isinstance(made, kind)
    if verifier == "auto":
        assert type(made) is not type(registry.make_engine(engine, options))


@pytest.mark.slow
def test_verifier_reads_values_of_every_language() -> None:
    verifier = registry.make_verifier_engine(OcrOptions())
    cases = [
        ("연락처: 010-4321-8765", CJK_FONT, "010-4321-8765"),
        ("電話番号：090-2468-1357", CJK_FONT, "090-2468-1357"),
        ("Téléphone : 06 11 22 33 44", LATIN_FONT, "0611223344"),
        ("Email: carol.diaz@example.net", LATIN_FONT, "carol.diaz@example.net"),
    ]
    for text, font, value in cases:
        rendered = render(text, font, size=16, canvas=(600, 80), at=(40, 30))
        got = norm("".join(ln.text for ln in verifier.read(rendered.pixels)))
        assert value in got, text
