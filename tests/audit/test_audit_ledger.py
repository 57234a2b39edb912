"""The stored ledger on SQLite and PostgreSQL: appends, proofs, egress intents, and tamper detection."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from tests.audit.tamper import entry_body, run_sql

from veil.audit import merkle
from veil.audit.events import (
    CaptureEvent,
    DeletionEvent,
    LedgerEvent,
    PolicyChangeEvent,
    RawAccessEvent,
    RedactionSummaryEvent,
    canonical_json,
)
from veil.audit.keys import LedgerSigner, checkpoint_body
from veil.audit.store import Ledger, LedgerVerificationError
from veil.exceptions import LedgerError

SHA = "ab" * 32


def _event(i: int) -> LedgerEvent:
    kinds: list[LedgerEvent] = [
        CaptureEvent(f"rec-{i}", "video-file", SHA, frames=10 + i, duration_seconds=i / 4),
        RedactionSummaryEvent(f"rec-{i}", "1", 10, 1, {"phone": i, "email": 2}, {"ocr-failed": 1}),
        RawAccessEvent(
            f"rec-{i}", "officer-a", "regulator request 42", "officer-b", datetime(2030, 1, 1, tzinfo=UTC)
        ),
        DeletionEvent(f"rec-{i}", "raw-recording", "retention"),
        PolicyChangeEvent("1", "2", SHA, "officer-a"),
    ]
    return kinds[i % len(kinds)]


def _filled(url: str, key_dir: Path, n: int = 12) -> Ledger:
    ledger = Ledger.open(url, key_dir)
    for i in range(n):
        ledger.append(_event(i))
    return ledger


def test_append_verify_and_proofs(ledger_url: str, key_dir: Path) -> None:
    with _filled(ledger_url, key_dir) as ledger:
        refs = [ledger.append(_event(99))]
        assert refs[0].seq == 12 and ledger.size() == 13
        assert refs[0].leaf_hash == merkle.leaf_hash(entry_body(ledger_url, 12))
        cp = ledger.checkpoint()
        assert cp.size == 13 and ledger.checkpoint() == cp
        report = ledger.verify()
        assert report.ok and report.size == 13 and report.checkpoints_checked == 1
        for seq in (0, 5, 12):
            proof = ledger.inclusion_proof(seq)
            assert proof.verify() and proof.root == cp.root
            assert proof.checkpoint == cp.note
        small = ledger.inclusion_proof(2, tree_size=3)
        assert small.verify() and small.tree_size == 3
        cons = ledger.consistency_proof(5)
        assert cons.verify() and cons.new_root == cp.root
        with pytest.raises(LedgerError, match="not in a tree"):
            ledger.inclusion_proof(13)


def test_key_is_made_on_first_write_and_private(ledger_url: str, key_dir: Path) -> None:
    ledger = Ledger.open(ledger_url, key_dir)
    assert not key_dir.exists()
    ledger.append(_event(0))
    assert (key_dir / "ledger.key").stat().st_mode & 0o777 == 0o600
    assert (key_dir / "ledger.pub").exists()
    ledger.close()


def test_other_key_is_refused(ledger_url: str, key_dir: Path, tmp_path: Path) -> None:
    _filled(ledger_url, key_dir, 2).close()
    with (
        Ledger.open(ledger_url, tmp_path / "other-keys") as ledger,
        pytest.raises(LedgerError, match="signed by key"),
    ):
        ledger.append(_event(3))


def test_egress_intent_complete_and_crash(ledger_url: str, key_dir: Path) -> None:
    ledger = Ledger.open(ledger_url, key_dir)
    done = ledger.begin_egress(
        destination="local", policy_version="3", payload_sha256=SHA, size=120, model="m1"
    )
    ledger.complete_egress(done, outcome="sent")
    crashed = ledger.begin_egress(
        destination="gemini", policy_version="3", payload_sha256=SHA, size=7, model="m2"
    )
    ledger.close()  # the process dies here, before the send returned
    with Ledger.open(ledger_url, key_dir) as again:
        pending = again.pending_egress()
        assert [p.intent.intent_id for p in pending] == [crashed]
        assert pending[0].intent.destination == "gemini" and pending[0].seq == 2
        again.complete_egress(crashed, outcome="failed")
        assert again.pending_egress() == []
        with pytest.raises(LedgerError, match="already completed"):
            again.complete_egress(crashed)
        with pytest.raises(LedgerError, match="no egress intent"):
            again.complete_egress("0" * 32)
        assert again.verify().ok


def test_concurrent_writers_never_fork(ledger_url: str, key_dir: Path) -> None:
    Ledger.open(ledger_url, key_dir).close()
    errors: list[Exception] = []

    def worker(w: int) -> None:
        try:
            with Ledger.open(ledger_url, key_dir) as ledger:
                for i in range(15):
                    ledger.append(_event(w * 100 + i))
        except (LedgerError, OSError) as exc:  # collected and asserted on in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Ledger.open(ledger_url, key_dir) as ledger:
        report = ledger.verify()
        assert report.ok and report.size == 60


def _swap(url: str, a: int, b: int) -> None:
    update = "UPDATE veil_ledger_entries SET seq = :new WHERE seq = :old"
    run_sql(
        url, (update, {"new": -1, "old": a}), (update, {"new": a, "old": b}), (update, {"new": b, "old": -1})
    )


def _change_body(url: str, seq: int, rehash: bool) -> None:
    data = json.loads(entry_body(url, seq))
    name = next(k for k, v in sorted(data["event"].items()) if isinstance(v, str))
    data["event"][name] += "-altered"
    body = canonical_json(data)
    sql = (
        "UPDATE veil_ledger_entries SET body = :b"
        + (", leaf_hash = :h" if rehash else "")
        + " WHERE seq = :s"
    )
    run_sql(url, (sql, {"b": body, "h": merkle.leaf_hash(body), "s": seq}))


def _insert_middle(url: str, seq: int) -> None:
    """Shift entries up (one by one: PostgreSQL checks the key per row) and forge one at `seq`."""
    engine = create_engine(url)
    with engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM veil_ledger_entries")).scalar_one()
        for s in range(last, seq - 1, -1):
            conn.execute(text("UPDATE veil_ledger_entries SET seq = seq + 1 WHERE seq = :s"), {"s": s})
        _forge(conn, seq, "forged-entry")
        conn.execute(text("UPDATE veil_ledger_state SET size = size + 1"))
    engine.dispose()


def _forge(conn: Connection, seq: int, entry_id: str) -> None:
    now = datetime.now(UTC)
    body = canonical_json(
        {"id": entry_id, "seq": seq, "time": now.isoformat(), "kind": "deletion",
         "event": DeletionEvent("rec-x", "raw-recording", "retention").to_dict()}
    )  # fmt: skip
    conn.execute(
        text(
            "INSERT INTO veil_ledger_entries (seq, entry_id, kind, ref, body, leaf_hash, head_sig,"
            " created_at) VALUES (:seq, :id, 'deletion', NULL, :body, :leaf, :sig, :at)"
        ),
        {
            "seq": seq,
            "id": entry_id,
            "body": body,
            "leaf": merkle.leaf_hash(body),
            "sig": b"\0" * 64,
            "at": now,
        },
    )


def _append_forged(url: str) -> None:
    """An attacker without the key appends a well-formed entry and fixes the state row."""
    engine = create_engine(url)
    with engine.begin() as conn:
        n = conn.execute(text("SELECT size FROM veil_ledger_state")).scalar_one()
        _forge(conn, n, "forged-tail")
        leaves = [
            bytes(x)
            for x in conn.execute(text("SELECT leaf_hash FROM veil_ledger_entries ORDER BY seq")).scalars()
        ]
        frontier = merkle.Frontier()
        for leaf in leaves:
            frontier.append(leaf)
        conn.execute(
            text("UPDATE veil_ledger_state SET size = :n, frontier = :f"),
            {"n": n + 1, "f": frontier.to_bytes()},
        )
    engine.dispose()


TAMPERS: dict[str, tuple[Callable[[str], None], int]] = {
    "change body": (lambda u: _change_body(u, 4, rehash=False), 4),
    "change body and leaf hash": (lambda u: _change_body(u, 4, rehash=True), 4),
    "delete one": (lambda u: run_sql(u, ("DELETE FROM veil_ledger_entries WHERE seq = 6", {})), 6),
    "delete the last": (lambda u: run_sql(u, ("DELETE FROM veil_ledger_entries WHERE seq = 11", {})), 11),
    "swap two": (lambda u: _swap(u, 3, 8), 3),
    "insert in the middle": (lambda u: _insert_middle(u, 5), 5),
    "append without the key": (_append_forged, 12),
    "change the time": (
        lambda u: run_sql(
            u,
            (
                "UPDATE veil_ledger_entries SET created_at = :t WHERE seq = 2",
                {"t": datetime(2020, 1, 1, tzinfo=UTC)},
            ),
        ),
        2,
    ),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_tampering_is_found_and_named(ledger_url: str, key_dir: Path, tamper: str) -> None:
    _filled(ledger_url, key_dir).close()
    action, first_bad = TAMPERS[tamper]
    action(ledger_url)
    with Ledger.open(ledger_url, key_dir) as ledger:
        report = ledger.verify()
        assert not report.ok
        assert report.first_bad == first_bad, report.reason
        assert f"entry {first_bad}" in report.reason
        with pytest.raises(LedgerVerificationError) as info:
            report.raise_for_failure()
        assert info.value.exit_code == 7 and info.value.first_bad == first_bad


def test_tampered_checkpoint_is_found(ledger_url: str, key_dir: Path) -> None:
    with _filled(ledger_url, key_dir) as ledger:
        note = ledger.checkpoint().note
    forged = note.replace("\n12\n", "\n11\n")
    run_sql(ledger_url, ("UPDATE veil_ledger_checkpoints SET note = :n, size = 11", {"n": forged}))
    with Ledger.open(ledger_url, key_dir) as ledger:
        report = ledger.verify()
    assert not report.ok and report.bad_checkpoint == 11 and "signature" in report.reason


def test_truncation_below_a_checkpoint_is_found(ledger_url: str, key_dir: Path) -> None:
    """An attacker deletes the tail and rewrites the state row; the stored checkpoint still tells."""
    with _filled(ledger_url, key_dir) as ledger:
        ledger.checkpoint()
    frontier = merkle.Frontier()
    for i in range(10):
        frontier.append(merkle.leaf_hash(entry_body(ledger_url, i)))
    run_sql(
        ledger_url,
        ("DELETE FROM veil_ledger_entries WHERE seq >= 10", {}),
        ("UPDATE veil_ledger_state SET size = 10, frontier = :f", {"f": frontier.to_bytes()}),
    )
    with Ledger.open(ledger_url, key_dir) as ledger:
        report = ledger.verify()
    assert not report.ok and report.first_bad == 10 and "deleted" in report.reason


def test_consistency_with_kept_checkpoint(ledger_url: str, key_dir: Path, tmp_path: Path) -> None:
    with _filled(ledger_url, key_dir, 5) as ledger:
        kept = ledger.checkpoint().note
        for i in range(7):
            ledger.append(_event(50 + i))
        proof = ledger.check_consistency(kept)
        assert proof.verify() and (proof.old_size, proof.new_size) == (5, 12)
    # A fork: the same key, a different history of the same length and longer. Veil refuses to
    # start one under the key's state file; an operator can only do it with a recorded re-anchor.
    fork_url = f"sqlite:///{tmp_path / 'fork.sqlite3'}"
    with Ledger.open(fork_url, key_dir) as fork, pytest.raises(LedgerVerificationError, match="deleted"):
        fork.append(_event(70))
    with Ledger.open(fork_url, key_dir, state_file=tmp_path / "fork.state") as fork:
        fork.reanchor(who="officer-a", reason="test fork")
        for i in range(11):
            fork.append(_event(70 + i))
        with pytest.raises(LedgerVerificationError, match="history was rewritten"):
            fork.check_consistency(kept)
    # A rollback: the log is now smaller than the kept checkpoint.
    small_url = f"sqlite:///{tmp_path / 'small.sqlite3'}"
    with Ledger.open(small_url, key_dir, state_file=tmp_path / "small.state") as small:
        small.reanchor(who="officer-a", reason="test rollback")
        small.append(_event(80))
        with pytest.raises(LedgerVerificationError, match="rolled back"):
            small.check_consistency(kept)


def test_checkpoint_from_another_key_is_refused(ledger_url: str, key_dir: Path) -> None:
    with _filled(ledger_url, key_dir, 3) as ledger:
        other = LedgerSigner.__new__(LedgerSigner)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        LedgerSigner.__init__(other, Ed25519PrivateKey.generate())
        body = checkpoint_body(other.name, 3, merkle.EMPTY_ROOT)
        from veil.audit.keys import make_note

        with pytest.raises(LedgerError, match="no signature by key"):
            ledger.check_consistency(make_note(other, body, other.sign_body(body)))


def test_raw_access_needs_reason_and_second_person() -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(LedgerError, match="second person"):
        RawAccessEvent("rec", "officer-a", "audit", "officer-a", later)
    with pytest.raises(LedgerError, match="reason"):
        RawAccessEvent("rec", "officer-a", " ", "officer-b", later)
