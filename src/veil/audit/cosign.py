"""Witness keys and cosignatures in the C2SP tlog-cosignature format (Ed25519, `cosignature/v1`).

A cosignature is a signed-note line `— <witness name> base64(key id || u64 timestamp || signature)`
where the key id is SHA-256(name || 0x0A || 0x04 || public key)[:4] and the signature covers

    cosignature/v1
    time <timestamp>
    <the checkpoint body: origin, size, root hash lines>

A witness's verifier key reads `<name>+<key id hex>+<base64(0x04 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from veil.audit.keys import check_not_writable_by_others, key_dir_lock
from veil.exceptions import LedgerError

ALG_COSIGNATURE_V1 = b"\x04"
WITNESS_KEY_FILE = "witness.key"
_SIG_PREFIX = "\u2014 "


def cosign_key_id(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ALG_COSIGNATURE_V1 + public_raw).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True, slots=True)
class WitnessVerifier:
    """A witness's name and public key, as an auditor or the ledger is configured with it."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def public_raw(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return cosign_key_id(self.name, self.public_raw)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(ALG_COSIGNATURE_V1 + self.public_raw).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> WitnessVerifier:
        """Parse `<name>+<key id hex>+<base64(0x04 || key)>`; LedgerError saying what is wrong."""
        name, _, rest = vkey.strip().partition("+")
        hexid, _, b64 = rest.partition("+")
        try:
            raw = base64.b64decode(b64, validate=True)
            key_id = bytes.fromhex(hexid)
        except (binascii.Error, ValueError) as exc:
            raise LedgerError("witness key is not <name>+<key id>+<base64 key>") from exc
        if not name or raw[:1] != ALG_COSIGNATURE_V1 or len(raw) != 33:
            raise LedgerError("witness key is not an Ed25519 cosignature/v1 verifier key")
        out = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if out.key_id != key_id:
            raise LedgerError(f"witness key {name}: key id does not match the key")
        return out

    def cosignature_time(self, note: str) -> int | None:
        """The timestamp of this witness's valid cosignature on checkpoint `note`, None if it has
        none; LedgerError when it carries one that does not verify (a forged line)."""
        body, _, sigs = note.partition("\n\n")
        found: int | None = None
        for line in sigs.splitlines():
            name, _, b64 = line.removeprefix(_SIG_PREFIX).rpartition(" ")
            if name != self.name:
                continue
            try:
                blob = base64.b64decode(b64, validate=True)
            except binascii.Error as exc:
                raise LedgerError(f"cosignature by {self.name} is not valid base64") from exc
            if len(blob) != 76 or blob[:4] != self.key_id:
                continue  # another key of the same name: not ours to judge
            (stamp,) = struct.unpack(">Q", blob[4:12])
            try:
                self.public_key.verify(blob[12:], cosigned_message(body + "\n", stamp))
            except InvalidSignature as exc:
                raise LedgerError(f"cosignature by witness {self.name} does not verify") from exc
            found = stamp
        return found


class WitnessSigner:
    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.verifier = WitnessVerifier(name, private_key.public_key())

    def cosign(self, body: str, timestamp: int | None = None) -> str:
        """One cosignature line (with its newline) over checkpoint `body` (its three lines)."""
        stamp = int(time.time()) if timestamp is None else timestamp
        sig = self._private.sign(cosigned_message(body, stamp))
        blob = base64.b64encode(self.verifier.key_id + struct.pack(">Q", stamp) + sig).decode("ascii")
        return f"{_SIG_PREFIX}{self.verifier.name} {blob}\n"


def load_or_create_witness(key_dir: Path, name: str | None = None) -> WitnessSigner:
    """The witness key in key_dir (made on first use, 0600; its name kept beside it)."""
    path, name_path = key_dir / WITNESS_KEY_FILE, key_dir / "witness.name"
    with key_dir_lock(key_dir):
        check_not_writable_by_others(key_dir, "witness key folder", "700")
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            chosen = name or f"veil.local/witness/{hashlib.sha256(raw).hexdigest()[:16]}"
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            name_path.write_text(chosen + "\n", encoding="utf-8")
    mode = path.stat().st_mode & 0o077
    if mode:
        raise LedgerError(f"witness key {path} is readable or writable by others; run: chmod 600 {path}")
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise LedgerError(f"witness key {path} is not an Ed25519 key")
    stored = name_path.read_text(encoding="utf-8").strip()
    if name is not None and name != stored:
        raise LedgerError(f"witness key in {key_dir} is named {stored}, not {name}")
    return WitnessSigner(stored, loaded)
