"""Whole-analyzer decoys: business numbers that are not personal data find nothing at all."""

from __future__ import annotations

import pytest

from .synthetic import found

DECOYS = [
    "ORD-2024-118843",
    "주문번호: 2024011800123",
    "注文番号 20240118-0042",
    "N° de commande : CMD-778812",
    "SKU A1234-XL",
    "商品コード 4901234567894",  # EAN barcode (Luhn-like check, 13 digits, prefix 49)
    "₩12,500",
    "합계 ₩1,234,500",
    "¥3,980（税込）",
    "12,50 €",
    "Total 1 234,56 €",
    "$1,299.99",
    "Tracking 1Z999AA10123456784",
    "追跡番号 1234-5678-9012",
    "송장번호 123456789012",
    "2024-01-15",
    "2024年1月15日",
    "15 janvier 2024",
    "Jan 15, 2024",
    "Invoice INV-2024-0001",
    "Facture F2024-00123",
    "v2.3.1",
    "Version 10.0.19045.2364",
    "14:30",
    "오후 2:30 ~ 3:45",
    "Page 3 / 12",
    "수량 3개",
]


@pytest.mark.parametrize("line", DECOYS)
def test_decoy_finds_nothing(line: str) -> None:
    assert found(line) == []
