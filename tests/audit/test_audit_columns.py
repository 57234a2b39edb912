"""Issue #14, attack 2: the columns beside the hashed body (`ref`, `kind`, `leaf_hash`, `created_at`)
are not trusted. Decisions come from the bodies; `verify` names an entry whose columns disagree;
proofs are recomputed from the bodies."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from veil.audit.events import CaptureEvent
from veil.audit.store import Ledger, LedgerVerificationError
from veil.exceptions import LedgerError

SHA = "ef" * 32


def _exec(url: str, sql: str, **params: object) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def _egress(ledger: Ledger, dest: str) -> str:
    return ledger.begin_egress(destination=dest, policy_version="1", payload_sha256=SHA, size=3, model="m")


@pytest.fixture
def crashed(ledger_url: str, key_dir: Path) -> tuple[str, str]:
    """seq 0 capture, seq 1 intent (completed at seq 2), seq 3 intent of a send that crashed."""
    with Ledger.open(ledger_url, key_dir) as ledger:
        ledger.append(CaptureEvent("rec-0", "screen", SHA, frames=1))
        done = _egress(ledger, "local")
        ledger.complete_egress(done)
        open_ = _egress(ledger, "gemini")
    return done, open_


def _pending(url: str, key_dir: Path) -> list[str]:
    with Ledger.open(url, key_dir) as ledger:
        return [p.intent.intent_id for p in ledger.pending_egress()]


@pytest.mark.parametrize(
    ("sql", "bad_seq"),
    [
        ("UPDATE veil_ledger_entries SET ref = NULL WHERE seq = 3", 3),
        ("UPDATE veil_ledger_entries SET kind = 'deletion' WHERE seq = 3", 3),
        ("UPDATE veil_ledger_entries SET ref = 'x' WHERE seq = 3", 3),
    ],
    ids=["ref nulled", "kind changed", "ref changed"],
)
def test_an_interrupted_send_cannot_be_hidden(
    ledger_url: str, key_dir: Path, crashed: tuple[str, str], sql: str, bad_seq: int
) -> None:
    _, open_ = crashed
    _exec(ledger_url, sql)
    assert _pending(ledger_url, key_dir) == [open_]
    with Ledger.open(ledger_url, key_dir) as ledger:
        report = ledger.verify()
    assert not report.ok and report.first_bad == bad_seq and "columns disagree" in report.reason


def test_a_completion_pointed_at_an_open_intent_does_not_close_it(
    ledger_url: str, key_dir: Path, crashed: tuple[str, str]
) -> None:
    _, open_ = crashed
    _exec(ledger_url, "UPDATE veil_ledger_entries SET ref = :r WHERE seq = 2", r=open_)
    assert _pending(ledger_url, key_dir) == [open_]
    with Ledger.open(ledger_url, key_dir) as ledger:
        assert ledger.verify().first_bad == 2


def test_a_completed_send_cannot_be_reopened(
    ledger_url: str, key_dir: Path, crashed: tuple[str, str]
) -> None:
    done, open_ = crashed
    _exec(ledger_url, "UPDATE veil_ledger_entries SET ref = NULL, kind = 'deletion' WHERE seq = 2")
    assert _pending(ledger_url, key_dir) == [open_]
    with Ledger.open(ledger_url, key_dir) as ledger, pytest.raises(LedgerError, match="already completed"):
        ledger.complete_egress(done)


def test_complete_egress_uses_the_intent_it_was_asked_for(
    ledger_url: str, key_dir: Path, crashed: tuple[str, str]
) -> None:
    """Pointing the open intent's `ref` at another id must not let that id complete this intent."""
    _, open_ = crashed
    _exec(ledger_url, "UPDATE veil_ledger_entries SET ref = :r WHERE seq = 3", r="a" * 32)
    with Ledger.open(ledger_url, key_dir) as ledger:
        with pytest.raises(LedgerError, match="no egress intent"):
            ledger.complete_egress("a" * 32)
        ref = ledger.complete_egress(open_, outcome="failed")
        assert ref.seq == 4 and ledger.pending_egress() == []


def test_prove_and_consistency_read_the_bodies(ledger_url: str, key_dir: Path) -> None:
    with Ledger.open(ledger_url, key_dir) as ledger:
        for i in range(6):
            ledger.append(CaptureEvent(f"rec-{i}", "screen", SHA, frames=i))
        kept = ledger.checkpoint().note
    # Change a body but not its leaf hash column.
    _exec(
        ledger_url,
        "UPDATE veil_ledger_entries SET body = :b WHERE seq = 2",
        b=b'{"event":{},"id":"x","kind":"capture","seq":2,"time":"2030-01-01T00:00:00+00:00"}',
    )
    with Ledger.open(ledger_url, key_dir) as ledger:
        with pytest.raises(LedgerVerificationError) as info:
            ledger.check_consistency(kept)
        assert info.value.first_bad == 2
        with pytest.raises(LedgerVerificationError) as info:
            ledger.inclusion_proof(4)
        assert info.value.first_bad == 2
        with pytest.raises(LedgerVerificationError):
            ledger.consistency_proof(1)
