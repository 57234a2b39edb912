"""`VEIL_FAULT_INJECTION=kill-once:POINT:FILE`: the first process to reach POINT dies as `kill -9`
does; later ones (a retry) pass. The Ray retry tests rely on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

CODE = "from veil import faults; faults.check('elsewhere'); faults.check('here'); print('passed')"


def test_kill_once_kills_the_first_process_only(tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    env = {**os.environ, "VEIL_FAULT_INJECTION": f"kill-once:here:{marker}"}
    argv = [sys.executable, "-c", CODE]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == -signal.SIGKILL and marker.exists() and first.stdout == ""
    second = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert second.returncode == 0 and second.stdout.strip() == "passed"
