"""Events: canonical form and the content guard. Keys: permissions and the signed-note format."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from veil.audit.events import (
    EVENT_TYPES,
    CaptureEvent,
    EgressIntentEvent,
    RawAccessEvent,
    RedactionSummaryEvent,
    canonical_json,
    event_from_dict,
)
from veil.audit.keys import checkpoint_body, load_or_create_signer, load_verifier, make_note
from veil.exceptions import LedgerError

SHA = "0f" * 32


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": "氏名"}) == '{"a":"氏名","b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


@pytest.mark.parametrize(
    "event",
    [
        CaptureEvent("rec-1", "screen", SHA, 3, 1.25),
        RedactionSummaryEvent("rec-1", "2", 5, 0, {"phone": 3, "email": 1}),
        EgressIntentEvent("i1", "local", "2", SHA, 10, "model"),
        RawAccessEvent("rec-1", "a", "complaint 7", "b", datetime(2031, 5, 1, 12, tzinfo=UTC)),
    ],
)
def test_events_round_trip(event: object) -> None:
    assert hasattr(event, "to_dict")
    data = event.to_dict()  # type: ignore[attr-defined]
    assert event_from_dict(event.kind, data) == event  # type: ignore[attr-defined]


def test_counts_are_sorted_so_equal_events_hash_equal() -> None:
    a = RedactionSummaryEvent("r", "1", 1, 0, {"phone": 1, "email": 2})
    b = RedactionSummaryEvent("r", "1", 1, 0, {"email": 2, "phone": 1})
    assert canonical_json(a.to_dict()) == canonical_json(b.to_dict())


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: CaptureEvent("x" * 500, "screen", SHA, 1), "looks like content"),
        (lambda: CaptureEvent("line1\nline2", "screen", SHA, 1), "looks like content"),
        (lambda: CaptureEvent("r", "screen", "not-a-hash", 1), "SHA-256"),
        (lambda: CaptureEvent("r", "screen", SHA, -1), ">= 0"),
        (lambda: RedactionSummaryEvent("r", "1", 1, 0, {"phone": -2}), "counts"),
        (lambda: RawAccessEvent("r", "a", "why", "b", datetime(2031, 1, 1)), "timezone"),
    ],
)
def test_guard_refuses_bad_fields(build: object, match: str) -> None:
    with pytest.raises(LedgerError, match=match):
        build()  # type: ignore[operator]


def test_unknown_kind_and_fields_are_refused() -> None:
    with pytest.raises(LedgerError, match="unknown ledger event kind"):
        event_from_dict("nope", {})
    with pytest.raises(LedgerError, match="does not match"):
        event_from_dict("capture", {"surprise": 1})
    assert set(EVENT_TYPES) >= {"capture", "egress-intent", "egress-completed", "raw-access", "deletion"}


def test_key_files_and_permissions(tmp_path: Path) -> None:
    key_dir = tmp_path / "k"
    signer = load_or_create_signer(key_dir)
    assert os.stat(key_dir / "ledger.key").st_mode & 0o777 == 0o600
    assert load_or_create_signer(key_dir).vkey == signer.vkey  # loaded, not remade
    assert load_verifier(key_dir).name == signer.name
    os.chmod(key_dir / "ledger.key", 0o644)
    with pytest.raises(LedgerError, match="chmod 600"):
        load_or_create_signer(key_dir)
    with pytest.raises(LedgerError, match="no ledger public key"):
        load_verifier(tmp_path / "empty")


def test_signed_note_format(tmp_path: Path) -> None:
    signer = load_or_create_signer(tmp_path / "k")
    root = hashlib.sha256(b"root").digest()
    body = checkpoint_body(signer.name, 42, root)
    note = make_note(signer, body, signer.sign_body(body))
    lines = note.split("\n")
    assert lines[:3] == [signer.name, "42", base64.b64encode(root).decode()]
    assert lines[3] == "" and lines[4].startswith("\u2014 " + signer.name + " ") and lines[5] == ""
    blob = base64.b64decode(lines[4].split(" ")[-1])
    want_id = hashlib.sha256(signer.name.encode() + b"\n\x01" + signer.public_raw).digest()[:4]
    assert blob[:4] == want_id and len(blob) == 68
    name, key_id_hex, key_b64 = signer.vkey.split("+", 2)
    assert (name, key_id_hex, base64.b64decode(key_b64)) == (
        signer.name,
        want_id.hex(),
        b"\x01" + signer.public_raw,
    )
    opened = signer.open_note(note)
    assert (opened.size, opened.root) == (42, root)
    with pytest.raises(LedgerError, match="does not verify"):
        signer.open_note(note.replace("\n42\n", "\n43\n"))
    with pytest.raises(LedgerError, match="blank line"):
        signer.open_note(body)


def test_concurrent_first_use_never_reads_a_half_written_key(tmp_path: Path) -> None:
    # Six writers race to create the key in each of 30 fresh folders: every one must load a whole
    # key, and all of them the same one (before the fix, readers saw a half-written file).
    import threading

    errors: list[Exception] = []
    for round_ in range(30):
        folder = tmp_path / str(round_)
        barrier = threading.Barrier(6)
        vkeys: list[str] = []

        def first_use(
            folder: Path = folder, barrier: threading.Barrier = barrier, vkeys: list[str] = vkeys
        ) -> None:
            barrier.wait()
            try:
                vkeys.append(load_or_create_signer(folder).vkey)
            except Exception as exc:  # noqa: BLE001 - collected and asserted on below
                errors.append(exc)

        threads = [threading.Thread(target=first_use) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(vkeys)) <= 1
    assert errors == []
