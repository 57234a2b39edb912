"""Issue #14, attack 1: someone who can write the database but holds no key rewrites history and
lets Veil sign it. Veil checks what it extends against its own signed state file before every
append and checkpoint, and refuses (exit code 7) naming the first bad entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.audit.tamper import entry_body, run_sql

from veil.audit import merkle
from veil.audit.events import CaptureEvent, DeletionEvent, canonical_json
from veil.audit.keys import STATE_FILE
from veil.audit.store import Ledger, LedgerVerificationError
from veil.exceptions import LedgerError

SHA = "cd" * 32


def _filled(url: str, key_dir: Path, n: int = 12) -> Ledger:
    ledger = Ledger.open(url, key_dir)
    for i in range(n):
        ledger.append(CaptureEvent(f"rec-{i}", "video-file", SHA, frames=i))
        if i == 5:
            ledger.checkpoint()
    ledger.checkpoint()
    return ledger


def _fix_state_row(url: str) -> None:
    """What the attacker does after any edit: recompute the state row from the stored leaf hashes."""
    engine = create_engine(url)
    with engine.begin() as conn:
        leaves = conn.execute(text("SELECT leaf_hash FROM veil_ledger_entries ORDER BY seq")).scalars()
        frontier = merkle.Frontier()
        for leaf in leaves:
            frontier.append(bytes(leaf))
        conn.execute(
            text("UPDATE veil_ledger_state SET size = :n, frontier = :f"),
            {"n": frontier.size, "f": frontier.to_bytes()},
        )
    engine.dispose()


def _edit_entry(url: str, seq: int) -> None:
    """Change an entry's body and its leaf hash, fix the state row, delete every checkpoint."""
    data = json.loads(entry_body(url, seq))
    data["event"]["recording_id"] = "rec-forged"
    forged = canonical_json(data)
    run_sql(
        url,
        (
            "UPDATE veil_ledger_entries SET body = :b, leaf_hash = :h WHERE seq = :s",
            {"b": forged, "h": merkle.leaf_hash(forged), "s": seq},
        ),
        ("DELETE FROM veil_ledger_checkpoints", {}),
    )
    _fix_state_row(url)


def _truncate_tail(url: str, keep: int) -> None:
    run_sql(
        url,
        ("DELETE FROM veil_ledger_entries WHERE seq >= :k", {"k": keep}),
        ("DELETE FROM veil_ledger_checkpoints WHERE size > :k", {"k": keep}),
    )
    _fix_state_row(url)


def _append_without_key(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        n = conn.execute(text("SELECT size FROM veil_ledger_state")).scalar_one()
        body = canonical_json(
            {"id": "f" * 32, "seq": n, "time": "2030-01-01T00:00:00+00:00", "kind": "deletion",
             "event": DeletionEvent("rec-x", "raw-recording", "retention").to_dict()}
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO veil_ledger_entries (seq, entry_id, kind, ref, body, leaf_hash, head_sig,"
                " created_at) VALUES (:n, :id, 'deletion', NULL, :b, :h, :sig, '2030-01-01 00:00:00')"
            ),
            {"n": n, "id": "f" * 32, "b": body, "h": merkle.leaf_hash(body), "sig": b"\0" * 64},
        )
    engine.dispose()
    _fix_state_row(url)


def _edit_state_row(url: str) -> None:
    run_sql(url, ("UPDATE veil_ledger_state SET frontier = :f", {"f": b"\x07" * 64}))


# attack -> the seq the refusal must name (None: no entry is bad, the state row is)
ATTACKS: dict[str, tuple[Callable[[str], None], int | None]] = {
    "edit an entry, fix the state row, delete the checkpoints": (lambda u: _edit_entry(u, 4), 4),
    "truncate the tail, fix the state row": (lambda u: _truncate_tail(u, 9), 9),
    "truncate the table": (lambda u: _truncate_tail(u, 0), 0),
    "append without the key, fix the state row": (_append_without_key, 12),
    "edit the state row only": (_edit_state_row, None),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_append_refuses_a_history_it_did_not_sign(ledger_url: str, key_dir: Path, attack: str) -> None:
    _filled(ledger_url, key_dir).close()
    action, first_bad = ATTACKS[attack]
    action(ledger_url)
    with Ledger.open(ledger_url, key_dir) as ledger:
        size_before = ledger.size()
        with pytest.raises(LedgerVerificationError) as info:
            ledger.append(CaptureEvent("rec-new", "screen", SHA, frames=1))
        assert info.value.exit_code == 7 and info.value.first_bad == first_bad, str(info.value)
        if first_bad is not None:
            assert f"entry {first_bad}" in str(info.value)
        with pytest.raises(LedgerVerificationError):
            ledger.checkpoint()
        assert ledger.size() == size_before  # nothing was appended or signed
        report = ledger.verify()
        assert not report.ok and report.first_bad == first_bad, report.reason


def test_a_fresh_process_refuses_too(ledger_url: str, key_dir: Path) -> None:
    """The trust comes from the signed state file, not from memory of this process."""
    _filled(ledger_url, key_dir).close()
    _edit_entry(ledger_url, 7)
    with Ledger.open(ledger_url, key_dir) as ledger, pytest.raises(LedgerVerificationError) as info:
        ledger.checkpoint()
    assert info.value.first_bad == 7


def test_a_running_ledger_refuses_a_rewrite_made_under_it(ledger_url: str, key_dir: Path) -> None:
    with _filled(ledger_url, key_dir) as ledger:
        _edit_entry(ledger_url, 2)
        with pytest.raises(LedgerVerificationError) as info:
            ledger.append(CaptureEvent("rec-new", "screen", SHA, frames=1))
    assert info.value.first_bad == 2


def test_other_writers_entries_are_checked_not_trusted(ledger_url: str, key_dir: Path) -> None:
    """Entries appended by another process since this one's last look are re-hashed and their
    signed tree heads checked; good ones are accepted, so concurrent writers keep working."""
    with _filled(ledger_url, key_dir, 3) as first, Ledger.open(ledger_url, key_dir) as second:
        first.append(CaptureEvent("rec-a", "screen", SHA, frames=1))
        second.append(CaptureEvent("rec-b", "screen", SHA, frames=1))
        first.append(CaptureEvent("rec-c", "screen", SHA, frames=1))
        assert first.verify().ok and first.size() == 6


def test_a_lagging_state_file_is_caught_up_from_signed_heads(ledger_url: str, key_dir: Path) -> None:
    """A crash between the database commit and the state file write leaves the file behind; the
    entries after it carry heads signed by the key, so the next append accepts them."""
    with _filled(ledger_url, key_dir, 3) as ledger:
        old = (key_dir / STATE_FILE).read_bytes()
        ledger.append(CaptureEvent("rec-a", "screen", SHA, frames=1))
    (key_dir / STATE_FILE).write_bytes(old)
    with Ledger.open(ledger_url, key_dir) as ledger:
        ledger.append(CaptureEvent("rec-b", "screen", SHA, frames=1))
        assert ledger.size() == 5 and ledger.verify().ok


def test_missing_state_file_is_refused_until_reanchored(ledger_url: str, key_dir: Path) -> None:
    _filled(ledger_url, key_dir).close()
    (key_dir / STATE_FILE).unlink()
    with Ledger.open(ledger_url, key_dir) as ledger:
        with pytest.raises(LedgerError, match="no signed state file") as info:
            ledger.append(CaptureEvent("rec-new", "screen", SHA, frames=1))
        assert "veil audit reanchor" in str(info.value)
        with pytest.raises(LedgerError, match="no signed state file"):
            ledger.pending_egress()
        assert ledger.verify().ok
        ref = ledger.reanchor(who="officer-a", reason="state file lost with the old host")
        assert ref.seq == 12
        ledger.append(CaptureEvent("rec-new", "screen", SHA, frames=1))
        assert ledger.verify().ok and ledger.size() == 14
        entry = json.loads(entry_body(ledger_url, 12))
        assert entry["kind"] == "reanchor" and entry["event"]["previous"] == "missing"
        assert entry["event"]["size"] == 12


def test_reanchor_refuses_a_ledger_that_fails_verification(ledger_url: str, key_dir: Path) -> None:
    _filled(ledger_url, key_dir).close()
    _edit_entry(ledger_url, 3)
    (key_dir / STATE_FILE).unlink()
    with Ledger.open(ledger_url, key_dir) as ledger, pytest.raises(LedgerVerificationError) as info:
        ledger.reanchor(who="officer-a", reason="state file lost")
    assert info.value.first_bad == 3
    assert not (key_dir / STATE_FILE).exists()


def test_reanchor_is_refused_when_nothing_is_wrong(ledger_url: str, key_dir: Path) -> None:
    with _filled(ledger_url, key_dir, 2) as ledger, pytest.raises(LedgerError, match="already anchored"):
        ledger.reanchor(who="officer-a", reason="why not")


def test_forged_state_file_is_refused(ledger_url: str, key_dir: Path) -> None:
    _filled(ledger_url, key_dir, 3).close()
    path = key_dir / STATE_FILE
    path.write_text(path.read_text(encoding="utf-8").replace('"size":3', '"size":2'), encoding="utf-8")
    with (
        Ledger.open(ledger_url, key_dir) as ledger,
        pytest.raises(LedgerError, match=r"state file .* signature"),
    ):
        ledger.append(CaptureEvent("rec-new", "screen", SHA, frames=1))


def test_verify_finds_a_truncation_the_checkpoints_no_longer_show(ledger_url: str, key_dir: Path) -> None:
    _filled(ledger_url, key_dir).close()
    _truncate_tail(ledger_url, 8)
    run_sql(ledger_url, ("DELETE FROM veil_ledger_checkpoints", {}))
    with Ledger.open(ledger_url, key_dir) as ledger:
        report = ledger.verify()
    assert not report.ok and report.first_bad == 8 and "state file" in report.reason


def test_reanchor_after_a_restore_records_the_state_it_replaced(ledger_url: str, key_dir: Path) -> None:
    """A database restored from an older backup is behind the state file: refused until an
    operator re-anchors, and the ledger keeps what the replaced state said."""
    _filled(ledger_url, key_dir).close()
    _truncate_tail(ledger_url, 7)  # what a restore from an older backup looks like
    with Ledger.open(ledger_url, key_dir) as ledger:
        with pytest.raises(LedgerVerificationError):
            ledger.append(CaptureEvent("rec-new", "screen", SHA, frames=1))
        ref = ledger.reanchor(who="officer-a", reason="database restored from last week's backup")
        assert ref.seq == 7 and ledger.verify().ok
    entry = json.loads(entry_body(ledger_url, 7))
    assert entry["event"]["previous"].startswith("size 12, root ")
