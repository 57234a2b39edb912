"""Reading side of the ledger: full verification, proofs, consistency against a kept checkpoint, export.

Verification walks the entries in order and stops at the first that fails any of, in this order:
its seq follows the previous one; its body hashes to its stored leaf hash; its body is canonical JSON
whose seq, id, kind and time agree with the columns and whose event decodes; the signed tree head
stored with it verifies over the recomputed root. Then the state row and every stored checkpoint are
checked against the recomputed tree. A tail deleted together with the state row and every checkpoint
covering it cannot be seen locally: that is what an auditor's kept checkpoint (`consistency`) is for.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.audit import merkle
from veil.audit._tables import CheckpointRow, EntryRow, StateRow
from veil.audit.events import (
    EgressCompletedEvent,
    EgressIntentEvent,
    LedgerEvent,
    canonical_json,
    event_from_dict,
)
from veil.audit.keys import LedgerVerifier, checkpoint_body, make_note
from veil.exceptions import LedgerError, OutputError

EXPORT_FORMAT = "veil-ledger-export/1"


class LedgerVerificationError(LedgerError):
    """The ledger or a proof failed verification; `first_bad` is the first bad entry's seq if known."""

    def __init__(self, message: str, first_bad: int | None = None) -> None:
        super().__init__(message)
        self.first_bad = first_bad


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    size: int
    checkpoints_checked: int
    first_bad: int | None = None
    bad_checkpoint: int | None = None
    reason: str = ""
    anchored_size: int | None = None  # size of the signed state file checked, None without one

    def raise_for_failure(self) -> None:
        if not self.ok:
            raise LedgerVerificationError(f"ledger verification failed: {self.reason}", self.first_bad)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "checkpoints_checked": self.checkpoints_checked,
            "first_bad": self.first_bad,
            "bad_checkpoint": self.bad_checkpoint,
            "reason": self.reason,
            "anchored_size": self.anchored_size,
        }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]
    root: bytes
    checkpoint: str | None = None  # signed note for (tree_size, root)

    def verify(self) -> bool:
        return merkle.verify_inclusion(self.seq, self.tree_size, self.leaf_hash, self.path, self.root)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tree_size": self.tree_size,
            "leaf_hash": _b64(self.leaf_hash),
            "path": [_b64(p) for p in self.path],
            "root": _b64(self.root),
            "checkpoint": self.checkpoint,
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: tuple[bytes, ...]
    checkpoint: str | None = None  # signed note for (new_size, new_root)

    def verify(self) -> bool:
        return merkle.verify_consistency(
            self.old_size, self.new_size, self.old_root, self.new_root, self.path
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": _b64(self.old_root),
            "new_root": _b64(self.new_root),
            "path": [_b64(p) for p in self.path],
            "checkpoint": self.checkpoint,
        }


def as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def decode_intent(row: EntryRow) -> EgressIntentEvent:
    event = decode_event(row)
    if not isinstance(event, EgressIntentEvent):
        raise LedgerVerificationError(f"ledger entry {row.seq} is not an egress intent", row.seq)
    return event


def decode_event(row: EntryRow) -> LedgerEvent:
    try:
        data = json.loads(row.body)
        return event_from_dict(data["kind"], data["event"])
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerVerificationError(f"ledger entry {row.seq} is not a valid entry", row.seq) from exc


def entry_problem(row: EntryRow, expected: int, frontier: merkle.Frontier, v: LedgerVerifier) -> str:
    """Why entry `row` (expected at position `expected`) is bad, or "" when it is good; a good
    entry's leaf is appended to `frontier`. Every column is checked against the hashed body."""
    if row.seq != expected:
        return "entry is missing (deleted)" if row.seq > expected else "unexpected entry before the first"
    leaf = merkle.leaf_hash(row.body)
    if leaf != row.leaf_hash:
        return "body does not match its leaf hash (entry changed)"
    try:
        data = json.loads(row.body)
        canonical = canonical_json(data) == row.body
        event = event_from_dict(data["kind"], data["event"])
        ref = event.intent_id if isinstance(event, EgressIntentEvent | EgressCompletedEvent) else None
        agrees = (data["seq"], data["id"], data["kind"], ref) == (row.seq, row.entry_id, row.kind, row.ref)
        timely = datetime.fromisoformat(data["time"]) == as_utc(row.created_at)
    except (ValueError, KeyError, TypeError, LedgerError):
        return "body is not a valid ledger entry"
    if not (canonical and agrees and timely):
        return "columns disagree with the hashed body (entry changed or moved)"
    frontier.append(leaf)
    head = checkpoint_body(v.name, frontier.size, frontier.root())
    if not v.verify_body(head, row.head_sig):
        return "signed tree head does not verify (entry changed, moved or inserted)"
    return ""


def verify_ledger(s: Session, v: LedgerVerifier, anchored: tuple[int, bytes] | None = None) -> VerifyReport:
    """Walk every entry, then the state row, the signed state `anchored` (size, root) if given,
    and every stored checkpoint; the report names the first thing that is wrong."""
    checkpoints = list(s.scalars(select(CheckpointRow).order_by(CheckpointRow.size)))
    wanted = {c.size for c in checkpoints} | ({anchored[0]} if anchored else set())
    roots = {0: merkle.EMPTY_ROOT}
    frontier = merkle.Frontier()
    rows = s.scalars(select(EntryRow).order_by(EntryRow.seq).execution_options(yield_per=1000))
    for expected, row in enumerate(rows):
        problem = entry_problem(row, expected, frontier, v)
        if problem:
            return VerifyReport(False, expected, 0, expected, None, f"entry {expected}: {problem}")
        if frontier.size in wanted:
            roots[frontier.size] = frontier.root()
    n = frontier.size
    problem, first_bad = _state_problem(s.get(StateRow, 1), frontier)
    if not problem and anchored is not None:
        problem, first_bad = _anchor_problem(anchored, n, roots)
    if problem:
        return VerifyReport(False, n, 0, first_bad, None, problem)
    for checked, cp in enumerate(checkpoints):
        problem, first_bad = _checkpoint_problem(cp, v, n, roots)
        if problem:
            return VerifyReport(False, n, checked, first_bad, cp.size, f"checkpoint {cp.size}: {problem}")
    return VerifyReport(True, n, len(checkpoints), anchored_size=anchored[0] if anchored else None)


def _state_problem(state: StateRow | None, frontier: merkle.Frontier) -> tuple[str, int | None]:
    n = frontier.size
    recorded = state.size if state is not None else 0
    if recorded != n:
        gone = "were deleted (truncated)" if recorded > n else "were added outside the ledger"
        return (
            f"the ledger records {recorded} entries but holds {n}: entry {min(n, recorded)} on {gone}",
            min(n, recorded),
        )
    if state is None or state.frontier != frontier.to_bytes():
        return "the state row disagrees with the entries (state row edited)", None
    return "", None


def _anchor_problem(anchored: tuple[int, bytes], n: int, roots: dict[int, bytes]) -> tuple[str, int | None]:
    size, root = anchored
    if size > n:
        return (
            f"the signed state file records {size} entries but the log holds {n}: "
            f"entries from entry {n} on were deleted",
            n,
        )
    if roots[size] != root:
        return f"the log's first {size} entries differ from the signed state file (forked history)", None
    return "", None


def _checkpoint_problem(
    cp: CheckpointRow, v: LedgerVerifier, n: int, roots: dict[int, bytes]
) -> tuple[str, int | None]:
    try:
        opened = v.open_note(cp.note)
    except LedgerError as exc:
        return str(exc), None
    if (opened.origin, opened.size, opened.root) != (v.name, cp.size, cp.root):
        return "stored columns disagree with the signed note", None
    if cp.size > n:
        return f"signed for {cp.size} entries but the log holds {n}: entries from {n} on were deleted", n
    if roots[cp.size] != cp.root:
        return "root differs from the recomputed tree (forked history)", None
    return "", None


def _leaves(s: Session, v: LedgerVerifier, size: int) -> list[bytes]:
    """The leaf hashes of the first `size` entries, recomputed from their bodies (never the column)."""
    leaves: list[bytes] = []
    rows = s.execute(
        select(EntryRow.seq, EntryRow.body, EntryRow.leaf_hash)
        .where(EntryRow.seq < size)
        .order_by(EntryRow.seq)
        .execution_options(yield_per=1000)
    )
    for expected, (seq, body, stored) in enumerate(rows):
        leaf = merkle.leaf_hash(body)
        if seq != expected or leaf != stored:
            _diagnose(s, v, expected)
        leaves.append(leaf)
    if len(leaves) != size:
        _diagnose(s, v, len(leaves))
    return leaves


def _diagnose(s: Session, v: LedgerVerifier, fallback: int | None) -> NoReturn:
    """Raise for a ledger a proof found bad, naming the first bad entry a full verification finds."""
    report = verify_ledger(s, v)
    first_bad = report.first_bad if not report.ok else fallback
    reason = report.reason if not report.ok else f"entry {fallback} does not verify"
    raise LedgerVerificationError(f"{reason}; run `veil audit verify`", first_bad)


def is_empty(s: Session) -> bool:
    """No entry, no checkpoint and a state row at size 0."""
    return (
        s.scalar(select(EntryRow.seq).limit(1)) is None
        and s.scalar(select(CheckpointRow.size).limit(1)) is None
        and _state_size(s) == 0
    )


def _state_size(s: Session) -> int:
    return s.execute(select(StateRow.size).where(StateRow.id == 1)).scalar_one()


def head_note(s: Session, v: LedgerVerifier, size: int, root: bytes) -> str | None:
    """The signed note for tree `size`, rebuilt from the head signature stored with entry size-1."""
    if size == 0:
        row = s.get(CheckpointRow, 0)
        return row.note if row is not None else None
    sig = s.scalar(select(EntryRow.head_sig).where(EntryRow.seq == size - 1))
    body = checkpoint_body(v.name, size, root)
    if sig is None or not v.verify_body(body, sig):
        _diagnose(s, v, size - 1)
    return make_note(v, body, sig)


def _check_size(size: int, n: int, what: str) -> None:
    if not 0 <= size <= n:
        raise LedgerError(f"{what} {size} is outside the ledger's 0..{n}")


def inclusion(s: Session, v: LedgerVerifier, seq: int, tree_size: int | None) -> InclusionProof:
    n = _state_size(s)
    size = n if tree_size is None else tree_size
    _check_size(size, n, "tree size")
    if not 0 <= seq < size:
        raise LedgerError(f"entry {seq} is not in a tree of size {size}")
    leaves = _leaves(s, v, size)
    root = merkle.root_hash(leaves)
    proof = InclusionProof(
        seq, size, leaves[seq], tuple(merkle.inclusion_proof(leaves, seq)), root, head_note(s, v, size, root)
    )
    return proof


def consistency(s: Session, v: LedgerVerifier, old_size: int, new_size: int | None) -> ConsistencyProof:
    n = _state_size(s)
    new = n if new_size is None else new_size
    _check_size(new, n, "tree size")
    _check_size(old_size, new, "old tree size")
    leaves = _leaves(s, v, new)
    new_root = merkle.root_hash(leaves)
    return ConsistencyProof(
        old_size,
        new,
        merkle.root_hash(leaves[:old_size]),
        new_root,
        tuple(merkle.consistency_proof(leaves, old_size)),
        head_note(s, v, new, new_root),
    )


def check_against(s: Session, v: LedgerVerifier, old_note: str) -> ConsistencyProof:
    old = v.open_note(old_note)
    n = _state_size(s)
    if old.size > n:
        raise LedgerVerificationError(
            f"the log holds {n} entries, fewer than the {old.size} of the kept checkpoint: rolled back", n
        )
    fresh = consistency(s, v, old.size, n)
    proof = ConsistencyProof(old.size, n, old.root, fresh.new_root, fresh.path, fresh.checkpoint)
    if not proof.verify():
        raise LedgerVerificationError(
            f"the log is not an extension of the kept checkpoint of size {old.size}: history was rewritten"
        )
    return proof


def export(s: Session, v: LedgerVerifier, directory: Path) -> Path:
    """Write entries.jsonl (one leaf body per line), checkpoints/*.note, public_key.pem, ledger.vkey
    and manifest.json into `directory`, which must be empty or absent."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if any(directory.iterdir()):
            raise OutputError(f"export directory {directory} is not empty")
        frontier = merkle.Frontier()
        with (directory / "entries.jsonl").open("wb") as fh:
            for body in s.scalars(
                select(EntryRow.body).order_by(EntryRow.seq).execution_options(yield_per=1000)
            ):
                fh.write(body + b"\n")
                frontier.append(merkle.leaf_hash(body))
        notes = {c.size: c.note for c in s.scalars(select(CheckpointRow))}
        head = head_note(s, v, frontier.size, frontier.root())
        if head is not None and frontier.size not in notes:  # a stored one may carry cosignatures
            notes[frontier.size] = head
        _write_notes(directory / "checkpoints", notes)
        (directory / "public_key.pem").write_bytes(v.public_pem())
        (directory / "ledger.vkey").write_text(v.vkey + "\n", encoding="ascii")
        manifest = {
            "format": EXPORT_FORMAT,
            "origin": v.name,
            "size": frontier.size,
            "root": _b64(frontier.root()),
        }
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write ledger export to {directory}: {type(exc).__name__}") from exc
    return directory


def _write_notes(folder: Path, notes: dict[int, str]) -> None:
    folder.mkdir()
    for size, note in sorted(notes.items()):
        (folder / f"{size:012d}.note").write_text(note, encoding="utf-8")
