"""`python -m veil.sites`: a missing binary is a clear message and exit code 12, no traceback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from veil.sites.__main__ import main


def test_missing_weed_is_a_clear_error_with_exit_code_12(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert main(["up", str(tmp_path / "run")]) == 12
    err = capsys.readouterr().err
    assert err.startswith("error: SeaweedFS `weed` binary not found")
    assert "Traceback" not in err
