"""An external signer: the ledger key lives in another process, reached over a Unix socket.

    veil audit signer serve --socket /run/veil-signer/sock --key-dir /var/lib/veil-signer
    VEIL_LEDGER_SIGNER=unix:/run/veil-signer/sock veil redact ...   (or the policy's ledger.signer)

The signer signs only trees that extend the last checkpoint it signed. It keeps that checkpoint's
compact range (`signer.state` in its key folder); every request carries the leaf hashes the log
added since, and the signer recomputes the root itself: a body whose tree is smaller than that
checkpoint (a rewind), whose root the leaves do not give (a fork or a rewritten entry), or of
another origin is refused. So even whoever controls the Veil account and the database cannot get
a history signed that rewrites anything up to the last checkpoint; entry heads and state files
past it advance nothing (a writer killed before its commit must be able to write again).

Protocol: one JSON object per line, one request per connection.

    {"op": "key"}                                          -> {"ok": true, "pem": "<public key PEM>"}
    {"op": "state"}                                        -> {"ok": true, "size": N}
    {"op": "sign", "kind": "head"|"checkpoint"|"state",
     "body": "<note body>", "from": N, "leaves": ["<b64>", ...]} -> {"ok": true, "signature": "<b64>"}
    any refusal                                            -> {"ok": false, "error": "<why>"}

The socket is 0600 in a 0700 folder (or 0660/0710 with --socket-group), and the peer's uid
(SO_PEERCRED) must be the allowed one.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import socket
import socketserver
import stat
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from veil.audit.anchor import STATE_FORMAT
from veil.audit.keys import (
    KIND_CHECKPOINT,
    KIND_HEAD,
    KIND_STATE,
    BodySigner,
    LeafSource,
    LedgerSigner,
    load_or_create_signer,
    parse_checkpoint_body,
)
from veil.audit.merkle import HASH_SIZE, Frontier
from veil.exceptions import LedgerError

SIGNER_STATE = "signer.state"
STATE_PREFIX = STATE_FORMAT + "\n"
_MAX_REQUEST = 64 << 20
_TIMEOUT = 30.0


def parse_signer_url(value: str) -> Path:
    """`unix:PATH` -> PATH; LedgerError for anything else."""
    scheme, sep, rest = value.partition(":")
    if scheme != "unix" or not sep or not rest:
        raise LedgerError("ledger signer must be given as unix:PATH (a Unix socket)")
    return Path(rest)


# --- the signer process ----------------------------------------------------------------------


class SignerCore:
    """The decisions, apart from the socket: what has been signed and whether to sign more."""

    def __init__(self, key_dir: Path) -> None:
        self.key = load_or_create_signer(key_dir)
        self.state_path = key_dir / SIGNER_STATE
        self.checkpoint = self._load()

    def _load(self) -> Frontier:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            return Frontier.from_bytes(int(data["size"]), base64.b64decode(data["frontier"], validate=True))
        except FileNotFoundError:
            return Frontier()
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise LedgerError(f"signer state {self.state_path} is damaged: {type(exc).__name__}") from exc

    def _store(self, frontier: Frontier) -> None:
        tmp = self.state_path.with_name(f".{SIGNER_STATE}.tmp")
        data = {"size": frontier.size, "frontier": base64.b64encode(frontier.to_bytes()).decode("ascii")}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.state_path)  # stored before the signature leaves: never signs behind it

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "key":
            return {"ok": True, "pem": self.key.public_pem().decode("ascii")}
        if op == "state":
            return {"ok": True, "size": self.checkpoint.size}
        if op == "sign":
            return {"ok": True, "signature": base64.b64encode(self.sign(request)).decode("ascii")}
        raise LedgerError("unknown request")

    def sign(self, request: dict[str, Any]) -> bytes:
        kind, body = request.get("kind"), request.get("body")
        if kind not in (KIND_HEAD, KIND_CHECKPOINT, KIND_STATE) or not isinstance(body, str):
            raise LedgerError("a sign request needs a kind and a body")
        size, root = _tree_of(kind, body, self.key.name)
        if size < self.checkpoint.size:
            raise LedgerError(
                f"refused: tree size {size} is behind the last signed checkpoint ({self.checkpoint.size})"
            )
        if request.get("from") != self.checkpoint.size:
            raise LedgerError(f"refused: leaves must start at {self.checkpoint.size}")
        leaves = _leaves(request.get("leaves"))
        if len(leaves) != size - self.checkpoint.size:
            raise LedgerError(f"refused: {len(leaves)} leaves do not lead to tree size {size}")
        extended = self.checkpoint.copy()
        for leaf in leaves:
            extended.append(leaf)
        if extended.root() != root:
            raise LedgerError(
                f"refused: the tree of size {size} does not extend the last signed checkpoint "
                f"(size {self.checkpoint.size}): a fork or a rewritten entry"
            )
        if kind == KIND_CHECKPOINT and size > self.checkpoint.size:
            self._store(extended)
            self.checkpoint = extended
        return self.key.sign_body(body)


def _tree_of(kind: str, body: str, origin: str) -> tuple[int, bytes]:
    """(size, root) a well-formed body of `kind` commits to; LedgerError otherwise."""
    if kind == KIND_STATE:
        if not body.startswith(STATE_PREFIX) or not body.endswith("\n"):
            raise LedgerError("refused: not a ledger state body")
        try:
            data = json.loads(body[len(STATE_PREFIX) : -1])
            frontier = Frontier.from_bytes(
                int(data["size"]), b"".join(base64.b64decode(h, validate=True) for h in data["frontier"])
            )
            root, found = base64.b64decode(data["root"], validate=True), str(data["origin"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise LedgerError("refused: the state body is malformed") from exc
        if root != frontier.root():
            raise LedgerError("refused: the state body's root does not match its compact range")
        size = frontier.size
    else:
        cp = parse_checkpoint_body(body, body)
        if body != f"{cp.origin}\n{cp.size}\n{base64.b64encode(cp.root).decode('ascii')}\n":
            raise LedgerError("refused: a checkpoint body is exactly origin, size and root lines")
        found, size, root = cp.origin, cp.size, cp.root
    if found != origin:
        raise LedgerError("refused: the body names another log")
    return size, root


def _leaves(value: object) -> list[bytes]:
    if not isinstance(value, list):
        raise LedgerError("a sign request needs its leaves")
    try:
        out = [base64.b64decode(str(v), validate=True) for v in value]
    except binascii.Error as exc:
        raise LedgerError("leaves are not base64") from exc
    if any(len(h) != HASH_SIZE for h in out):
        raise LedgerError("a leaf hash is not 32 bytes")
    return out


def peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


class _Handler(socketserver.StreamRequestHandler):
    server: SignerServer

    def handle(self) -> None:
        try:
            line = self.rfile.readline(_MAX_REQUEST)  # read first: closing on unread data resets
            if peer_uid(self.connection) != self.server.allow_uid:
                raise LedgerError("this process's user may not use the signer")
            request = json.loads(line)
            if not isinstance(request, dict):
                raise LedgerError("a request is one JSON object")
            answer = self.server.core.handle(request)
        except (LedgerError, ValueError, OSError) as exc:
            answer = {"ok": False, "error": str(exc) if isinstance(exc, LedgerError) else "bad request"}
        self.wfile.write(json.dumps(answer).encode("utf-8") + b"\n")


class SignerServer(socketserver.UnixStreamServer):
    """Serves one request at a time (so decisions never race)."""

    def __init__(self, core: SignerCore, path: Path, allow_uid: int, group: int | None = None) -> None:
        self.core, self.allow_uid = core, allow_uid
        folder = path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o710 if group is not None else 0o700)
        path.unlink(missing_ok=True)
        old = os.umask(0o177)
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(old)
        if group is not None:
            os.chown(folder, -1, group)
            os.chown(path, -1, group)
            os.chmod(path, 0o660)


def make_signer_server(key_dir: Path, path: Path, allow_uid: int, group: int | None = None) -> SignerServer:
    return SignerServer(SignerCore(key_dir), path, allow_uid, group)


# --- the ledger's side -----------------------------------------------------------------------


def _call(path: Path, request: dict[str, Any]) -> dict[str, Any]:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(_TIMEOUT)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode("utf-8") + b"\n")
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := sock.recv(1 << 16):
                data += chunk
        answer = json.loads(data)
    except (OSError, ValueError) as exc:
        raise LedgerError(f"the ledger signer at {path} cannot be reached: {type(exc).__name__}") from exc
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        error = answer.get("error") if isinstance(answer, dict) else None
        raise LedgerError(f"the ledger signer at {path} refused: {error or 'no answer'}")
    return answer


class RemoteSigner(BodySigner):
    """The ledger key held by a signer process; every signature is asked for over the socket."""

    def __init__(self, path: Path) -> None:
        pem = _call(path, {"op": "key"}).get("pem")
        try:
            key = serialization.load_pem_public_key(str(pem).encode("ascii"))
        except ValueError as exc:
            raise LedgerError(f"the ledger signer at {path} sent no public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise LedgerError(f"the ledger signer at {path} holds no Ed25519 key")
        super().__init__(key)
        self.path = path

    def sign_body(self, body: str, kind: str = KIND_HEAD, leaves: LeafSource | None = None) -> bytes:
        start = _call(self.path, {"op": "state"}).get("size")
        if not isinstance(start, int):
            raise LedgerError(f"the ledger signer at {self.path} sent a bad state")
        given: Sequence[bytes] = leaves(start) if leaves is not None else ()
        answer = _call(
            self.path,
            {
                "op": "sign",
                "kind": kind,
                "body": body,
                "from": start,
                "leaves": [base64.b64encode(h).decode("ascii") for h in given],
            },
        )
        try:
            signature = base64.b64decode(str(answer.get("signature")), validate=True)
        except binascii.Error as exc:
            raise LedgerError(f"the ledger signer at {self.path} sent a bad signature") from exc
        if not self.verify_body(body, signature):
            raise LedgerError(f"the ledger signer at {self.path} sent a signature that does not verify")
        return signature


def socket_is_private(path: Path) -> bool:
    """True when the socket is 0600 (or 0660) in a folder others cannot enter."""
    folder = stat.S_IMODE(path.parent.stat().st_mode)
    return not folder & 0o007 and not stat.S_IMODE(path.stat().st_mode) & 0o007


__all__ = [
    "LedgerSigner",
    "RemoteSigner",
    "SignerCore",
    "SignerServer",
    "make_signer_server",
    "parse_signer_url",
    "peer_uid",
    "socket_is_private",
]
