"""Context evidence: a decoy word lowers a value's score only when it stands in a label, never
when it sits in a neighbouring data row of a table."""

from __future__ import annotations

import pytest

from .synthetic import ANALYZER

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
