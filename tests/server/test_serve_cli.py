"""`veil serve user-add` (password from stdin, never argv) and `veil serve device-add`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.server.conftest import settings_for
from veil.server.context import Context


def _veil(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    urls = ["--catalog-url", f"sqlite:///{tmp_path / 'catalog.sqlite3'}"]
    urls += ["--ledger-url", f"sqlite:///{tmp_path / 'ledger.sqlite3'}"]
    env = {"VEIL_HOME": str(tmp_path / "home"), "VEIL_LEDGER_KEY_DIR": str(tmp_path / "ledger-keys")}

    return subprocess.run(
        [sys.executable, "-m", "veil", "serve", *args, *urls],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_user_add_reads_the_password_from_stdin_and_device_add_prints_the_id(tmp_path: Path) -> None:
    added = _veil(tmp_path, "user-add", "emp.cli", "--role", "employee", stdin="a long cli password\n")
    assert added.returncode == 0, added.stderr
    assert "a long cli password" not in added.stdout + added.stderr
    key = Ed25519PrivateKey.generate().public_key()
    pem = tmp_path / "device.pem"
    pem.write_bytes(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    device = _veil(tmp_path, "device-add", "--owner", "emp.cli", "--public-key", str(pem))
    assert device.returncode == 0, device.stderr
    device_id = device.stdout.strip()
    assert len(device_id) == 16
    ctx = Context.open(settings_for(tmp_path))  # the same files, keys in tmp_path/ledger-keys
    try:
        assert ctx.directory.check_password("emp.cli", "a long cli password").name == "emp.cli"
        from veil.server.db import DeviceRow

        with ctx.session() as s:
            row = s.get(DeviceRow, device_id)
            assert row is not None and row.owner == "emp.cli" and not row.revoked
        assert ctx.ledger.verify().ok
    finally:
        ctx.close()


def test_cli_refusals_have_exit_codes(tmp_path: Path) -> None:
    short = _veil(tmp_path, "user-add", "emp.cli", "--role", "employee", stdin="short\n")
    assert short.returncode == 3 and "12 characters" in short.stderr
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("not a key")
    device = _veil(tmp_path, "device-add", "--owner", "emp.cli", "--public-key", str(bad_key))
    assert device.returncode == 3 and "PEM" in device.stderr and "Traceback" not in device.stderr
