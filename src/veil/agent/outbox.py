"""The agent's outbox: verified segments waiting to be uploaded, safe against a kill at any moment.

Layout (the folder and everything in it private to the user, 0700/0600):

    state.json        {"recording_id", "next_seq", "open", "day", "recorded_seconds"}
    journal.jsonl     one line per step: {"event": "queued"|"sent"|"refused", "recording_id", "seq",
                      "sha256", "at"}
    segments/<recording_id>.<seq:08d>.zip
    refused/          segments the server refused for good (409, 422): kept, never sent again

Order of writes, so a kill -9 anywhere loses nothing and sends nothing twice under two numbers:
1. a segment is written under a temporary name, flushed, renamed to its final name (atomic), and the
   folder flushed; 2. the journal says "queued"; 3. the state moves `next_seq` past it. On start, any
   temporary file is removed (that segment was never queued: its number is reused), and `next_seq`
   is raised past every segment file and journal entry, whatever the state file says.
Upload: a segment is sent as its file's bytes (the same bytes every time); after the server's
200/201 the journal says "sent", then the file is removed. A segment the journal says was sent is
removed on start without being sent again; one sent whose "sent" line was lost is sent again, and
the server answers "duplicate" (same seq, same bytes).

A recording left open by a crash is continued (same id, next number); a clean stop closes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from veil.exceptions import OutputError
from veil.runfiles import reason

STATE = "state.json"
JOURNAL = "journal.jsonl"
SEGMENTS = "segments"
_NAME = re.compile(r"^(?P<rec>[0-9a-f]{32})\.(?P<seq>\d{8})\.zip$")


@dataclass(frozen=True, slots=True)
class Queued:
    recording_id: str
    seq: int
    path: Path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """`data` under `path`, whole or not at all (temporary name, fsync, rename, fsync folder)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def today() -> str:
    return datetime.now().date().isoformat()  # the employee's local day for the daily cap


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.segments = folder / SEGMENTS
        self._lock_fd: int | None = None
        try:
            for path in (folder, self.segments):
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
                path.chmod(0o700)
            for stale in [*folder.glob(".tmp-*"), *self.segments.glob(".tmp-*")]:
                stale.unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot use the outbox folder ({reason(exc)})") from exc
        self.state = self._load_state()
        self._reconcile()

    # -- state --------------------------------------------------------------------------------------
    def _load_state(self) -> dict[str, Any]:
        path = self.folder / STATE
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            state = {}
        except (OSError, ValueError) as exc:
            raise OutputError(f"the outbox state file is damaged ({type(exc).__name__})") from exc
        if not isinstance(state, dict):
            raise OutputError("the outbox state file is damaged (not an object)")
        return state

    def _save_state(self) -> None:
        write_atomic(self.folder / STATE, json.dumps(self.state, sort_keys=True).encode())

    def _journal(self) -> list[dict[str, Any]]:
        path = self.folder / JOURNAL
        if not path.exists():
            return []
        entries = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the torn last line of a kill mid-append: that step did not happen
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def _append(self, event: str, recording_id: str, seq: int, sha256: str) -> None:
        entry = {"event": event, "recording_id": recording_id, "seq": seq, "sha256": sha256,
                 "at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        fd = os.open(self.folder / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            # A line torn by a kill is skipped on reading; start on a fresh line after one.
            size = os.fstat(fd).st_size
            prefix = b""
            if size:
                with open(self.folder / JOURNAL, "rb") as fh:
                    fh.seek(size - 1)
                    prefix = b"" if fh.read(1) == b"\n" else b"\n"
            os.write(fd, prefix + json.dumps(entry).encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def _reconcile(self) -> None:
        """Remove what was sent; raise `next_seq` past every queued or sent segment."""
        sent = {(e.get("recording_id"), e.get("seq")) for e in self._journal() if e.get("event") == "sent"}
        rec = self.state.get("recording_id")
        highest = int(self.state.get("next_seq", 0)) - 1
        for entry in self._journal():
            if entry.get("recording_id") == rec and isinstance(entry.get("seq"), int):
                highest = max(highest, entry["seq"])
        for item in self._files():
            if (item.recording_id, item.seq) in sent:
                item.path.unlink(missing_ok=True)
            if item.recording_id == rec:
                highest = max(highest, item.seq)
        if rec is not None:
            self.state["next_seq"] = highest + 1

    def _files(self) -> list[Queued]:
        out = []
        for path in self.segments.iterdir():
            match = _NAME.match(path.name)
            if match:
                out.append(Queued(match["rec"], int(match["seq"]), path))
        return sorted(out, key=lambda q: (q.path.stat().st_mtime_ns, q.recording_id, q.seq))

    def lock(self) -> None:
        """Hold the outbox for this process (two agents on one outbox would reuse numbers); the
        kernel releases it when the process ends, however it ends."""
        import fcntl

        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError("another veil record is using this outbox; stop it first") from None
        self._lock_fd = fd
        self.state = self._load_state()  # what the previous holder left
        self._reconcile()

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    # -- recordings ---------------------------------------------------------------------------------
    def begin(self) -> tuple[str, bool]:
        """The recording to write to: the one a crash left open (continued), else a new one.
        Returns (recording_id, resumed)."""
        if self.state.get("open") and self.state.get("recording_id"):
            return str(self.state["recording_id"]), True
        self.state.update(recording_id=uuid.uuid4().hex, next_seq=0, open=True)
        self._save_state()
        return str(self.state["recording_id"]), False

    def close(self) -> None:
        self.state["open"] = False
        self._save_state()

    @property
    def recording_id(self) -> str:
        return str(self.state["recording_id"])

    @property
    def next_seq(self) -> int:
        return int(self.state.get("next_seq", 0))

    def recorded_today(self) -> float:
        """Seconds of segments queued today (for the daily cap)."""
        return float(self.state.get("recorded_seconds", 0.0)) if self.state.get("day") == today() else 0.0

    # -- segments -----------------------------------------------------------------------------------
    def queue(self, seq: int, body: bytes, seconds: float) -> Queued:
        """Queue a finished segment under the current recording's `seq` (= `next_seq`)."""
        import hashlib

        rec = self.recording_id
        if seq != self.next_seq:
            raise OutputError(f"segment {seq} queued out of order (next is {self.next_seq})")
        path = self.segments / f"{rec}.{seq:08d}.zip"
        try:
            write_atomic(path, body)
            self._append("queued", rec, seq, hashlib.sha256(body).hexdigest())
            day = today()
            spent = self.recorded_today() + seconds
            self.state.update(next_seq=seq + 1, day=day, recorded_seconds=round(spent, 3))
            self._save_state()
        except OSError as exc:
            raise OutputError(f"cannot write to the outbox ({reason(exc)})") from exc
        return Queued(rec, seq, path)

    def pending(self) -> list[Queued]:
        """Segments still to upload, oldest first."""
        return self._files()

    def refused(self, item: Queued, sha256: str) -> None:
        """The server will never take it (409, 422): kept aside in `refused/`, not sent again."""
        aside = self.folder / "refused"
        aside.mkdir(mode=0o700, exist_ok=True)
        self._append("refused", item.recording_id, item.seq, sha256)
        os.replace(item.path, aside / item.path.name)
        _fsync_dir(self.segments)

    def sent(self, item: Queued, sha256: str) -> None:
        """The server has the segment: journal it, then remove the file."""
        self._append("sent", item.recording_id, item.seq, sha256)
        item.path.unlink(missing_ok=True)
        _fsync_dir(self.segments)
