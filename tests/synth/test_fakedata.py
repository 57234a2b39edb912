"""Fake values pass their validators (python-stdnum, phonenumbers); decoys pass none."""

from __future__ import annotations

import pytest
from stdnum import iban, luhn
from stdnum.fr import nir
from stdnum.jp import in_
from stdnum.kr import brn, rrn

from veil.exceptions import VeilError
from veil.synth.fakedata import (
    DECOY_TYPES,
    LANGUAGES,
    STRUCTURED_TYPES,
    TYPES_BY_LANGUAGE,
    FakeData,
    accepted_by_any_checksum,
    is_valid_phone,
    validate,
)

SEEDS = range(25)


def _values(type_: str, language: str) -> list[str]:
    return [FakeData(seed).value(type_, language).text for seed in SEEDS]


@pytest.mark.parametrize(
    ("type_", "language", "check"),
    [
        ("card", "en", lambda t: luhn.is_valid(t.replace(" ", "").replace("-", ""))),
        ("card", "ja", lambda t: luhn.is_valid(t.replace(" ", "").replace("-", ""))),
        ("iban", "fr", iban.is_valid),
        ("iban", "en", iban.is_valid),
        ("kr_rrn", "ko", lambda t: rrn.is_valid(t) and rrn.compact(t)[6] in "1234"),
        ("kr_frn", "ko", lambda t: rrn.is_valid(t) and rrn.compact(t)[6] in "5678"),
        ("kr_brn", "ko", brn.is_valid),
        ("jp_my_number", "ja", in_.is_valid),
        ("fr_nir", "fr", nir.is_valid),
    ],
)
def test_checksummed_values_are_valid(type_: str, language: str, check: object) -> None:
    values = _values(type_, language)
    assert all(check(v) for v in values)  # type: ignore[operator]
    assert len(set(values)) > len(values) // 2  # really random, not one constant


@pytest.mark.parametrize("language", LANGUAGES)
def test_phones_are_valid_numbers(language: str) -> None:
    values = _values("phone", language)
    assert all(is_valid_phone(v, language) for v in values)


def test_phone_separators_vary() -> None:
    values = [FakeData(seed).value("phone", lang).text for seed in range(60) for lang in ("ko", "ja")]
    assert any("-" in v for v in values)
    assert any("." in v for v in values)
    assert any(v.startswith("+8") for v in values)
    assert any(v.isdigit() for v in values)
    assert any("０" <= c <= "９" for v in values for c in v)  # full-width digits


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_type_of_a_language_validates(language: str) -> None:
    fake = FakeData(3)
    for type_ in TYPES_BY_LANGUAGE[language]:
        value = fake.value(type_, language)
        assert value.type == type_ and value.language == language and not value.decoy
        assert validate(type_, value.text, language), type_
        assert value.label  # every value has a field label in its language


def test_same_seed_same_values() -> None:
    a = [FakeData(9).value(t, "ko").text for t in TYPES_BY_LANGUAGE["ko"]]
    b = [FakeData(9).value(t, "ko").text for t in TYPES_BY_LANGUAGE["ko"]]
    c = [FakeData(10).value(t, "ko").text for t in TYPES_BY_LANGUAGE["ko"]]
    assert a == b and a != c


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("type_", [t for t in DECOY_TYPES if t != "support_phone"])
def test_decoys_pass_no_validator(type_: str, language: str) -> None:
    for seed in range(10):
        decoy = FakeData(seed).decoy(type_, language)
        assert decoy.decoy
        assert accepted_by_any_checksum(decoy.text, language) is None, type_


@pytest.mark.parametrize("language", LANGUAGES)
def test_support_line_is_a_real_number_marked_decoy(language: str) -> None:
    decoy = FakeData(1).decoy("support_phone", language)
    assert decoy.decoy and is_valid_phone(decoy.text, language)


def test_validators_reject_broken_values() -> None:
    fake = FakeData(5)
    card = fake.value("card", "en").text.replace(" ", "").replace("-", "")
    broken = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert not validate("card", broken, "en")
    assert not validate("kr_rrn", "971013-9019903", "ko")
    assert not validate("phone", "ORD-2025-118843", "ja")


def test_unknown_type_is_an_error() -> None:
    with pytest.raises(VeilError):
        FakeData(1).value("shoe_size", "en")
    with pytest.raises(VeilError):
        FakeData(1).decoy("email", "en")


def test_structured_types_all_generated_somewhere() -> None:
    covered = {t for lang in LANGUAGES for t in TYPES_BY_LANGUAGE[lang]}
    assert covered == set(STRUCTURED_TYPES)
