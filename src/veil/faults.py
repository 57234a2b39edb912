"""Fault injection for tests and the soak bench (`bench/soak.py`); inert unless asked for.

Only honoured when the environment variable `VEIL_FAULT_INJECTION` is set:

    VEIL_FAULT_INJECTION=enospc:N   the N-th write step of a run's files (0-based: each frame's
                                    output, text-layer line and report record, then the finish of
                                    each output) fails as a full disk does (OSError ENOSPC)
    VEIL_FAULT_INJECTION=kill:POINT the process kills itself (SIGKILL, as `kill -9`) when it reaches
                                    the step named POINT (the store's crash tests, `veil.store`)
    VEIL_FAULT_INJECTION=kill-once:POINT:FILE  the same, once: the first process to reach POINT
                                    creates FILE and dies; later ones (a retry) pass
                                    (`veil.scale`'s retry tests: `segment-frame-N`)

Production never sets it; with it unset `check` is one dictionary lookup.
"""

from __future__ import annotations

import errno
import os
import signal

ENV = "VEIL_FAULT_INJECTION"
_calls = 0


def check(point: str) -> None:
    """A write step named `point` is about to happen: raise the injected fault if it is due."""
    global _calls  # noqa: PLW0603 - one counter per process, like the disk it stands for
    spec = os.environ.get(ENV)
    if not spec:
        return
    kind, _, when = spec.partition(":")
    if kind == "kill":
        if when == point:
            os.kill(os.getpid(), signal.SIGKILL)
        return
    if kind == "kill-once":
        due_point, _, marker = when.partition(":")
        if due_point == point:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            os.kill(os.getpid(), signal.SIGKILL)
        return
    if kind != "enospc":
        return
    due = int(when or 0)
    _calls += 1
    if _calls - 1 == due:
        raise OSError(errno.ENOSPC, f"injected: no space left on device ({point})")


def reset() -> None:
    """Start counting write steps again (tests running several runs in one process)."""
    global _calls  # noqa: PLW0603
    _calls = 0
