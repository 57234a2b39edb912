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

Appends are serialised: one transaction that locks the single state row (SELECT ... FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite), so concurrent writers queue and never fork the tree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from veil.audit import _verify
from veil.audit._tables import WRITE_OPTION, Base, CheckpointRow, EntryRow, StateRow, make_engine
from veil.audit.events import EgressCompletedEvent, EgressIntentEvent, LedgerEvent, canonical_json
from veil.audit.keys import (
    PUBLIC_FILE,
    Checkpoint,
    LedgerSigner,
    LedgerVerifier,
    checkpoint_body,
    load_or_create_signer,
    load_verifier,
    make_note,
)
from veil.audit.merkle import Frontier, leaf_hash
from veil.exceptions import LedgerError
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
    "LedgerVerificationError",
    "PendingEgress",
    "VerifyReport",
    "default_key_dir",
    "default_ledger_url",
    "veil_home",
]


def default_ledger_url() -> str:
    return f"sqlite:///{veil_home() / 'ledger.sqlite3'}"


def default_key_dir() -> Path:
    return veil_home() / "ledger-keys"


@dataclass(frozen=True, slots=True)
class EntryRef:
    """Where an appended event landed: a stable id, its position and its RFC 9162 leaf hash."""

    id: str
    seq: int
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class PendingEgress:
    """An egress intent with no completion: the send may or may not have happened."""

    seq: int
    time: datetime
    intent: EgressIntentEvent


class Ledger:
    """One ledger in one database, signed by the key in `key_dir`. Use `Ledger.open`."""

    def __init__(self, engine: Engine, key_dir: Path) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self.key_dir = key_dir
        self._signer: LedgerSigner | None = None

    @classmethod
    def open(cls, url: str, key_dir: Path) -> Ledger:
        """Connect, create the tables if missing. The key is only made by the first write."""
        engine = make_engine(url)
        try:
            Base.metadata.create_all(engine)
            with Session(engine.execution_options(**{WRITE_OPTION: True})) as s, s.begin():
                if s.get(StateRow, 1) is None:
                    s.add(StateRow(id=1, size=0, frontier=b"", origin=None))
        except IntegrityError:
            pass  # another process created the state row between our check and insert
        except SQLAlchemyError as exc:
            engine.dispose()
            raise LedgerError(f"cannot open ledger database: {type(exc).__name__}") from exc
        return cls(engine, key_dir)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    # --- keys ----------------------------------------------------------------------------------

    def signer(self) -> LedgerSigner:
        if self._signer is None:
            self._signer = load_or_create_signer(self.key_dir)
        return self._signer

    def verifier(self) -> LedgerVerifier:
        return self._signer if self._signer is not None else load_verifier(self.key_dir)

    # --- writing -------------------------------------------------------------------------------

    def append(self, event: LedgerEvent) -> EntryRef:
        """Append one event; LedgerError if the ledger's state is damaged or the write fails."""
        signer = self.signer()
        try:
            with Session(self._writer) as s, s.begin():
                state = self._lock_state(s, signer)
                if isinstance(event, EgressCompletedEvent):
                    self._check_open_intent(s, event.intent_id)
                return self._insert(s, state, signer, event)
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger append failed: {type(exc).__name__}") from exc

    def begin_egress(
        self, *, destination: str, policy_version: str, payload_sha256: str, size: int, model: str
    ) -> str:
        """Record the intent to send, before sending; returns the intent id to complete it with."""
        intent_id = uuid.uuid4().hex
        self.append(EgressIntentEvent(intent_id, destination, policy_version, payload_sha256, size, model))
        return intent_id

    def complete_egress(self, intent_id: str, *, outcome: str = "sent") -> EntryRef:
        """Record that the send of `intent_id` returned, with outcome "sent" or "failed"."""
        if outcome not in ("sent", "failed"):
            raise LedgerError("egress outcome must be 'sent' or 'failed'")
        with Session(self._engine) as s:
            row = s.scalars(
                select(EntryRow).where(EntryRow.ref == intent_id, EntryRow.kind == EgressIntentEvent.kind)
            ).first()
        if row is None:
            raise LedgerError(f"no egress intent {intent_id} in the ledger")
        intent = _verify.decode_intent(row)
        return self.append(
            EgressCompletedEvent(
                intent.intent_id,
                intent.destination,
                intent.policy_version,
                intent.payload_sha256,
                intent.size,
                intent.model,
                outcome,
            )
        )

    def checkpoint(self) -> Checkpoint:
        """Sign and store the current tree head (idempotent for an unchanged tree)."""
        signer = self.signer()
        try:
            with Session(self._writer) as s, s.begin():
                state = self._lock_state(s, signer)
                existing = s.get(CheckpointRow, state.size)
                if existing is not None:
                    return signer.open_note(existing.note)
                root = Frontier.from_bytes(state.size, state.frontier).root()
                body = checkpoint_body(signer.name, state.size, root)
                note = make_note(signer, body, signer.sign_body(body))
                s.add(CheckpointRow(size=state.size, root=root, note=note, created_at=_now()))
                return Checkpoint(signer.name, state.size, root, note)
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger checkpoint failed: {type(exc).__name__}") from exc

    def _lock_state(self, s: Session, signer: LedgerSigner) -> StateRow:
        state = s.execute(select(StateRow).where(StateRow.id == 1).with_for_update()).scalar_one()
        if state.origin is None:
            state.origin = signer.name
        elif state.origin != signer.name:
            raise LedgerError(
                f"ledger was signed by key {state.origin} but {self.key_dir} holds key {signer.name}"
            )
        last = s.scalar(select(func.max(EntryRow.seq)))
        if (last if last is not None else -1) != state.size - 1:
            raise LedgerError(
                f"ledger state says {state.size} entries but the last stored seq is {last}; "
                "refusing to write: run `veil audit verify`"
            )
        return state

    def _check_open_intent(self, s: Session, intent_id: str) -> None:
        kinds = set(s.scalars(select(EntryRow.kind).where(EntryRow.ref == intent_id)))
        if EgressIntentEvent.kind not in kinds:
            raise LedgerError(f"no egress intent {intent_id} in the ledger")
        if EgressCompletedEvent.kind in kinds:
            raise LedgerError(f"egress intent {intent_id} is already completed")

    def _insert(self, s: Session, state: StateRow, signer: LedgerSigner, event: LedgerEvent) -> EntryRef:
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
        frontier = Frontier.from_bytes(state.size, state.frontier)
        frontier.append(leaf)
        head = checkpoint_body(signer.name, seq + 1, frontier.root())
        ref = getattr(event, "intent_id", None)
        s.add(
            EntryRow(
                seq=seq,
                entry_id=entry_id,
                kind=event.kind,
                ref=ref,
                body=body,
                leaf_hash=leaf,
                head_sig=signer.sign_body(head),
                created_at=now,
            )
        )
        state.size, state.frontier = frontier.size, frontier.to_bytes()
        return EntryRef(entry_id, seq, leaf)

    # --- reading -------------------------------------------------------------------------------

    def size(self) -> int:
        with Session(self._engine) as s:
            return s.execute(select(StateRow.size).where(StateRow.id == 1)).scalar_one()

    def pending_egress(self) -> list[PendingEgress]:
        """Egress intents without a completion, oldest first (a crashed send shows up here)."""
        done = select(EntryRow.ref).where(EntryRow.kind == EgressCompletedEvent.kind)
        query = (
            select(EntryRow)
            .where(EntryRow.kind == EgressIntentEvent.kind, EntryRow.ref.not_in(done))
            .order_by(EntryRow.seq)
        )
        out: list[PendingEgress] = []
        with Session(self._engine) as s:
            for row in s.scalars(query):
                intent = _verify.decode_intent(row)
                out.append(PendingEgress(row.seq, _verify.as_utc(row.created_at), intent))
        return out

    def verify(self) -> VerifyReport:
        """Recompute the whole tree and check every signature. Returns a report (ok or naming the
        first bad entry); call `.raise_for_failure()` to turn a failure into LedgerVerificationError."""
        with Session(self._engine) as s:
            if _verify.is_empty(s) and not (self.key_dir / PUBLIC_FILE).exists():
                return VerifyReport(True, 0, 0)  # nothing written yet, so no key made yet either
            return _verify.verify_ledger(s, self.verifier())

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        with Session(self._engine) as s:
            return _verify.inclusion(s, self.verifier(), seq, tree_size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        with Session(self._engine) as s:
            return _verify.consistency(s, self.verifier(), old_size, new_size)

    def check_consistency(self, old_note: str) -> ConsistencyProof:
        """Prove the log only grew since the checkpoint `old_note` an auditor kept; raises
        LedgerVerificationError when the log was rolled back or its history rewritten."""
        with Session(self._engine) as s:
            return _verify.check_against(s, self.verifier(), old_note)

    def export(self, directory: Path) -> Path:
        """Write entries, checkpoints and the public key for an independent auditor."""
        with Session(self._engine) as s:
            return _verify.export(s, self.verifier(), directory)


def _now() -> datetime:
    return datetime.now(UTC)
