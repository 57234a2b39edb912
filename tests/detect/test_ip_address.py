"""IP addresses, IPv4 and IPv6, validated by the stdlib ipaddress module."""

from __future__ import annotations

import pytest

from .synthetic import expect, found, types_found

POSITIVES = [
    ("접속 IP: 192.168.0.12", "192.168.0.12"),
    ("接続元 10.0.0.1 から", "10.0.0.1"),
    ("Adresse IP 203.0.113.7.", "203.0.113.7"),
    ("host 2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
    ("fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
    ("loopback ::1", "::1"),
    ("IP(198.51.100.23)", "198.51.100.23"),
    ("確認しました。接続IP:2001:db8::a9ed", "2001:db8::a9ed"),  # glued to its label's colon
    # OCR reads 1 as l and 0 as O inside hex groups.
    ("INFO login ip=2001:db8::al7a", "2001:db8::al7a"),
    ("ip=2001:db8::1O:b2", "2001:db8::1O:b2"),
]

NEGATIVES = [
    "256.1.1.1",
    "v1.2.3.4",
    "Version 1.2.3.4",
    "버전 10.0.19045.2364",
    "build 10.0.19045",
    "14:30:15",
    "2024.01.15",
    "1.2.3",
    "12:30",
    "ool:lo::Il",
    "2001:db8::als",
]


@pytest.mark.parametrize(("line", "value"), POSITIVES)
def test_finds_the_ip_exactly(line: str, value: str) -> None:
    assert found(line) == expect(line, value, "ip_address")


@pytest.mark.parametrize("line", NEGATIVES)
def test_not_an_ip(line: str) -> None:
    assert "ip_address" not in types_found(line)
