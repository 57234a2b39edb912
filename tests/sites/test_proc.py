"""Child processes of a site: a process that dies or never gets ready raises SiteError with the
last lines of its log; stop never leaves it running."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from veil.sites._proc import Child, SiteError, free_port


def test_a_dying_process_raises_with_its_log_tail(tmp_path: Path) -> None:
    code = "import sys; print('boom: bad flag -xyz'); sys.exit(3)"
    child = Child("dummy", [sys.executable, "-c", code], tmp_path / "dummy.log", lambda: False)
    with pytest.raises(SiteError, match=r"dummy exited \(code 3\)[\s\S]*boom: bad flag"):
        child.start(timeout=20)


def test_a_process_never_ready_times_out_and_is_stopped(tmp_path: Path) -> None:
    code = "import time; print('waiting', flush=True); time.sleep(60)"
    child = Child("sleeper", [sys.executable, "-c", code], tmp_path / "s.log", lambda: False)
    with pytest.raises(SiteError, match="sleeper not ready after 1 s"):
        child.start(timeout=1)
    assert child.running()
    child.stop(timeout=5)
    assert not child.running()


def test_free_port_leaves_room_for_the_grpc_port() -> None:
    port = free_port(with_grpc=True)
    assert port > 0 and port + 10000 < 65536
    assert port + 10000 < 32768  # below the ephemeral range: no outgoing connection takes it first
