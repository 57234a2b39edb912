"""`veil record init|pause|resume|private|status` and the agent's refusals, through `veil.__main__`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from veil.__main__ import main
from veil.agent.client import CONFIG_FILE, KEY_FILE, load_key
from veil.agent.control import Control, Mode
from veil.exceptions import PolicyError


def test_init_makes_a_private_key_once_and_prints_its_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "agent"
    assert main(["record", "init", "--server", "https://veil.example", "--agent-dir", str(folder)]) == 0
    first = capsys.readouterr().out
    load_pem_public_key(first.encode())
    assert "PRIVATE" not in first
    assert oct((folder / KEY_FILE).stat().st_mode & 0o777) == "0o600"
    args = [
        "record",
        "init",
        "--server",
        "https://veil.example",
        "--device",
        "d-1",
        "--agent-dir",
        str(folder),
    ]
    assert main(args) == 0
    assert capsys.readouterr().out == first  # the same key, kept
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config == {"device": "d-1", "server": "https://veil.example"}


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    assert main(["record", "init", "--server", "https://veil.example", "--agent-dir", str(tmp_path)]) == 0
    os.chmod(tmp_path / KEY_FILE, 0o644)
    with pytest.raises(PolicyError, match="chmod 600"):
        load_key(tmp_path)


def test_init_refuses_a_server_that_is_not_a_url(tmp_path: Path) -> None:
    assert main(["record", "init", "--server", "veil.example", "--agent-dir", str(tmp_path)]) == 4


def test_switches_write_the_control_file_the_agent_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    control = Control(tmp_path)
    assert control.mode() is Mode.RECORDING
    for command, mode in (("pause", Mode.PAUSED), ("private", Mode.PRIVATE), ("resume", Mode.RECORDING)):
        assert main(["record", command, "--agent-dir", str(tmp_path)]) == 0
        assert control.mode() is mode
    (tmp_path / "control.json").write_text("{broken")
    assert control.mode() is Mode.PAUSED  # unreadable: fail closed
    capsys.readouterr()
    assert main(["record", "status", "--agent-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "mode": "paused", "waiting_to_upload": 0, "recorded_today_minutes": 0.0}  # fmt: skip


def test_recording_without_a_server_or_offline_is_refused(tmp_path: Path) -> None:
    assert main(["record", "--agent-dir", str(tmp_path), "-q"]) == 4
    assert not (tmp_path / "outbox").exists()


def test_a_bad_agent_key_in_the_policy_stops_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("agent:\n  fps: 3\n")
    assert main(["record", "--offline", "--agent-dir", str(tmp_path), "--policy", str(policy)]) == 4
    assert "did you mean 'fps_cap'" in capsys.readouterr().err
    assert not (tmp_path / "outbox").exists()
