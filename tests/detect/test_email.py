"""E-mail addresses, including OCR's stray spaces around '@' and full-width forms."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, types_found

POSITIVES = [
    ("이메일: hong.gildong@example.co.kr입니다", "hong.gildong@example.co.kr"),
    ("メール：taro_yamada+test@example.jp", "taro_yamada+test@example.jp"),
    ("Courriel : marie.dupont@exemple.fr.", "marie.dupont@exemple.fr"),
    ("mail jane.doe @ example.com", "jane.doe @ example.com"),
    ("Contact <john-smith@mail.example.org>", "john-smith@mail.example.org"),
    ("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
    # Being typed: the first keystrokes of an address are masked like the whole.
    ("call back jane.doe@exampl", "jane.doe@exampl"),
    ("To: minsu.kim@", "minsu.kim@"),
    # Internationalised addresses: accented local parts (RFC 6531) and domains (IDN).
    ("chloé.okonkwo@example.com", "chloé.okonkwo@example.com"),
    ("Courriel : hélène.lefèvre@exemple.fr", "hélène.lefèvre@exemple.fr"),
    ("Kontakt: anna@bücher.de", "anna@bücher.de"),
    ("chloé.okonkwo@exa", "chloé.okonkwo@exa"),
    # A word of another script written against the address is no part of it.
    ("메일taro@example.com", "taro@example.com"),
]

NEGATIVES = [
    "@username",
    "user@localhost",
    "jane..doe@example.com",
    "price 3@12,50 €",
    "ORD-2024-118843",
    "a@b",
    "ping @minsu please",
    "postgres@db-01:~$ ls",
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_email_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "email")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_an_email(line: str) -> None:
    assert "email" not in types_found(line)
