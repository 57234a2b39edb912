"""What the key last signed, kept outside the database: the ledger's signed state file.

Whoever can write the database but holds no key must not get Veil to sign a history they rewrote.
So before every append and checkpoint the stored tree is checked against this file (`sync`): the
database's state row must hold the file's compact range, extended only by entries whose bodies hash
to their leaves and whose stored tree heads the key signed (a writer that crashed before updating
the file, or another process). This costs O(log n) plus the entries added since the last look, never
a full scan; a full scan runs only to name the first bad entry when the check already failed.

The file also holds the open egress intents (id -> seq and leaf hash), derived from the hashed bodies
as they were appended, so "is a send pending?" never trusts the `ref` or `kind` columns.

    veil-ledger-state/1
    {"frontier":["<b64>",...],"open":{"<intent id>":[<seq>,"<leaf b64>"]},"origin":"…","root":"…","size":N}

    — <key name> <base64(key id || Ed25519 signature)>

Its first line keeps it from ever reading as a checkpoint. It is replaced whole, under a lock, and
never by an older state. A database with entries but no state file is refused until an operator
runs `veil audit reanchor` (which verifies the whole log and records itself in it).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veil.audit import _verify
from veil.audit._tables import EntryRow, StateRow
from veil.audit.events import EgressCompletedEvent, EgressIntentEvent, LedgerEvent
from veil.audit.keys import (
    KIND_STATE,
    BodySigner,
    LeafSource,
    LedgerVerifier,
    check_not_writable_by_others,
    key_dir_lock,
    make_note,
)
from veil.audit.merkle import Frontier, leaf_hash
from veil.exceptions import LedgerError

STATE_FORMAT = "veil-ledger-state/1"
REANCHOR_HINT = "run `veil audit verify`, then `veil audit reanchor --who NAME --reason TEXT`"


@dataclass
class Anchor:
    """A tree the key signed: its compact range and the egress intents still open in it."""

    frontier: Frontier = field(default_factory=Frontier)
    open: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.frontier.size

    def root(self) -> bytes:
        return self.frontier.root()

    def copy(self) -> Anchor:
        return Anchor(self.frontier.copy(), dict(self.open))

    def add(self, seq: int, event: LedgerEvent, leaf: bytes) -> None:
        """Extend by one entry (at position `seq`, already checked) and follow its egress state."""
        self.frontier.append(leaf)
        if isinstance(event, EgressIntentEvent):
            self.open[event.intent_id] = (seq, leaf)
        elif isinstance(event, EgressCompletedEvent):
            self.open.pop(event.intent_id, None)

    def to_note(self, signer: BodySigner, leaves: LeafSource | None = None) -> str:
        data = {
            "origin": signer.name,
            "size": self.size,
            "root": _b64(self.root()),
            "frontier": [_b64(h) for h in _hashes(self.frontier)],
            "open": {k: [seq, _b64(leaf)] for k, (seq, leaf) in sorted(self.open.items())},
        }
        body = f"{STATE_FORMAT}\n{json.dumps(data, sort_keys=True, separators=(',', ':'))}\n"
        return make_note(signer, body, signer.sign_body(body, KIND_STATE, leaves))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _hashes(frontier: Frontier) -> list[bytes]:
    raw = frontier.to_bytes()
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


def parse_anchor(note: str, v: LedgerVerifier, where: Path) -> Anchor:
    """The anchor in a state file's text; LedgerError when it is forged, damaged or another key's."""
    body = v.open_signed(note, f"ledger state file {where}:")
    head, _, rest = body.partition("\n")
    try:
        if head != STATE_FORMAT:
            raise ValueError("unknown format")
        data = json.loads(rest)
        frontier = Frontier.from_bytes(
            data["size"], b"".join(base64.b64decode(h, validate=True) for h in data["frontier"])
        )
        opened = {
            str(k): (int(seq), base64.b64decode(leaf, validate=True))
            for k, (seq, leaf) in data["open"].items()
        }
        consistent = data["origin"] == v.name and base64.b64decode(data["root"]) == frontier.root()
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise LedgerError(f"ledger state file {where} is damaged: {type(exc).__name__}") from exc
    if not consistent:
        raise LedgerError(f"ledger state file {where} disagrees with itself or names another key")
    return Anchor(frontier, opened)


def read_anchor(path: Path, v: LedgerVerifier) -> Anchor | None:
    """The signed state in `path`, None when there is no file; LedgerError when it cannot be trusted."""
    try:
        check_not_writable_by_others(path, "ledger state file", "600")
        note = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read ledger state file {path}: {type(exc).__name__}") from exc
    return parse_anchor(note, v, path)


def write_anchor(
    path: Path,
    anchor: Anchor,
    signer: BodySigner,
    *,
    replace: bool = False,
    locked: bool = False,
    leaves: LeafSource | None = None,
) -> None:
    """Store `anchor` unless the file already holds a larger tree (an older state never replaces a
    newer one: writers race after their commits). `replace` overwrites whatever is there (re-anchor);
    `locked` says the caller already holds the folder's lock; `leaves` serve an external signer."""
    if not locked:
        with key_dir_lock(path.parent):
            write_anchor(path, anchor, signer, replace=replace, locked=True, leaves=leaves)
        return
    if not replace:
        current = read_anchor(path, signer)
        if current is not None and current.size >= anchor.size:
            return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # No fsync: a power cut can leave the previous state, which the next sync catches up
        # from the entries' signed heads; the rename never leaves half a file to readers.
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(anchor.to_note(signer, leaves))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LedgerError(f"cannot write ledger state file {path}: {type(exc).__name__}") from exc


def sync(s: Session, v: LedgerVerifier, anchor: Anchor, state: StateRow) -> Anchor:
    """`anchor` extended over the entries stored after it, each re-hashed and its signed tree head
    checked. LedgerVerificationError naming the first bad entry when the stored tree is not one the
    key signed: rewritten, truncated, or with entries or a state row written without the key."""
    last = s.scalar(select(func.max(EntryRow.seq)))
    stored = last + 1 if last is not None else 0
    if state.size < anchor.size or stored != state.size:
        refuse(s, v, anchor)
    out = anchor.copy()
    if state.size > anchor.size:
        rows = s.scalars(select(EntryRow).where(EntryRow.seq >= anchor.size).order_by(EntryRow.seq))
        for expected, row in enumerate(rows, start=anchor.size):
            if _verify.entry_problem(row, expected, out.frontier.copy(), v):
                refuse(s, v, anchor)
            out.add(expected, _verify.decode_event(row), leaf_hash(row.body))
    if out.size != state.size or out.frontier.to_bytes() != state.frontier:
        refuse(s, v, anchor)
    return out


def refuse(s: Session, v: LedgerVerifier, anchor: Anchor) -> NoReturn:
    """Raise, naming the first bad entry found by a full verification against `anchor`."""
    report = _verify.verify_ledger(s, v, (anchor.size, anchor.root()))
    reason = report.reason or "the state row or the entries were changed"
    raise _verify.LedgerVerificationError(
        f"refusing to write: the stored ledger is not the tree its key signed: {reason}; "
        "check with `veil audit verify`",
        report.first_bad,
    )


def rebuild(s: Session) -> Anchor:
    """The anchor of the whole stored log, from its bodies (only after it verified whole)."""
    out = Anchor()
    rows = s.scalars(select(EntryRow).order_by(EntryRow.seq).execution_options(yield_per=1000))
    for seq, row in enumerate(rows):
        out.add(seq, _verify.decode_event(row), leaf_hash(row.body))
    return out


def current(path: Path, v: LedgerVerifier) -> tuple[Anchor | None, str]:
    """The state file at `path` if it can be trusted, and what it was, for the re-anchor event."""
    try:
        found = read_anchor(path, v)
    except LedgerError:
        return None, "unreadable"
    if found is None:
        return None, "missing"
    return found, f"size {found.size}, root {_b64(found.root())}"
