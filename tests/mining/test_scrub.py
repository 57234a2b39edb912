from __future__ import annotations

import pytest

from veil.mining.scrub import scrub_text, scrub_url, value_type


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jane.doe@example.com", "<email>"),
        ("+33 6 12 34 56 78", "<phone>"),
        ("010-1234-5678", "<phone>"),
        ("4111 1111 1111 1111", "<card>"),
        ("2026-03-03", "<date>"),
        ("1 250,00 €", "<number>"),
        ("Camille Martin, 12 rue des Lilas", "<text>"),
        ("<phone>", "<phone>"),
        ("", ""),
    ],
)
def test_value_type(value: str, kind: str) -> None:
    assert value_type(value) == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Save address", "Save address"),
        ("Mail to jane.doe@example.com", "Mail to <email>"),
        ("Order 4711 of 2026-03-03", "Order <number> of <date>"),
        ("x" * 80, "<text>"),
    ],
)
def test_scrub_text(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example/orders/4711?email=a@b.fr#top", "https://shop.example/orders/<id>"),
        ("https://shop.example/customers/jane.doe@example.com", "https://shop.example/customers/<id>"),
        ("shop.example/list", "shop.example/list"),
    ],
)
def test_scrub_url(url: str, expected: str) -> None:
    assert scrub_url(url) == expected
