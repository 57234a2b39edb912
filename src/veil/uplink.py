"""How a capture agent talks to the Veil server: every request signed with the device's Ed25519 key.

Each agent holds its own private key (made by `veil record` on first use, 0600); the server keeps only
the public key it was given when the device was registered, so a stolen server database cannot forge
uploads. A request carries four headers:

    X-Veil-Device      the device id the server registered
    X-Veil-Timestamp   seconds since the epoch (integer) when it was signed
    X-Veil-Nonce       32 hex characters, never reused by the device
    X-Veil-Signature   base64 Ed25519 signature of the canonical text below

    veil-uplink-v1\n<device>\n<METHOD>\n<path>\n<timestamp>\n<nonce>\n<hex sha256 of the body>

The server refuses (401, `NotAuthenticated`) an unknown or revoked device, a bad signature (a body,
path, method or header changed after signing), a timestamp more than `MAX_SKEW_SECONDS` away from its
clock, and a nonce it has already seen inside that window (a replay). Segment uploads are also
idempotent by (device, segment sequence, body hash): the same segment sent twice after a crash is
stored once; a different body under a sequence already stored is refused (409).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from veil.exceptions import NotAuthenticated

PROTOCOL = "veil-uplink-v1"
MAX_SKEW_SECONDS = 300
H_DEVICE = "X-Veil-Device"
H_TIMESTAMP = "X-Veil-Timestamp"
H_NONCE = "X-Veil-Nonce"
H_SIGNATURE = "X-Veil-Signature"


def canonical(device: str, method: str, path: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{PROTOCOL}\n{device}\n{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def sign_request(
    key: Ed25519PrivateKey,
    device: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    now: float | None = None,
) -> dict[str, str]:
    """The four headers for one request. `path` is the URL path with its query string."""
    timestamp = int(time.time() if now is None else now)
    nonce = secrets.token_hex(16)
    signature = key.sign(canonical(device, method, path, timestamp, nonce, body))
    return {
        H_DEVICE: device,
        H_TIMESTAMP: str(timestamp),
        H_NONCE: nonce,
        H_SIGNATURE: base64.b64encode(signature).decode(),
    }


class NonceBook(Protocol):
    """Remembers nonces per device for at least 2 * MAX_SKEW_SECONDS; the server's is in its database."""

    def first_use(self, device: str, nonce: str, timestamp: int) -> bool:
        """True the first time (device, nonce) is seen, and records it; False on a replay."""
        ...


class MemoryNonceBook:
    """A NonceBook for one process (tests, a single-worker server)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}

    def first_use(self, device: str, nonce: str, timestamp: int) -> bool:
        horizon = int(time.time()) - 2 * MAX_SKEW_SECONDS
        self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
        if (device, nonce) in self._seen:
            return False
        self._seen[(device, nonce)] = timestamp
        return True


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    device: str
    timestamp: int
    nonce: str
    body_sha256: str


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    public_key_of: Mapping[str, Ed25519PublicKey],
    nonces: NonceBook,
    *,
    now: float | None = None,
) -> VerifiedRequest:
    """Check one request; NotAuthenticated (401) with the reason, never the key or body, if not."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        device = lowered[H_DEVICE.lower()]
        raw_ts = lowered[H_TIMESTAMP.lower()]
        nonce = lowered[H_NONCE.lower()]
        raw_sig = lowered[H_SIGNATURE.lower()]
    except KeyError as exc:
        raise NotAuthenticated(f"request not signed: header {exc.args[0]} missing") from None
    key = public_key_of.get(device)
    if key is None:
        raise NotAuthenticated("unknown or revoked device")
    try:
        timestamp = int(raw_ts)
        signature = base64.b64decode(raw_sig, validate=True)
    except (ValueError, binascii.Error):
        raise NotAuthenticated("malformed timestamp or signature header") from None
    if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
        raise NotAuthenticated("malformed nonce")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > MAX_SKEW_SECONDS:
        raise NotAuthenticated("request timestamp outside the accepted window (clock skew or replay)")
    try:
        key.verify(signature, canonical(device, method, path, timestamp, nonce, body))
    except InvalidSignature:
        raise NotAuthenticated("bad signature: the request was altered or signed by another key") from None
    if not nonces.first_use(device, nonce, timestamp):
        raise NotAuthenticated("replayed request (nonce already used)")
    return VerifiedRequest(device, timestamp, nonce, hashlib.sha256(body).hexdigest())
