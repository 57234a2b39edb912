"""The employee's switch: a small control file in the agent folder, written by
`veil record pause|resume|private` (or the keys of an interactive `veil record`) and read by the
agent before every grab.

    control.json    {"mode": "recording" | "paused" | "private"}

`paused` stops capture until resumed; `private` is the same for the employee's private time, shown
as PRIVATE and recorded as a gap "private" (no window, no title). A control file that cannot be
read is taken as `paused` (fail closed); no file at all is `recording`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

from veil.exceptions import OutputError

CONTROL_FILE = "control.json"


class Mode(StrEnum):
    RECORDING = "recording"
    PAUSED = "paused"
    PRIVATE = "private"


def set_mode(folder: Path, mode: Mode) -> None:
    from veil.agent.outbox import write_atomic

    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(folder / CONTROL_FILE, json.dumps({"mode": str(mode)}).encode())
    except OSError as exc:
        raise OutputError(f"cannot write the agent's control file ({exc.strerror})") from exc


class Control:
    """Reads the control file, again only when it changed (one stat per grab)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / CONTROL_FILE
        self._stamp: tuple[int, int, int] | None = None
        self._mode = Mode.RECORDING

    def mode(self) -> Mode:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._mode = None, Mode.RECORDING
            return self._mode
        except OSError:
            return Mode.PAUSED
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                value = json.loads(self.path.read_text(encoding="utf-8")).get("mode")
                self._mode = Mode(value)
            except (OSError, ValueError, AttributeError):
                self._mode = Mode.PAUSED
        return self._mode
