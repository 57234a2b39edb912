"""Context evidence: a decoy word lowers a value's score only when it stands in a label, never
when it sits in a neighbouring data row of a table."""

from __future__ import annotations

import pytest

from .synthetic import ANALYZER, nir_of

NIR = nir_of("2980959044472")  # synthetic: key added by python-stdnum

BRN = "824-45-92900"  # valid shape and office code, random serial (synthetic)


@pytest.mark.parametrize(
    ("context", "found"),
    [
        ("", True),
        # the table row above, holding a product code: data, not a label
        ("781205-6444743 150-37-10730 SKU-KR-26920-E TRK 8080-0572-2617\n고객명", True),
        ("상품코드", False),  # a decoy label: the cell holds a product code
        ("SKU", False),
        ("사업자등록번호", True),
    ],
)
def test_decoy_words_count_only_in_labels(context: str, found: bool) -> None:
    spans = ANALYZER.analyze(BRN, context)
    assert any(s.type == "kr_brn" for s in spans) is found


def test_neighbouring_values_in_one_number_chain_are_both_found() -> None:
    """A table row read as one line: the NIR's key "…05" runs into the phone "06 50 00 78 61".
    The phone recognizer's best window "05 06 50 00 78" loses to the NIR; the phone's real
    window must still be there for the analyzer to keep."""
    nir = " ".join((NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]))
    phone = "06 50 00 78 61"
    row = f"ORD-2023-449594 {nir} {phone}"
    spans = {(row[s.start : s.end], s.type) for s in ANALYZER.analyze(row)}
    assert spans == {(nir, "fr_nir"), (phone, "phone")}


def test_a_boosted_loose_window_does_not_beat_the_grouped_card() -> None:
    # Both windows pass Luhn (synthetic numbers); with the column header's boost both reach the
    # 1.0 cap, yet the card as grouped is the better reading and is the one kept.
    row = "4945-3605-9650-2664 19.10.2026"
    for context in ("", "N° de carte"):
        spans = [(row[s.start : s.end], s.type) for s in ANALYZER.analyze(row, context)]
        assert spans == [("4945-3605-9650-2664", "card")], (context, spans)
