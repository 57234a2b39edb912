"""Issue #14: the ledger key in an external signer process over a Unix socket.

The signer signs only trees that extend the last checkpoint it signed (it recomputes the root from
its own compact range and the leaves the ledger sends), checks the peer's uid, and a ledger whose
signer is gone fails closed."""

from __future__ import annotations

import base64
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from veil.audit.events import CaptureEvent
from veil.audit.keys import PRIVATE_FILE, PUBLIC_FILE, checkpoint_body
from veil.audit.merkle import Frontier, leaf_hash
from veil.audit.signer import SignerServer, _call, make_signer_server
from veil.audit.store import Ledger
from veil.exceptions import LedgerError


def _event(n: int) -> CaptureEvent:
    return CaptureEvent(
        recording_id=f"rec{n}", source_kind="image", sha256="ab" * 32, frames=1, duration_seconds=0
    )


@pytest.fixture
def run_signer(tmp_path: Path) -> Iterator[object]:
    servers: list[tuple[SignerServer, threading.Thread]] = []

    def start(allow_uid: int | None = None, name: str = "sock") -> Path:
        path = tmp_path / "run" / name
        server = make_signer_server(
            tmp_path / "signer-keys", path, os.getuid() if allow_uid is None else allow_uid
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return path

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _ledger(tmp_path: Path, sock: Path | None) -> Ledger:
    return Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", tmp_path / "keys", signer=sock)


def test_signs_through_the_socket_and_verify_passes(tmp_path: Path, run_signer) -> None:  # type: ignore[no-untyped-def]
    sock = run_signer()
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    with _ledger(tmp_path, sock) as ledger:
        for n in range(3):
            ledger.append(_event(n))
        cp = ledger.checkpoint()
        ledger.append(_event(3))  # after a checkpoint: leaves from there on
        assert ledger.verify().ok
    assert cp.size == 3
    assert not (tmp_path / "keys" / PRIVATE_FILE).exists()  # the key never left the signer
    assert (tmp_path / "keys" / PUBLIC_FILE).exists() and (tmp_path / "signer-keys" / PRIVATE_FILE).exists()
    with _ledger(tmp_path, sock) as again:  # another process: syncs from the state file, goes on
        again.append(_event(4))
        assert again.checkpoint().size == 5
        report = again.verify()
    assert report.ok and report.size == 5 and report.anchored_size == 5


def test_a_process_without_the_key_cannot_sign(tmp_path: Path, run_signer) -> None:  # type: ignore[no-untyped-def]
    sock = run_signer()
    with _ledger(tmp_path, sock) as ledger:
        ledger.append(_event(0))
        ledger.checkpoint()
    with _ledger(tmp_path, None) as keyless, pytest.raises(LedgerError, match="external signer"):
        keyless.append(_event(1))  # no signer configured: it must not make a key of its own
    assert not (tmp_path / "keys" / PRIVATE_FILE).exists()
    other = run_signer(allow_uid=os.getuid() + 1, name="other-uid")  # SO_PEERCRED: not our uid
    with _ledger(tmp_path, other) as wrong_uid, pytest.raises(LedgerError, match="may not use"):
        wrong_uid.append(_event(1))
    with _ledger(tmp_path, sock) as ledger:
        report = ledger.verify()
    assert report.ok and report.size == 1


def _sign(sock: Path, kind: str, body: str, start: int, leaves: list[bytes]) -> dict[str, object]:
    request = {
        "op": "sign",
        "kind": kind,
        "body": body,
        "from": start,
        "leaves": [base64.b64encode(h).decode("ascii") for h in leaves],
    }
    return _call(sock, request)


def test_the_signer_refuses_to_rewind_or_fork(tmp_path: Path, run_signer) -> None:  # type: ignore[no-untyped-def]
    """Someone holding the Veil account (so the socket) and the database asks for signatures of
    histories that do not extend the last checkpoint: every one is refused."""
    sock = run_signer()
    with _ledger(tmp_path, sock) as ledger:
        for n in range(4):
            ledger.append(_event(n))
        cp = ledger.checkpoint()
        origin = ledger.verifier().name
    forged = [leaf_hash(f"forged {n}".encode()) for n in range(5)]
    tree = Frontier()
    for leaf in forged[:2]:
        tree.append(leaf)
    with pytest.raises(LedgerError, match="behind the last signed checkpoint"):  # rewind to size 2
        _sign(sock, "checkpoint", checkpoint_body(origin, 2, tree.root()), 4, [])
    for leaf in forged[2:]:
        tree.append(leaf)
    with pytest.raises(LedgerError, match="fork or a rewritten entry"):  # a rewritten history of 5
        _sign(sock, "checkpoint", checkpoint_body(origin, 5, tree.root()), 4, forged[4:])
    with pytest.raises(LedgerError, match="fork or a rewritten entry"):  # same size, other root
        _sign(sock, "head", checkpoint_body(origin, 4, tree.root()), 4, [])
    with pytest.raises(LedgerError, match="leaves must start at 4"):
        _sign(sock, "head", checkpoint_body(origin, 5, tree.root()), 0, forged)
    with pytest.raises(LedgerError, match="another log"):
        _sign(sock, "head", checkpoint_body("someone.else/log", 4, cp.root), 4, [])
    # the real extension is still signed
    with _ledger(tmp_path, sock) as ledger:
        ledger.append(_event(4))
        assert ledger.checkpoint().size == 5
        assert ledger.verify().ok


def test_signer_gone_fails_closed(tmp_path: Path, run_signer) -> None:  # type: ignore[no-untyped-def]
    sock = run_signer()
    with _ledger(tmp_path, sock) as ledger:
        ledger.append(_event(0))
    with _ledger(tmp_path, tmp_path / "run" / "gone") as ledger:
        with pytest.raises(LedgerError, match="cannot be reached"):
            ledger.append(_event(1))
        with pytest.raises(LedgerError, match="cannot be reached"):
            ledger.checkpoint()
    with _ledger(tmp_path, sock) as ledger:
        assert ledger.size() == 1 and ledger.verify().ok


@pytest.mark.slow
def test_redact_through_a_signer_process_and_fail_closed_when_it_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deployment: `veil audit signer serve` in its own process, `veil redact` with
    VEIL_LEDGER_SIGNER. Signer gone: exit 7, no output, report or ledger entry."""
    import subprocess
    import sys
    import time

    from tests.audit.test_audit_redact_e2e import _image, _veil

    home, sock = tmp_path / "home", tmp_path / "run" / "signer.sock"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "VEIL_HOME": str(tmp_path / "signer-home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "veil", "audit", "signer", "serve", "--socket", str(sock)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(300):
            if sock.exists():
                break
            time.sleep(0.1)
        monkeypatch.setenv("VEIL_LEDGER_SIGNER", f"unix:{sock}")
        first = _veil(
            [
                "redact",
                str(_image(tmp_path / "a.png", "Weekly planning notes")),
                "-o",
                str(tmp_path / "a_out.png"),
            ],
            home,
        )
        assert first.returncode == 0, first.stderr
        assert (tmp_path / "a_out.png").exists()
    finally:
        proc.kill()
        proc.wait(10)
    second = _veil(
        [
            "redact",
            str(_image(tmp_path / "b.png", "Budget review draft")),
            "-o",
            str(tmp_path / "b_out.png"),
        ],
        home,
    )
    assert second.returncode == 7, second.stderr
    assert "cannot be reached" in " ".join(second.stderr.split()) and "Traceback" not in second.stderr
    assert not any(p.name.startswith("b_out") for p in tmp_path.iterdir())
    monkeypatch.delenv("VEIL_LEDGER_SIGNER")
    assert not (home / "ledger-keys" / PRIVATE_FILE).exists()
    with Ledger.open(f"sqlite:///{home / 'ledger.sqlite3'}", home / "ledger-keys") as ledger:
        report = ledger.verify()  # the public key suffices; the second run added nothing
    assert report.ok and report.size == 2 and report.anchored_size == 2, report
