"""The ledger's Ed25519 key and checkpoints in the C2SP signed-note / tlog-checkpoint formats.

A checkpoint note reads:

    <origin>
    <tree size, decimal>
    <root hash, base64>

    — <key name> <base64(key id || Ed25519 signature)>

The signature covers the text up to and including the root line's newline. The key id is the first
4 bytes of SHA-256(name || 0x0A || 0x01 || public key); the verifier key string is
`<name>+<key id, 8 hex>+<base64(0x01 || public key)>` (golang.org/x/mod/sumdb/note).

The private key is made on first use in key_dir (0700) as `ledger.key` (PKCS#8 PEM, 0600) next to
`ledger.pub` (SubjectPublicKeyInfo PEM), `ledger.vkey` and the signed state file `ledger.state` (see
anchor.py). key_dir can be anywhere (VEIL_LEDGER_KEY_DIR, the policy's `ledger.key_dir`, `--key-dir`),
so the key need not sit beside the database. A key others can read or write, and a key folder others
can write (they could swap the key or the state file), are refused.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from veil.audit.merkle import HASH_SIZE
from veil.exceptions import LedgerError

PRIVATE_FILE = "ledger.key"
PUBLIC_FILE = "ledger.pub"
VKEY_FILE = "ledger.vkey"
STATE_FILE = "ledger.state"
LOCK_FILE = ".lock"
_ALG_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "  # em dash and a space start every signature line


def key_id(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ALG_ED25519 + public_raw).digest()[:4]


def origin_for(public_raw: bytes) -> str:
    """A stable origin (and key name) for a ledger, derived from its public key."""
    return f"veil.local/ledger/{hashlib.sha256(public_raw).hexdigest()[:16]}"


class LedgerVerifier:
    """Checks checkpoint notes against one Ed25519 public key."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self.public_key = public_key
        self.public_raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.name = origin_for(self.public_raw)
        self.key_id = key_id(self.name, self.public_raw)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(_ALG_ED25519 + self.public_raw).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> LedgerVerifier:
        """Parse a ledger's `ledger.vkey` line; LedgerError when it is not one."""
        b64 = vkey.strip().split("+", 2)[-1]  # the name and key id hold no "+", base64 may
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise LedgerError("ledger key is not <name>+<key id>+<base64 key>") from exc
        if raw[:1] != _ALG_ED25519 or len(raw) != 33:
            raise LedgerError("ledger key is not an Ed25519 verifier key")
        out = cls(Ed25519PublicKey.from_public_bytes(raw[1:]))
        if out.vkey != vkey.strip():
            raise LedgerError(f"ledger key {out.name}: name or key id does not match the key")
        return out

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify_body(self, body: str, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, body.encode("utf-8"))
        except InvalidSignature:
            return False
        return True

    def open_note(self, note: str) -> Checkpoint:
        """Parse a checkpoint note and check its signature; LedgerError saying what is wrong."""
        return parse_checkpoint_body(self.open_signed(note), note)

    def open_signed(self, note: str, what: str = "checkpoint") -> str:
        """The body of a signed note (with its final newline) once this key's signature on it
        verifies; LedgerError naming `what` otherwise."""
        body, sep, sigs = note.partition("\n\n")
        if not sep or not body:
            raise LedgerError(f"{what} note has no blank line before its signatures")
        body += "\n"
        for line in sigs.splitlines():
            if not line.startswith(_SIG_PREFIX):
                raise LedgerError(f"{what} note has a malformed signature line")
            name, _, b64 = line[len(_SIG_PREFIX) :].rpartition(" ")
            try:
                blob = base64.b64decode(b64, validate=True)
            except binascii.Error as exc:
                raise LedgerError(f"{what} signature is not valid base64") from exc
            if name == self.name and blob[:4] == self.key_id:
                if not self.verify_body(body, blob[4:]):
                    raise LedgerError(f"{what} signature does not verify with the ledger key")
                return body
        raise LedgerError(f"{what} note carries no signature by key {self.name}")


# The leaf hashes of the stored log from a given size on (up to the tree being signed): an
# external signer (signer.py) asks for them to check the tree extends the last one it signed.
LeafSource = Callable[[int], Sequence[bytes]]

KIND_HEAD = "head"  # the tree head stored with each entry
KIND_CHECKPOINT = "checkpoint"  # a published checkpoint: an external signer never signs behind it
KIND_STATE = "state"  # the signed state file (anchor.py)


class BodySigner(LedgerVerifier):
    """Signs note bodies with the ledger key: in this process (LedgerSigner) or through an external
    signer process (signer.RemoteSigner), which checks `kind` and `leaves` before signing."""

    def sign_body(self, body: str, kind: str = KIND_HEAD, leaves: LeafSource | None = None) -> bytes:
        raise NotImplementedError


class LedgerSigner(BodySigner):
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        super().__init__(private_key.public_key())
        self._private = private_key

    def sign_body(self, body: str, kind: str = KIND_HEAD, leaves: LeafSource | None = None) -> bytes:
        return self._private.sign(body.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head: origin, tree size, root hash, and the full signed note text."""

    origin: str
    size: int
    root: bytes
    note: str


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def make_note(verifier: LedgerVerifier, body: str, signature: bytes) -> str:
    blob = base64.b64encode(verifier.key_id + signature).decode("ascii")
    return f"{body}\n{_SIG_PREFIX}{verifier.name} {blob}\n"


def parse_checkpoint_body(body: str, note: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise LedgerError("checkpoint body needs origin, size and root hash lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise LedgerError("checkpoint tree size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise LedgerError("checkpoint root hash is not valid base64") from exc
    if len(root) != HASH_SIZE:
        raise LedgerError("checkpoint root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root, note)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # Written whole under a unique name, then hard-linked into place: link() fails if the key
    # exists (two writers never overwrite each other's key) and no reader ever sees a half file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_public(path: Path, data: bytes) -> None:
    """Replace `path` whole: a reader sees the old file or the new one, never half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _check_private_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise LedgerError(
            f"ledger key {path} is readable or writable by others (mode {mode:o}); run: chmod 600 {path}"
        )


def check_not_writable_by_others(path: Path, what: str, fix: str) -> None:
    """LedgerError when group or others may write `path` (they could replace what it holds)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o022:
        raise LedgerError(f"{what} {path} is writable by others (mode {mode:o}); run: chmod {fix} {path}")


@contextmanager
def key_dir_lock(key_dir: Path) -> Iterator[None]:
    """An exclusive lock on key_dir (made 0700 if missing), across processes and threads."""
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(key_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def load_verifier(key_dir: Path) -> LedgerVerifier:
    """The public key only; LedgerError when key_dir holds none."""
    path = key_dir / PUBLIC_FILE
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError as exc:
        raise LedgerError(f"no ledger public key at {path}") from exc
    except ValueError as exc:
        raise LedgerError(f"ledger public key {path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise LedgerError(f"ledger public key {path} is not an Ed25519 key")
    return LedgerVerifier(key)


def load_or_create_signer(key_dir: Path) -> LedgerSigner:
    """The signing key, made on first use with 0600 permissions."""
    path = key_dir / PRIVATE_FILE
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_not_writable_by_others(key_dir, "ledger key folder", "700")
    # The public key first: a first use writes the private key before it, so a public key seen
    # here with no private key after it is a missing key, not another process half-way through.
    if (key_dir / PUBLIC_FILE).exists() and not path.exists():
        raise LedgerError(
            f"{key_dir} holds the ledger's public key but not its private key: the key lives in an "
            "external signer (set VEIL_LEDGER_SIGNER or the policy's ledger.signer) or was lost"
        )
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            _write_new(path, pem, 0o600)
        except FileExistsError:
            pass  # another process made it first; load theirs below
        else:
            signer = LedgerSigner(key)
            _write_public(key_dir / PUBLIC_FILE, signer.public_pem())
            _write_public(key_dir / VKEY_FILE, (signer.vkey + "\n").encode("ascii"))
    _check_private_mode(path)
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise LedgerError(f"ledger key {path} is not an unencrypted PEM private key") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise LedgerError(f"ledger key {path} is not an Ed25519 key")
    return LedgerSigner(loaded)
