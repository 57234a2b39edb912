"""Issue #14, point 3: the signing key can live apart from the database (its own folder, set by
VEIL_LEDGER_KEY_DIR, the policy's `ledger.key_dir` or `--key-dir`), and key material others could
read or replace is refused with a message that says how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from veil.audit.events import CaptureEvent
from veil.audit.keys import PRIVATE_FILE, STATE_FILE
from veil.audit.record import ledger_key_dir
from veil.audit.store import Ledger, default_key_dir
from veil.exceptions import LedgerError
from veil.options import Policy

SHA = "12" * 32


def test_key_dir_from_environment_and_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VEIL_LEDGER_KEY_DIR", raising=False)
    assert default_key_dir() == tmp_path / "home" / "ledger-keys"
    monkeypatch.setenv("VEIL_LEDGER_KEY_DIR", str(tmp_path / "signer"))
    assert default_key_dir() == tmp_path / "signer"
    assert ledger_key_dir(Policy()) == tmp_path / "signer"
    policy = Policy.model_validate({"ledger": {"key_dir": str(tmp_path / "vault")}})
    assert ledger_key_dir(policy) == tmp_path / "vault"


def _made(tmp_path: Path) -> tuple[str, Path]:
    url, keys = f"sqlite:///{tmp_path / 'db' / 'l.sqlite3'}", tmp_path / "keys"
    with Ledger.open(url, keys) as ledger:
        ledger.append(CaptureEvent("rec-0", "screen", SHA, frames=1))
    return url, keys


@pytest.mark.parametrize(
    ("name", "mode", "match"),
    [
        (PRIVATE_FILE, 0o640, "readable or writable by others"),
        (PRIVATE_FILE, 0o602, "readable or writable by others"),
        (STATE_FILE, 0o664, "writable by others"),
        ("", 0o770, "writable by others"),
        ("", 0o757, "writable by others"),
    ],
    ids=["key group-readable", "key world-writable", "state group-writable", "dir group-writable",
         "dir world-writable"],
)  # fmt: skip
def test_key_material_others_can_touch_is_refused(tmp_path: Path, name: str, mode: int, match: str) -> None:
    url, keys = _made(tmp_path)
    target = keys / name if name else keys
    target.chmod(mode)
    with Ledger.open(url, keys) as ledger, pytest.raises(LedgerError, match=match) as info:
        ledger.append(CaptureEvent("rec-1", "screen", SHA, frames=1))
    assert "chmod" in str(info.value) and info.value.exit_code == 7


def test_key_and_state_are_made_private(tmp_path: Path) -> None:
    _, keys = _made(tmp_path)
    assert keys.stat().st_mode & 0o777 == 0o700
    assert (keys / PRIVATE_FILE).stat().st_mode & 0o777 == 0o600
    assert (keys / STATE_FILE).stat().st_mode & 0o077 == 0
