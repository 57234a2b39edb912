"""The ledger: an append-only RFC 9162 Merkle log in SQL (SQLite by default, PostgreSQL in production).

    ledger = Ledger.open(default_ledger_url(), default_key_dir())
    ref = ledger.append(CaptureEvent(...))
    intent = ledger.begin_egress(destination=..., ...)   # before sending
    ledger.complete_egress(intent, outcome="sent")       # after; a crash in between shows in
    ledger.pending_egress()                              # ... this list
    ledger.checkpoint()                                  # a signed tree head to publish
    ledger.verify()                                      # VerifyReport; .raise_for_failure()

Every entry also carries the signature of the tree head after it, so `verify` names the exact first
entry that was changed, deleted, moved or inserted, even when the attacker recomputed the hashes.

Veil never extends a tree it did not sign: every append and checkpoint first checks the stored tree
against the signed state file kept beside the key (anchor.py), and refuses (LedgerVerificationError,
exit code 7, naming the first bad entry) when someone rewrote, truncated or extended it without the
key. Decisions (pending egress, completing an intent) read the hashed bodies, never the columns.

Appends are serialised: one transaction that locks the single state row (SELECT ... FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite), so concurrent writers queue and never fork the tree.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from veil.audit import _verify, anchor
from veil.audit._tables import WRITE_OPTION, Base, CheckpointRow, EntryRow, StateRow, make_engine
from veil.audit.anchor import REANCHOR_HINT, Anchor
from veil.audit.cosign import WitnessVerifier
from veil.audit.events import (
    EgressCompletedEvent,
    EgressIntentEvent,
    LedgerEvent,
    ReanchorEvent,
    canonical_json,
)
from veil.audit.keys import (
    KIND_CHECKPOINT,
    KIND_HEAD,
    PRIVATE_FILE,
    PUBLIC_FILE,
    STATE_FILE,
    VKEY_FILE,
    BodySigner,
    Checkpoint,
    LeafSource,
    LedgerVerifier,
    checkpoint_body,
    key_dir_lock,
    load_or_create_signer,
    load_verifier,
    make_note,
)
from veil.audit.merkle import leaf_hash
from veil.audit.signer import RemoteSigner, parse_signer_url
from veil.audit.witness import WitnessEndpoint, witness_problem
from veil.exceptions import LedgerError
from veil.sqlengine import create_tables
from veil.store.home import veil_home

ConsistencyProof = _verify.ConsistencyProof
InclusionProof = _verify.InclusionProof
LedgerVerificationError = _verify.LedgerVerificationError
VerifyReport = _verify.VerifyReport

__all__ = [
    "ConsistencyProof",
    "EntryRef",
    "InclusionProof",
    "Ledger",
    "LedgerEntry",
    "LedgerVerificationError",
    "PendingEgress",
    "VerifyReport",
    "default_key_dir",
    "default_ledger_url",
    "veil_home",
]


def default_ledger_url() -> str:
    return f"sqlite:///{veil_home() / 'ledger.sqlite3'}"


def default_signer() -> Path | None:
    """The external signer's socket from VEIL_LEDGER_SIGNER (`unix:PATH`), None when unset."""
    env = os.environ.get("VEIL_LEDGER_SIGNER")
    return parse_signer_url(env) if env else None


def default_key_dir() -> Path:
    """VEIL_LEDGER_KEY_DIR when set (keep the key apart from the database), else $VEIL_HOME/ledger-keys."""
    env = os.environ.get("VEIL_LEDGER_KEY_DIR")
    return Path(env) if env else veil_home() / "ledger-keys"


@dataclass(frozen=True, slots=True)
class EntryRef:
    """Where an appended event landed: a stable id, its position and its RFC 9162 leaf hash."""

    id: str
    seq: int
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One entry as read back: its position, the ledger's time of the append (UTC), kind and event."""

    seq: int
    time: datetime
    kind: str
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PendingEgress:
    """An egress intent with no completion: the send may or may not have happened."""

    seq: int
    time: datetime
    intent: EgressIntentEvent


Build = Callable[[Session, Anchor], LedgerEvent]


class Ledger:
    """One ledger in one database, signed by the key in `key_dir`, anchored by the signed state
    file `state_file` (default: beside the key). With `signer` (a Unix socket; default
    VEIL_LEDGER_SIGNER) the private key stays in that signer process and key_dir holds only the
    public key and the state file. Use `Ledger.open`."""

    def __init__(
        self,
        engine: Engine,
        key_dir: Path,
        state_file: Path | None = None,
        witnesses: Sequence[WitnessEndpoint] = (),
        signer: Path | None = None,
    ) -> None:
        self._engine = engine
        self._witnesses = tuple(witnesses)
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        # Readers see one snapshot: on PostgreSQL's default READ COMMITTED, the state row and the
        # entries read by two statements could straddle another process's commit.
        self._reader = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self.key_dir = key_dir
        self.state_file = state_file or key_dir / STATE_FILE
        self.signer_socket = signer if signer is not None else default_signer()
        self._signer: BodySigner | None = None
        self._anchor: Anchor | None = None  # the last tree this process saw signed

    @classmethod
    def open(
        cls,
        url: str,
        key_dir: Path,
        state_file: Path | None = None,
        witnesses: Sequence[WitnessEndpoint] = (),
        signer: Path | None = None,
    ) -> Ledger:
        """Connect, create the tables if missing. The key is only made by the first write.
        `witnesses` are asked to cosign every checkpoint (C2SP tlog-witness)."""
        engine = make_engine(url)
        writer = engine.execution_options(**{WRITE_OPTION: True})
        try:
            # Under the write lock (BEGIN IMMEDIATE on SQLite): processes opening a brand-new
            # ledger at once queue here; a deferred transaction that read the schema first could
            # not take the lock and failed with "database is locked".
            create_tables(engine, Base.metadata, immediate_option=WRITE_OPTION)
            with Session(writer) as s, s.begin():
                if s.get(StateRow, 1) is None:
                    s.add(StateRow(id=1, size=0, frontier=b"", origin=None))
        except IntegrityError:
            pass  # another process created the state row between our check and insert
        except SQLAlchemyError as exc:
            engine.dispose()
            raise LedgerError(f"cannot open ledger database: {type(exc).__name__}") from exc
        return cls(engine, key_dir, state_file, witnesses, signer)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    # --- keys ----------------------------------------------------------------------------------

    def signer(self) -> BodySigner:
        """The key; a new key comes with a signed empty state, so a key without one was tampered with."""
        if self._signer is None:
            with key_dir_lock(self.key_dir):
                if self.signer_socket is not None:
                    fresh, signer = self._remote_signer(self.signer_socket)
                else:
                    fresh = not (self.key_dir / PRIVATE_FILE).exists()
                    signer = load_or_create_signer(self.key_dir)
                if fresh:
                    anchor.write_anchor(self.state_file, Anchor(), signer, locked=True, leaves=lambda _: [])
            self._signer = signer
        return self._signer

    def _remote_signer(self, path: Path) -> tuple[bool, BodySigner]:
        """The signer process's key; its public key is kept in key_dir (verifiers read it there)."""
        signer = RemoteSigner(path)
        if (self.key_dir / PRIVATE_FILE).exists():
            raise LedgerError(
                f"{self.key_dir} holds a private ledger key although an external signer is configured; "
                "move the key to the signer's folder"
            )
        if not (self.key_dir / PUBLIC_FILE).exists():
            # First use: a new log (the empty state gets signed) or one moved to a signer (a state
            # file still has to come from `veil audit reanchor`).
            self.key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            (self.key_dir / PUBLIC_FILE).write_bytes(signer.public_pem())
            (self.key_dir / VKEY_FILE).write_text(signer.vkey + "\n", encoding="ascii")
            with Session(self._reader) as s:
                return _verify.is_empty(s) and not self.state_file.exists(), signer
        known = load_verifier(self.key_dir)
        if known.name != signer.name:
            raise LedgerError(
                f"the signer at {path} holds key {signer.name}, {self.key_dir} key {known.name}"
            )
        return False, signer

    def _leaves(self, s: Session, end: int, pending: Sequence[bytes] = ()) -> LeafSource:
        """Leaf hashes from a given size up to `end` (recomputed from the bodies), then `pending`."""

        def leaves(start: int) -> list[bytes]:
            rows = s.scalars(
                select(EntryRow.body).where(EntryRow.seq >= start, EntryRow.seq < end).order_by(EntryRow.seq)
            )
            return [leaf_hash(body) for body in rows] + list(pending)

        return leaves

    def _committed_leaves(self, end: int) -> LeafSource:
        def leaves(start: int) -> list[bytes]:
            with Session(self._reader) as s:
                return list(self._leaves(s, end)(start))

        return leaves

    def verifier(self) -> LedgerVerifier:
        return self._signer if self._signer is not None else load_verifier(self.key_dir)

    # --- writing -------------------------------------------------------------------------------

    def append(self, event: LedgerEvent) -> EntryRef:
        """Append one event; LedgerError if the ledger's state is damaged or the write fails."""

        def build(s: Session, trusted: Anchor) -> LedgerEvent:
            if isinstance(event, EgressCompletedEvent):
                self._open_intent(s, trusted, event.intent_id)
            elif isinstance(event, EgressIntentEvent) and event.intent_id in trusted.open:
                raise LedgerError(f"egress intent {event.intent_id} is already open")
            return event

        return self._append(build)

    def begin_egress(
        self,
        *,
        destination: str,
        policy_version: str,
        payload_sha256: str,
        size: int,
        model: str,
        intent_id: str | None = None,
    ) -> str:
        """Record the intent to send, before sending; returns the intent id to complete it with
        (`intent_id` when given: 32 hex digits the caller already recorded elsewhere)."""
        if intent_id is None:
            intent_id = uuid.uuid4().hex
        elif len(intent_id) != 32 or any(c not in "0123456789abcdef" for c in intent_id):
            raise LedgerError("an egress intent id is 32 lowercase hex digits")
        self.append(EgressIntentEvent(intent_id, destination, policy_version, payload_sha256, size, model))
        return intent_id

    def complete_egress(self, intent_id: str, *, outcome: str = "sent") -> EntryRef:
        """Record that the send of `intent_id` returned, with outcome "sent" or "failed"."""
        if outcome not in ("sent", "failed"):
            raise LedgerError("egress outcome must be 'sent' or 'failed'")

        def build(s: Session, trusted: Anchor) -> LedgerEvent:
            intent, _ = self._open_intent(s, trusted, intent_id)
            return EgressCompletedEvent(
                intent.intent_id,
                intent.destination,
                intent.policy_version,
                intent.payload_sha256,
                intent.size,
                intent.model,
                outcome,
            )

        return self._append(build)

    def checkpoint(self) -> Checkpoint:
        """Sign and store the current tree head (idempotent for an unchanged tree)."""
        signer = self.signer()
        try:
            with Session(self._writer) as s, s.begin():
                state = self._lock_state(s, signer)
                trusted = self._trusted(s, signer, state)
                existing = s.get(CheckpointRow, state.size)
                if existing is not None:
                    cp = signer.open_note(existing.note)
                    if cp.root != trusted.root():
                        anchor.refuse(s, signer, trusted)
                else:
                    root = trusted.root()
                    body = checkpoint_body(signer.name, state.size, root)
                    sig = signer.sign_body(body, KIND_CHECKPOINT, self._leaves(s, state.size))
                    note = make_note(signer, body, sig)
                    s.add(CheckpointRow(size=state.size, root=root, note=note, created_at=_now()))
                    cp = Checkpoint(signer.name, state.size, root, note)
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger checkpoint failed: {type(exc).__name__}") from exc
        self._keep(trusted, signer)
        return self._cosigned(cp)

    def _cosigned(self, cp: Checkpoint) -> Checkpoint:
        """`cp` with a cosignature from every configured witness (asked only for those missing);
        LedgerError when one refuses or cannot be reached. The checkpoint itself is already stored."""
        lines = ""
        for w in self._witnesses:
            if w.verifier.cosignature_time(cp.note + lines) is None:
                lines += w.cosign(
                    cp.note + lines, cp.size, lambda old: self.consistency_proof(old, cp.size).path
                )
        if not lines:
            return cp
        try:
            with Session(self._writer) as s, s.begin():
                row = s.get(CheckpointRow, cp.size)
                if row is not None:
                    row.note += "".join(
                        line for line in lines.splitlines(keepends=True) if line not in row.note
                    )
                    cp = Checkpoint(cp.origin, cp.size, cp.root, row.note)
        except SQLAlchemyError as exc:
            raise LedgerError(f"storing witness cosignatures failed: {type(exc).__name__}") from exc
        return cp

    def reanchor(self, *, who: str, reason: str) -> EntryRef:
        """Trust the stored log again after the state file was lost or replaced: verify it whole,
        record who did it and why in the ledger, and write a new state file."""
        signer = self.signer()
        try:
            with Session(self._writer) as s, s.begin():
                state = self._lock_state(s, signer)
                current, previous = anchor.current(self.state_file, signer)
                if current is not None and _syncs(s, signer, current, state):
                    raise LedgerError("the ledger is already anchored by a valid state file: nothing to do")
                _verify.verify_ledger(s, signer).raise_for_failure()
                trusted = anchor.rebuild(s)
                event = ReanchorEvent(who=who, reason=reason, size=trusted.size, previous=previous)
                ref, after = self._insert(s, state, trusted, signer, event)
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger re-anchor failed: {type(exc).__name__}") from exc
        self._anchor = after
        anchor.write_anchor(
            self.state_file, after, signer, replace=True, leaves=self._committed_leaves(after.size)
        )
        return ref

    def _append(self, build: Build) -> EntryRef:
        signer = self.signer()
        try:
            with Session(self._writer) as s, s.begin():
                state = self._lock_state(s, signer)
                trusted = self._trusted(s, signer, state)
                ref, after = self._insert(s, state, trusted, signer, build(s, trusted))
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger append failed: {type(exc).__name__}") from exc
        self._keep(after, signer)
        return ref

    def _keep(self, trusted: Anchor, signer: BodySigner) -> None:
        # After the commit: a crash before this write leaves the file behind the database, and
        # the next sync accepts the entries in between by their signed tree heads.
        self._anchor = trusted
        anchor.write_anchor(self.state_file, trusted, signer, leaves=self._committed_leaves(trusted.size))

    def _lock_state(self, s: Session, signer: BodySigner) -> StateRow:
        state = s.execute(select(StateRow).where(StateRow.id == 1).with_for_update()).scalar_one()
        if state.origin is None:
            state.origin = signer.name
        elif state.origin != signer.name:
            raise LedgerError(
                f"ledger was signed by key {state.origin} but {self.key_dir} holds key {signer.name}"
            )
        return state

    def _trusted(self, s: Session, v: LedgerVerifier, state: StateRow, known: Anchor | None = None) -> Anchor:
        """The stored tree, checked against what this key last signed (`known`, else memory, else
        the state file)."""
        if known is None:
            known = self._anchor or anchor.read_anchor(self.state_file, v)
        if known is None:
            raise LedgerError(
                f"the ledger has no signed state file at {self.state_file}, so it cannot tell whether "
                f"the database was rewritten; {REANCHOR_HINT}"
            )
        trusted = anchor.sync(s, v, known, state)
        self._anchor = trusted
        return trusted

    def _open_intent(self, s: Session, trusted: Anchor, intent_id: str) -> tuple[EgressIntentEvent, EntryRow]:
        """The open intent `intent_id` read from its hashed body, with its row; LedgerError when no
        such intent is open."""
        found = trusted.open.get(intent_id)
        if found is None:
            was = any(
                isinstance(e, EgressIntentEvent) and e.intent_id == intent_id
                for e in map(
                    _verify.decode_event, s.scalars(select(EntryRow).where(EntryRow.ref == intent_id))
                )
            )
            raise LedgerError(
                f"egress intent {intent_id} is already completed"
                if was
                else f"no egress intent {intent_id} in the ledger"
            )
        seq, leaf = found
        row = s.get(EntryRow, seq)
        if row is None or leaf_hash(row.body) != leaf:
            anchor.refuse(s, self.verifier(), trusted)
        intent = _verify.decode_intent(row)
        if intent.intent_id != intent_id:
            anchor.refuse(s, self.verifier(), trusted)
        return intent, row

    def _insert(
        self, s: Session, state: StateRow, trusted: Anchor, signer: BodySigner, event: LedgerEvent
    ) -> tuple[EntryRef, Anchor]:
        seq, now, entry_id = state.size, _now(), uuid.uuid4().hex
        body = canonical_json(
            {
                "id": entry_id,
                "seq": seq,
                "time": now.isoformat(),
                "kind": event.kind,
                "event": event.to_dict(),
            }
        )
        leaf = leaf_hash(body)
        after = trusted.copy()
        after.add(seq, event, leaf)
        head = checkpoint_body(signer.name, seq + 1, after.root())
        ref = getattr(event, "intent_id", None)
        s.add(
            EntryRow(
                seq=seq,
                entry_id=entry_id,
                kind=event.kind,
                ref=ref,
                body=body,
                leaf_hash=leaf,
                head_sig=signer.sign_body(head, KIND_HEAD, self._leaves(s, seq, [leaf])),
                created_at=now,
            )
        )
        state.size, state.frontier = after.size, after.frontier.to_bytes()
        return EntryRef(entry_id, seq, leaf), after

    # --- reading -------------------------------------------------------------------------------

    def size(self) -> int:
        with Session(self._reader) as s:
            return s.execute(select(StateRow.size).where(StateRow.id == 1)).scalar_one()

    def entries(
        self,
        kinds: Collection[str] | None = None,
        *,
        after_seq: int = -1,
        upto_seq: int | None = None,
        newest_first: bool = False,
        batch: int = 1000,
    ) -> Iterator[LedgerEntry]:
        """Entries with after_seq < seq <= upto_seq, of `kinds` if given, oldest (or newest) first.
        Each is decoded from its hashed body, checked against its leaf hash, and its seq and kind
        columns against the body: a changed body or column raises LedgerError. (The whole tree
        against its signatures is `verify`.) Read in batches, each in its own short transaction."""
        last = upto_seq + 1 if newest_first and upto_seq is not None else None
        first = after_seq
        while True:
            query = select(EntryRow).where(EntryRow.seq > first)
            if kinds is not None:
                query = query.where(EntryRow.kind.in_(list(kinds)))
            if upto_seq is not None:
                query = query.where(EntryRow.seq <= upto_seq)
            if last is not None:
                query = query.where(EntryRow.seq < last)
            order = EntryRow.seq.desc() if newest_first else EntryRow.seq
            try:
                with Session(self._engine) as s:
                    rows = [_entry(row) for row in s.scalars(query.order_by(order).limit(batch))]
            except SQLAlchemyError as exc:
                raise LedgerError(f"cannot read the ledger: {type(exc).__name__}") from exc
            yield from rows
            if len(rows) < batch:
                return
            first, last = (first, rows[-1].seq) if newest_first else (rows[-1].seq, last)

    def pending_egress(self) -> list[PendingEgress]:
        """Egress intents without a completion, oldest first (a crashed send shows up here). Read
        from the signed state and the hashed bodies: a column edit cannot hide one."""
        out: list[PendingEgress] = []
        if self._signer is None and not (self.key_dir / PUBLIC_FILE).exists():
            with Session(self._reader) as s:
                if _verify.is_empty(s):
                    return out  # nothing written yet, so no key made yet either
        v = self.verifier()
        # What the key signed, read before the database's snapshot is taken: the state file is
        # replaced after each commit, so it is never ahead of that snapshot.
        known = self._anchor or anchor.read_anchor(self.state_file, v)
        with Session(self._reader) as s:
            state = s.execute(select(StateRow).where(StateRow.id == 1)).scalar_one()
            trusted = self._trusted(s, v, state, known)
            for intent_id in sorted(trusted.open, key=lambda k: trusted.open[k][0]):
                intent, row = self._open_intent(s, trusted, intent_id)
                time = datetime.fromisoformat(json.loads(row.body)["time"])
                out.append(PendingEgress(row.seq, _verify.as_utc(time), intent))
        return out

    def verify(self, witnesses: Sequence[WitnessVerifier] = ()) -> VerifyReport:
        """Recompute the whole tree and check every signature, the signed state file if there is
        one, and that the latest checkpoint carries a valid cosignature by each of `witnesses`.
        Returns a report (ok or naming the first bad entry); call `.raise_for_failure()` to turn a
        failure into LedgerVerificationError."""
        report = self._verify_stored()
        if not report.ok or not witnesses:
            return report
        with Session(self._reader) as s:
            notes = {c.size: c.note for c in s.scalars(select(CheckpointRow))}
        problem, size = witness_problem(notes, witnesses)
        if not problem:
            return report
        return VerifyReport(False, report.size, report.checkpoints_checked, None, size, f"witness: {problem}")

    def _verify_stored(self) -> VerifyReport:
        if self._signer is None and not (self.key_dir / PUBLIC_FILE).exists():
            with Session(self._reader) as s:
                if _verify.is_empty(s):
                    return VerifyReport(True, 0, 0)  # nothing written yet, so no key made yet either
        v = self.verifier()
        try:  # the file before the database: it is replaced after each commit, so never ahead
            known, problem = anchor.read_anchor(self.state_file, v), None
        except LedgerError as exc:
            known, problem = None, exc
        with Session(self._reader) as s:
            if problem is not None:
                report = _verify.verify_ledger(s, v)
                if not report.ok:
                    return report
                return VerifyReport(False, report.size, report.checkpoints_checked, reason=f"{problem}")
            return _verify.verify_ledger(s, v, (known.size, known.root()) if known else None)

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        with Session(self._reader) as s:
            return _verify.inclusion(s, self.verifier(), seq, tree_size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        with Session(self._reader) as s:
            return _verify.consistency(s, self.verifier(), old_size, new_size)

    def check_consistency(self, old_note: str) -> ConsistencyProof:
        """Prove the log only grew since the checkpoint `old_note` an auditor kept; raises
        LedgerVerificationError when the log was rolled back or its history rewritten."""
        with Session(self._reader) as s:
            return _verify.check_against(s, self.verifier(), old_note)

    def export(self, directory: Path) -> Path:
        """Write entries, checkpoints and the public key for an independent auditor."""
        with Session(self._reader) as s:
            return _verify.export(s, self.verifier(), directory)


def _syncs(s: Session, v: LedgerVerifier, known: Anchor, state: StateRow) -> bool:
    try:
        anchor.sync(s, v, known, state)
    except LedgerError:
        return False
    return True


def _entry(row: EntryRow) -> LedgerEntry:
    if leaf_hash(row.body) != row.leaf_hash:
        raise LedgerError(f"ledger entry {row.seq} does not match its leaf hash; run `veil audit verify`")
    try:
        data = json.loads(row.body)
        entry = LedgerEntry(
            int(data["seq"]),
            _verify.as_utc(datetime.fromisoformat(data["time"])),
            str(data["kind"]),
            dict(data["event"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"ledger entry {row.seq} is not a valid entry") from exc
    if entry.seq != row.seq or entry.kind != row.kind:
        raise LedgerError(f"ledger entry {row.seq} does not match its columns; run `veil audit verify`")
    return entry


def _now() -> datetime:
    return datetime.now(UTC)
