"""Key-encryption keys: what wraps each object's data key.

`KeyProvider` is the one interface the store uses: `wrap(dek, aad)` / `unwrap(blob, aad)` with the
object id as associated data, so a wrapped key copied onto another object does not unwrap.

- `FileKek`: the embedded default, one 256-bit key in a 0600 file under the Veil home's keys/
  folder; AES-256-GCM with a random nonce (cryptography's AESGCM).
- `FileKms`: a file-based fake of a key management service, shaped like AWS KMS Encrypt/Decrypt
  (key ids, encryption context, key rotation: old key versions and old key ids still decrypt). A
  production adapter (AWS KMS, Vault transit) implements the same three calls; see docs/store.md.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import secrets
import stat
import struct
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypedDict, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from veil.exceptions import StoreError, StoreIntegrityError
from veil.store.home import load_or_create_key, veil_home

KEK_NAME = "store-kek"


class _KeyFile(TypedDict):
    current: str
    keys: dict[str, list[str]]


_NONCE = 12


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps data keys. `key_id` names the key wrapping new data keys (kept in the
    catalog beside each wrapped key, so an operator can tell which keys are still needed)."""

    @property
    def key_id(self) -> str: ...

    def wrap(self, dek: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, aad: bytes) -> bytes: ...


def _unwrap_failed() -> StoreIntegrityError:
    return StoreIntegrityError(
        "data key could not be unwrapped: wrong key-encryption key, or the wrapped key was damaged "
        "or belongs to another object"
    )


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise StoreError(f"key file {path} is readable by others (mode {mode:o}); run chmod 600 on it")


class FileKek:
    """A key-encryption key in a 0600 file (created on first use): `<home>/keys/<name>.key`."""

    VERSION = b"\x01"

    def __init__(self, home: Path | None = None, name: str = KEK_NAME) -> None:
        base = home or veil_home()
        self._key = load_or_create_key(name, base)
        _check_private(base / "keys" / f"{name}.key")
        self._key_id = "file:" + hashlib.sha256(b"veil-kek-id" + self._key).hexdigest()[:16]

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return self.VERSION + nonce + AESGCM(self._key).encrypt(nonce, dek, aad)

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != self.VERSION:
            raise _unwrap_failed()
        try:
            return AESGCM(self._key).decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad)
        except InvalidTag:
            raise _unwrap_failed() from None


class FileKms:
    """A fake KMS kept in one 0600 JSON file: key ids, each with numbered versions of key material.

    The API mirrors AWS KMS: `create_key()`, `encrypt(key_id, plaintext, context)` returns a
    ciphertext blob that names its key id and version, `decrypt(blob, context)` finds the key from
    the blob, `rotate_key(key_id)` adds a version used for new encryptions while old ones still
    decrypt. The encryption context (a string map) is authenticated, not stored, like KMS's.

    As a `KeyProvider` it wraps with `key_id` (the latest key unless given) and passes the object
    id as the encryption context {"object_id": ...}.
    """

    def __init__(self, path: Path | None = None, key_id: str | None = None) -> None:
        self.path = path or veil_home() / "keys" / "fake-kms.json"
        keys = self._load()
        if key_id is None:
            key_id = keys["current"] if keys["keys"] else self.create_key()
        elif key_id not in keys["keys"]:
            raise StoreError(f"KMS key {key_id} does not exist in {self.path}")
        self._wrap_key_id = str(key_id)

    # --- the KMS-shaped API ----------------------------------------------------------------------

    def create_key(self) -> str:
        """A new key id with its first version; it becomes the current key."""
        with self._locked() as keys:
            key_id = uuid.uuid4().hex
            keys["keys"][key_id] = [_b64(secrets.token_bytes(32))]
            keys["current"] = key_id
        return key_id

    def rotate_key(self, key_id: str) -> int:
        """Add a version to `key_id`; new encryptions use it. Returns the new version number."""
        with self._locked() as keys:
            versions = keys["keys"].get(key_id)
            if versions is None:
                raise StoreError(f"KMS key {key_id} does not exist")
            versions.append(_b64(secrets.token_bytes(32)))
            return len(versions)

    def encrypt(self, key_id: str, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        versions = self._load()["keys"].get(key_id)
        if not versions:
            raise StoreError(f"KMS key {key_id} does not exist")
        version = len(versions)
        nonce = secrets.token_bytes(_NONCE)
        head = struct.pack(">16sI", bytes.fromhex(key_id), version)
        sealed = AESGCM(_unb64(versions[-1])).encrypt(nonce, plaintext, head + _context(context))
        return head + nonce + sealed

    def decrypt(self, blob: bytes, context: Mapping[str, str]) -> tuple[str, bytes]:
        """(key id, plaintext); StoreIntegrityError for a damaged blob, a wrong context or a key
        this KMS does not hold."""
        if len(blob) < 20 + _NONCE + 16:
            raise _unwrap_failed()
        raw_id, version = struct.unpack(">16sI", blob[:20])
        key_id = raw_id.hex()
        versions = self._load()["keys"].get(key_id, [])
        if not 1 <= version <= len(versions):
            raise _unwrap_failed()
        try:
            aead = AESGCM(_unb64(versions[version - 1]))
            plain = aead.decrypt(blob[20 : 20 + _NONCE], blob[20 + _NONCE :], blob[:20] + _context(context))
        except InvalidTag:
            raise _unwrap_failed() from None
        return key_id, plain

    # --- KeyProvider -----------------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        return f"kms:{self._wrap_key_id}"

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        return self.encrypt(self._wrap_key_id, dek, {"object_id": aad.decode("utf-8")})

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        return self.decrypt(blob, {"object_id": aad.decode("utf-8")})[1]

    # --- the key file ----------------------------------------------------------------------------

    def _load(self) -> _KeyFile:
        if not self.path.exists():
            return {"current": "", "keys": {}}
        _check_private(self.path)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {
                "current": str(data["current"]),
                "keys": {str(k): list(v) for k, v in data["keys"].items()},
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(
                f"KMS key file {self.path} is unreadable or damaged ({type(exc).__name__})"
            ) from exc

    @contextmanager
    def _locked(self) -> Iterator[_KeyFile]:
        """The key file to change under an exclusive lock, written back whole (temp, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            keys = self._load()
            yield keys
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(keys, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            os.close(lock)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _context(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode("utf-8")
