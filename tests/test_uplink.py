"""The agent-server signature: what a tampered, replayed, late or foreign request gets."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from veil.exceptions import NotAuthenticated
from veil.uplink import H_NONCE, H_TIMESTAMP, MemoryNonceBook, sign_request, verify_request

PATH = "/api/v1/segments/7"
BODY = b"segment bytes"


@pytest.fixture
def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_signed_request_is_accepted_once(device_key: Ed25519PrivateKey) -> None:
    keys = {"dev-1": device_key.public_key()}
    book = MemoryNonceBook()
    headers = sign_request(device_key, "dev-1", "PUT", PATH, BODY)
    ok = verify_request(headers, "PUT", PATH, BODY, keys, book)
    assert ok.device == "dev-1"
    with pytest.raises(NotAuthenticated, match="replayed"):
        verify_request(headers, "PUT", PATH, BODY, keys, book)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("PUT", PATH, b"segment bytez"), ("PUT", "/api/v1/segments/8", BODY), ("POST", PATH, BODY)],
)
def test_any_change_after_signing_is_refused(
    device_key: Ed25519PrivateKey, method: str, path: str, body: bytes
) -> None:
    headers = sign_request(device_key, "dev-1", "PUT", PATH, BODY)
    with pytest.raises(NotAuthenticated, match="bad signature"):
        verify_request(headers, method, path, body, {"dev-1": device_key.public_key()}, MemoryNonceBook())


def test_a_fresh_nonce_on_an_old_signature_is_refused(device_key: Ed25519PrivateKey) -> None:
    headers = sign_request(device_key, "dev-1", "PUT", PATH, BODY)
    headers[H_NONCE] = "0" * 32
    with pytest.raises(NotAuthenticated, match="bad signature"):
        verify_request(headers, "PUT", PATH, BODY, {"dev-1": device_key.public_key()}, MemoryNonceBook())


def test_an_old_request_is_refused(device_key: Ed25519PrivateKey) -> None:
    headers = sign_request(device_key, "dev-1", "PUT", PATH, BODY, now=1_000_000)
    assert headers[H_TIMESTAMP] == "1000000"
    with pytest.raises(NotAuthenticated, match="window"):
        verify_request(headers, "PUT", PATH, BODY, {"dev-1": device_key.public_key()}, MemoryNonceBook())


def test_another_device_key_or_an_unknown_device_is_refused(device_key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    headers = sign_request(other, "dev-1", "PUT", PATH, BODY)
    with pytest.raises(NotAuthenticated, match="bad signature"):
        verify_request(headers, "PUT", PATH, BODY, {"dev-1": device_key.public_key()}, MemoryNonceBook())
    with pytest.raises(NotAuthenticated, match="unknown"):
        verify_request(headers, "PUT", PATH, BODY, {}, MemoryNonceBook())


def test_an_unsigned_request_is_refused() -> None:
    with pytest.raises(NotAuthenticated, match="not signed"):
        verify_request({}, "PUT", PATH, BODY, {}, MemoryNonceBook())
