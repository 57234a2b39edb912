"""Issue #14, point 4: a witness (C2SP tlog-witness / tlog-cosignature) at another site cosigns each
checkpoint only when it extends the one it cosigned before; `verify --witness` requires its
cosignature. A history rewritten and re-signed with the stolen ledger key is refused by both."""

from __future__ import annotations

import base64
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from veil.audit.anchor import Anchor, write_anchor
from veil.audit.cosign import WitnessVerifier, load_or_create_witness
from veil.audit.events import CaptureEvent, DeletionEvent
from veil.audit.keys import PRIVATE_FILE, PUBLIC_FILE, STATE_FILE, VKEY_FILE, load_or_create_signer
from veil.audit.store import Ledger
from veil.audit.witness import Witness, WitnessEndpoint, make_server
from veil.exceptions import LedgerError

SHA = "9a" * 32


@pytest.fixture
def witness(tmp_path: Path, key_dir: Path) -> Iterator[tuple[Witness, WitnessEndpoint]]:
    """A witness on a loopback port that knows the ledger key in `key_dir`."""
    log_key = load_or_create_signer(key_dir)
    write_anchor(key_dir / STATE_FILE, Anchor(), log_key)  # the ledger's own first use does this
    w = Witness(load_or_create_witness(tmp_path / "witness"), tmp_path / "witness", [log_key])
    server = make_server(w, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield w, WitnessEndpoint(f"http://127.0.0.1:{server.server_address[1]}", w.signer.verifier)
    server.shutdown()
    server.server_close()


def test_checkpoints_are_cosigned_and_verify_requires_it(
    ledger_url: str, key_dir: Path, witness: tuple[Witness, WitnessEndpoint]
) -> None:
    w, endpoint = witness
    wkey = WitnessVerifier.from_vkey(endpoint.verifier.vkey)
    with Ledger.open(ledger_url, key_dir, witnesses=[endpoint]) as ledger:
        for i in range(5):
            ledger.append(CaptureEvent(f"rec-{i}", "screen", SHA, frames=i))
        assert ledger.verify(witnesses=[wkey]).reason == (
            "witness: no checkpoint to carry witness cosignatures"
        )
        first = ledger.checkpoint()
        assert wkey.cosignature_time(first.note) is not None
        for i in range(3):
            ledger.append(CaptureEvent(f"rec-{5 + i}", "screen", SHA, frames=i))
        second = ledger.checkpoint()  # the witness asks for a proof from 5 to 8
        assert wkey.cosignature_time(second.note) is not None and w.latest(second.origin)[0] == 8
        assert ledger.checkpoint().note == second.note  # idempotent, not re-cosigned
        assert ledger.verify(witnesses=[wkey]).ok
        assert ledger.verify().ok and first.note in ledger.export(key_dir.parent / "x").joinpath(
            "checkpoints", "000000000005.note"
        ).read_text(encoding="utf-8")


def test_a_rewritten_history_signed_with_the_stolen_key_is_refused(
    ledger_url: str, key_dir: Path, tmp_path: Path, witness: tuple[Witness, WitnessEndpoint]
) -> None:
    _, endpoint = witness
    wkey = endpoint.verifier
    with Ledger.open(ledger_url, key_dir, witnesses=[endpoint]) as ledger:
        for i in range(6):
            ledger.append(CaptureEvent(f"rec-{i}", "screen", SHA, frames=i))
        kept = ledger.checkpoint().note
    # The thief copies the key, writes their own state file and builds another history.
    stolen = tmp_path / "stolen"
    stolen.mkdir(mode=0o700)
    for name in (PRIVATE_FILE, PUBLIC_FILE, VKEY_FILE):
        shutil.copy2(key_dir / name, stolen / name)
    write_anchor(stolen / STATE_FILE, Anchor(), load_or_create_signer(stolen))
    forged_url = f"sqlite:///{tmp_path / 'forged.sqlite3'}"
    with Ledger.open(forged_url, stolen, witnesses=[endpoint]) as forged:
        for i in range(8):
            forged.append(DeletionEvent(f"rec-{i}", "raw-recording", "request"))
        with pytest.raises(LedgerError, match="not consistent with the log the witness cosigned"):
            forged.checkpoint()
        assert forged.verify().ok  # the stolen key makes it look fine on its own ...
        report = forged.verify(witnesses=[wkey])  # ... but the witness never cosigned it
        assert not report.ok and "no cosignature by witness" in report.reason
        with pytest.raises(LedgerError, match="history was rewritten"):
            forged.check_consistency(kept)


def test_a_forged_cosignature_fails_verify(
    ledger_url: str, key_dir: Path, witness: tuple[Witness, WitnessEndpoint]
) -> None:
    _, endpoint = witness
    with Ledger.open(ledger_url, key_dir, witnesses=[endpoint]) as ledger:
        ledger.append(CaptureEvent("rec-0", "screen", SHA, frames=1))
        note = ledger.checkpoint().note
    line = note.splitlines()[-1]
    name, b64 = line.rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[-1] ^= 1
    forged = note.replace(line, f"{name} {base64.b64encode(bytes(blob)).decode()}")
    assert line.startswith("\u2014 " + endpoint.verifier.name)
    with pytest.raises(LedgerError, match="does not verify"):
        endpoint.verifier.cosignature_time(forged)


def test_witness_answers_follow_tlog_witness(
    ledger_url: str, key_dir: Path, tmp_path: Path, witness: tuple[Witness, WitnessEndpoint]
) -> None:
    w, _ = witness
    with Ledger.open(ledger_url, key_dir) as ledger:
        for i in range(4):
            ledger.append(CaptureEvent(f"rec-{i}", "screen", SHA, frames=i))
        note = ledger.checkpoint().note
    origin = note.split("\n", 1)[0]
    assert w.add_checkpoint(b"old x\n\n" + note.encode())[0] == 400
    assert w.add_checkpoint(b"old 9\n\n" + note.encode())[0] == 400  # old above the checkpoint
    assert w.add_checkpoint(b"old 0\n\n" + note.replace(origin, "other.example/log").encode())[0] == 404
    assert w.add_checkpoint(b"old 0\n\n" + note.replace("\n4\n", "\n3\n").encode())[0] == 403
    status, _, body = w.add_checkpoint(b"old 0\n\n" + note.encode())
    assert status == 200 and body.startswith("\u2014 ")
    status, ctype, body = w.add_checkpoint(b"old 0\n\n" + note.encode())
    assert (status, ctype, body) == (409, "text/x.tlog.size", "4\n")
    # A restarted witness remembers what it cosigned.
    again = Witness(load_or_create_witness(tmp_path / "witness"), tmp_path / "witness", [])
    assert again.latest(origin)[0] == 4


def test_auditor_snippet_accepts_a_cosigned_export(
    ledger_url: str, key_dir: Path, tmp_path: Path, witness: tuple[Witness, WitnessEndpoint]
) -> None:
    import re
    import subprocess
    import sys

    from veil.audit import cli

    readme = Path(cli.__file__).with_name("README-auditor.md").read_text(encoding="utf-8")
    script = tmp_path / "verify_export.py"
    script.write_text(re.findall(r"```python\n(.*?)```", readme, re.S)[0])
    _, endpoint = witness
    with Ledger.open(ledger_url, key_dir, witnesses=[endpoint]) as ledger:
        for i in range(3):
            ledger.append(CaptureEvent(f"rec-{i}", "screen", SHA, frames=i))
        assert len(ledger.checkpoint().note.splitlines()) == 6  # 3 lines, blank, log and witness
        out = ledger.export(tmp_path / "export")
    exported = (out / "checkpoints" / "000000000003.note").read_text(encoding="utf-8")
    assert endpoint.verifier.cosignature_time(exported) is not None
    done = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "ok: 3 entries" in done.stdout, done.stderr


def test_checkpoint_and_verify_commands_with_a_witness(
    ledger_url: str, key_dir: Path, tmp_path: Path, witness: tuple[Witness, WitnessEndpoint]
) -> None:
    from tests.audit.test_audit_cli import run

    _, endpoint = witness
    vkey_file = tmp_path / "witness.vkey"
    vkey_file.write_text(endpoint.verifier.vkey + "\n", encoding="ascii")
    with Ledger.open(ledger_url, key_dir) as ledger:
        ledger.append(CaptureEvent("rec-0", "screen", SHA, frames=1))
    args = ["--db", ledger_url, "--key-dir", str(key_dir)]
    code, out = run(["verify", *args, "--witness", str(vkey_file)])
    assert code == 7 and "no checkpoint" in out
    code, out = run(["checkpoint", *args, "--witness-url", endpoint.url])
    assert code == 7 and "one --witness-key for each" in out
    code, out = run(["checkpoint", *args, "--witness-url", endpoint.url, "--witness-key", str(vkey_file)])
    assert code == 0 and out.count("\u2014 ") == 2
    code, out = run(["verify", *args, "--witness", endpoint.verifier.vkey])
    assert code == 0


def test_verifier_keys_round_trip() -> None:
    """Base64 keys often hold '+': the name and key id are split off from the left."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from veil.audit.cosign import WitnessSigner
    from veil.audit.keys import LedgerSigner, LedgerVerifier

    for _ in range(40):
        log_key = LedgerSigner(Ed25519PrivateKey.generate())
        assert LedgerVerifier.from_vkey(log_key.vkey).vkey == log_key.vkey
        wkey = WitnessSigner("w.example/1", Ed25519PrivateKey.generate()).verifier
        assert WitnessVerifier.from_vkey(wkey.vkey) == wkey
    with pytest.raises(LedgerError, match="key id"):
        WitnessVerifier.from_vkey(wkey.vkey.replace("w.example/1", "w.example/2"))


def test_witness_http_refuses_odd_requests(witness: tuple[Witness, WitnessEndpoint]) -> None:
    import urllib.error
    import urllib.request

    _, endpoint = witness
    for path, data in (("/elsewhere", b"old 0\n\n"), ("/add-checkpoint", b"x" * (65 * 1024))):
        request = urllib.request.Request(endpoint.url + path, data=data, method="POST")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code in (400, 404)
