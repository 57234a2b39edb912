"""Child processes of a site: started with their log in the run folder, polled until ready, stopped.

Every wait has a deadline; a process that dies or never gets ready raises SiteError quoting the
last lines of its log (the logs hold cluster chatter only, never recording content).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from veil.exceptions import StoreError

LOG_TAIL_LINES = 20


class SiteError(StoreError):
    """A site process could not be started, got no ready answer in time, or died."""


# With gRPC, both ports lie below Linux's ephemeral range (32768-60999): a port picked free there
# can be taken by any outgoing connection before the server binds it (a filer failed so once).
_GRPC_PAIR_RANGE = (12000, 22000)


def free_port(*, with_grpc: bool = False) -> int:
    """A free loopback TCP port; with_grpc: port + 10000 is free as well (SeaweedFS's gRPC rule)."""
    for _ in range(200):
        if with_grpc:
            port = secrets.randbelow(_GRPC_PAIR_RANGE[1] - _GRPC_PAIR_RANGE[0]) + _GRPC_PAIR_RANGE[0]
            if _is_free(port) and _is_free(port + 10000):
                return port
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    raise SiteError("no free loopback port pair found")


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when `url` answers with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Child:
    """One long-running server process of a site, its log file and how to tell it is ready."""

    name: str
    argv: Sequence[str]
    log: Path
    ready: Callable[[], bool]
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self) -> None:
        """Start the process without waiting for it to be ready (`wait_ready` does)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                list(self.argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                start_new_session=True,  # a Ctrl-C in the caller's terminal reaches us, not the child
            )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                code = self.proc.returncode if self.proc else None
                raise SiteError(f"{self.name} exited (code {code}); last log lines:\n{log_tail(self.log)}")
            if self.ready():
                return
            time.sleep(0.2)
        raise SiteError(f"{self.name} not ready after {timeout:.0f} s; last log lines:\n{log_tail(self.log)}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, *, kill: bool = False, timeout: float = 10.0) -> None:
        """SIGTERM (or SIGKILL with kill=True), then SIGKILL after `timeout` seconds."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
