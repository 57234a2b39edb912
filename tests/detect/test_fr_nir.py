"""French NIR (social security number): key checked by stdnum.fr.nir."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, fullwidth, nir_of, types_found, wrong_last

NIR = nir_of("1850578006084")
CORSICA = nir_of("293052A123456")
SPACED = " ".join((NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]))
CORSICA_SPACED = " ".join(
    (CORSICA[0], CORSICA[1:3], CORSICA[3:5], CORSICA[5:7], CORSICA[7:10], CORSICA[10:13], CORSICA[13:])
)

POSITIVES = [
    (f"N° de sécurité sociale : {SPACED}", SPACED),
    (f"NIR {NIR}", NIR),
    (SPACED, SPACED),
    (f"Sécu {CORSICA_SPACED}.", CORSICA_SPACED),
    (f"INSEE {fullwidth(NIR)}", fullwidth(NIR)),
    (f"n°{NIR}", NIR),
]

NEGATIVES = [
    wrong_last(NIR),
    " ".join((wrong_last(NIR)[:7], wrong_last(NIR)[7:])),
    "Facture n° 2024-000123",
    "Commande 123456789012345",
    "12,50 €",
    "5 85 05 78 006 084 12",  # no such first digit
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_nir_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "fr_nir")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_a_nir(line: str) -> None:
    assert "fr_nir" not in types_found(line)
