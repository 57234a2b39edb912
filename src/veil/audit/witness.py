"""A witness (C2SP tlog-witness `add-checkpoint`) and the ledger's client for it.

A witness runs at another site with its own Ed25519 key and storage. For each ledger it knows (by
the ledger's verifier key) it keeps the latest checkpoint it cosigned, and cosigns a new one only
when it is signed by that ledger's key and a consistency proof shows it extends the old one. So a
thief of the ledger key who rewrites history cannot get it cosigned, and `veil audit verify
--witness KEY` refuses a ledger whose latest checkpoint the witness did not cosign.

    POST /add-checkpoint      old <size>\\n<proof lines, base64>\\n\\n<checkpoint note>
    200  cosignature line(s)  409 text/x.tlog.size "<size it has>\\n"  422 proof does not verify
    400  malformed            403 not signed by the ledger's key      404 unknown origin
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from veil.audit import merkle
from veil.audit.cosign import WitnessSigner, WitnessVerifier
from veil.audit.keys import Checkpoint, LedgerVerifier, key_dir_lock
from veil.exceptions import LedgerError

log = logging.getLogger(__name__)

STATE_FILE = "witness-state.json"
MAX_REQUEST = 64 * 1024
SIZE_TYPE = "text/x.tlog.size"
Answer = tuple[int, str, str]  # status, content type, body


@dataclass(frozen=True, slots=True)
class _Request:
    old: int
    proof: list[bytes]
    checkpoint: Checkpoint


class Witness:
    """The witness's decisions and storage; `serve` puts it behind HTTP."""

    def __init__(self, signer: WitnessSigner, key_dir: Path, logs: Sequence[LedgerVerifier]) -> None:
        self.signer = signer
        self.state_path = key_dir / STATE_FILE
        self._logs = {v.name: v for v in logs}
        self._lock = threading.Lock()

    def latest(self, origin: str) -> tuple[int, bytes]:
        entry = self._load().get(origin)
        if entry is None:
            return 0, merkle.EMPTY_ROOT
        return int(str(entry["size"])), base64.b64decode(str(entry["root"]))

    def add_checkpoint(self, request: bytes) -> Answer:
        """Decide on one add-checkpoint request body; (status, content type, response body)."""
        checked = self._check(request)
        if not isinstance(checked, _Request):
            return checked
        old, proof, cp = checked.old, checked.proof, checked.checkpoint
        with self._lock, key_dir_lock(self.state_path.parent):
            size, root = self.latest(cp.origin)
            if old != size:
                return 409, SIZE_TYPE, f"{size}\n"
            if old == cp.size:
                consistent = not proof and root == cp.root
            else:
                consistent = merkle.verify_consistency(old, cp.size, root, cp.root, proof)
            if not consistent:
                # Evidence of a fork or a rewrite: signed by the log, inconsistent with what we saw.
                log.warning("witness: log %s: checkpoint %d inconsistent with %d", cp.origin, cp.size, size)
                return (
                    (409 if old == cp.size else 422),
                    "text/plain",
                    "not consistent with the cosigned log\n",
                )
            self._store(cp.origin, cp.size, cp.root)
        return 200, "text/plain; charset=utf-8", self.signer.cosign(cp.note.partition("\n\n")[0] + "\n")

    def _check(self, request: bytes) -> _Request | Answer:
        parsed = _parse(request)
        if parsed is None:
            return 400, "text/plain", "malformed add-checkpoint request\n"
        old, proof, note = parsed
        verifier = self._logs.get(note.split("\n", 1)[0])
        if verifier is None:
            return 404, "text/plain", "unknown log origin\n"
        try:
            cp = verifier.open_note(note)
        except LedgerError:
            return 403, "text/plain", "checkpoint is not signed by the log's key\n"
        if old > cp.size:
            return 400, "text/plain", "old size is larger than the checkpoint\n"
        return _Request(old, proof, cp)

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LedgerError(f"witness state {self.state_path} is unreadable: {type(exc).__name__}") from exc
        if not isinstance(data, dict):
            raise LedgerError(f"witness state {self.state_path} is damaged")
        return data

    def _store(self, origin: str, size: int, root: bytes) -> None:
        data = self._load()
        data[origin] = {"size": size, "root": base64.b64encode(root).decode("ascii")}
        tmp = self.state_path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, sort_keys=True, indent=1))
            fh.flush()
            os.fsync(fh.fileno())  # persisted before answering (tlog-witness)
        os.replace(tmp, self.state_path)


def _parse(request: bytes) -> tuple[int, list[bytes], str] | None:
    """(old size, proof hashes, checkpoint note) of a request body, None when malformed."""
    try:
        head, _, note = request.decode("utf-8").partition("\n\n")
        lines = head.split("\n")
        old_text = lines[0].removeprefix("old ")
        if not lines[0].startswith("old ") or not old_text.isdigit() or len(lines) > 64:
            return None
        return int(old_text), [base64.b64decode(p, validate=True) for p in lines[1:]], note
    except (UnicodeDecodeError, ValueError, binascii.Error):
        return None


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for `witness` (not started: call serve_forever, or run it in a thread)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/add-checkpoint":
                self._answer((404, "text/plain", "not found\n"))
                return
            text = self.headers.get("Content-Length") or ""
            length = int(text) if text.isdigit() else 0
            if not 0 < length <= MAX_REQUEST:
                self._answer((400, "text/plain", "missing or oversized body\n"))
                return
            self._answer(witness.add_checkpoint(self.rfile.read(length)))

        def _answer(self, answer: Answer) -> None:
            status, ctype, body = answer
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.info("witness: %s", format % args)

    return ThreadingHTTPServer((host, port), Handler)


@dataclass(frozen=True, slots=True)
class WitnessEndpoint:
    """Where the ledger asks a witness to cosign, and the key its cosignatures must verify with."""

    url: str
    verifier: WitnessVerifier

    def cosign(self, note: str, size: int, proof_from: Callable[[int], Sequence[bytes]]) -> str:
        """The witness's cosignature line(s) on checkpoint `note` of tree `size`; LedgerError when
        the witness refuses (e.g. the log is not consistent with what it cosigned) or is unreachable."""
        old = 0
        for _ in range(3):
            status, ctype, body = self._post(old, [] if old == 0 else proof_from(old), note)
            if status == 200:
                if self.verifier.cosignature_time(note + body) is None:
                    raise LedgerError(f"witness {self.verifier.name} answered without a valid cosignature")
                return body
            if status == 409 and ctype.startswith(SIZE_TYPE) and body.strip().isdigit():
                seen = int(body.strip())
                if seen > size:
                    raise LedgerError(
                        f"witness {self.verifier.name} cosigned {seen} entries, more than this log's "
                        f"{size}: the log was rolled back"
                    )
                old = seen
                continue
            raise LedgerError(
                f"witness {self.verifier.name} refused checkpoint {size} (HTTP {status}): "
                + (
                    "it is not consistent with the log the witness cosigned (history rewritten)"
                    if status in (409, 422)
                    else body.strip()[:100]
                )
            )
        raise LedgerError(f"witness {self.verifier.name} kept changing its tree size; try again")

    def _post(self, old: int, proof: Sequence[bytes], note: str) -> Answer:
        lines = [f"old {old}", *(base64.b64encode(p).decode("ascii") for p in proof)]
        data = ("\n".join(lines) + "\n\n" + note).encode("utf-8")
        request = urllib.request.Request(self.url.rstrip("/") + "/add-checkpoint", data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            raise LedgerError(f"witness {self.verifier.name} is unreachable: {type(exc).__name__}") from exc


def witness_problem(notes: dict[int, str], witnesses: Sequence[WitnessVerifier]) -> tuple[str, int | None]:
    """Why the checkpoints `notes` (size -> note) fail the witness requirement, or ("", None): the
    latest checkpoint must carry a valid cosignature by every witness, and no cosignature may be forged."""
    if not witnesses:
        return "", None
    if not notes:
        return "no checkpoint to carry witness cosignatures", None
    latest = max(notes)
    for size, note in sorted(notes.items()):
        for w in witnesses:
            try:
                stamp = w.cosignature_time(note)
            except LedgerError as exc:
                return str(exc), size
            if size == latest and stamp is None:
                return f"the latest checkpoint ({size}) carries no cosignature by witness {w.name}", size
    return "", None
