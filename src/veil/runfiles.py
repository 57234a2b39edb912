"""Where a run keeps its unfinished files, and who may write an output.

Nothing unfinished is written under a predictable name (a link planted there would be followed):
the output being encoded, the text layer, the report and its frame records, the workers' spools
all go into a private folder (mode 0700, made by `mkdtemp`) beside the final file, so the last
step is a rename on the same file system. The folder's name carries its owner (boot id, pid,
process start time): the next run writing in that folder removes what a killed run left there,
and never the files of a live run, even one whose pid was reused.

The last step, renaming the finished files out of the run folder, is journalled (`publish.json`
in the run folder, written before the first rename): a run killed between two renames is rolled
forward by the next run in that folder, so an output never stays without its report and text
layer (the ledger recorded the run before the journal was written).

An output is locked for the whole run (`flock` on a hidden lock file beside it): a second run to
the same output stops at once with OutputError instead of mixing its files with the first's.
The holder removes the lock file when done; a lock left by a killed run is taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from veil.exceptions import OutputError
from veil.names import shown_name

log = logging.getLogger(__name__)

PREFIX = ".veil-run-"
LOCK_SUFFIX = ".veil-lock"
JOURNAL = "publish.json"
_PROC = Path("/proc")


def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
    except OSError:
        return "x"


def start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks after boot, /proc/<pid>/stat field 22); None if
    there is no such process or it has ended (a zombie waiting for its parent)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def owner_tag(pid: int | None = None) -> str:
    """`<boot>-<pid>-<start>`: who owns a run folder."""
    pid = os.getpid() if pid is None else pid
    return f"{_boot_id()}-{pid}-{start_ticks(pid) or 0}"


def owner_alive(tag: str) -> bool:
    """Whether the process named by an owner tag still runs. Without /proc nothing can be told
    apart, so every owner counts as alive (a stale folder stays rather than a live one going)."""
    try:
        boot, pid_text, start_text = tag.split("-")
        pid, start = int(pid_text), int(start_text)
    except ValueError:
        return True  # not one of ours, or damaged: leave it alone
    if not (_PROC / "self/stat").exists():
        return True
    if boot != _boot_id():
        return False  # the machine restarted since
    return start_ticks(pid) == start


def make_run_folder(parent: Path) -> Path:
    """A new private folder for this run's unfinished files in `parent` (OutputError if not)."""
    if not parent.is_dir():
        raise OutputError(f"the output folder {shown_name(parent.name or str(parent))} does not exist")
    try:
        return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{owner_tag()}-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot write in the output folder ({reason(exc)})") from exc


def _folder_owner(name: str) -> str | None:
    """The owner tag of a run folder's name (`.veil-run-<boot>-<pid>-<start>-<random>`)."""
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX) :].split("-")
    return "-".join(parts[:3]) if len(parts) == 4 else None


def sweep(parent: Path) -> int:
    """Remove the run folders and lock files that dead runs left in `parent`; the count removed."""
    removed = 0
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return 0
    for entry in entries:
        tag = _folder_owner(entry.name)
        if tag is not None and entry.is_dir(follow_symlinks=False) and not owner_alive(tag):
            _roll_forward(Path(entry.path))
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
        elif entry.name.startswith(".") and entry.name.endswith(LOCK_SUFFIX):
            removed += _drop_stale_lock(Path(entry.path))
    if removed:
        log.info("removed %d file(s) left by interrupted runs", removed)
    return removed


def write_journal(folder: Path, locks: Sequence[Path], moves: Sequence[tuple[Path, Path]]) -> None:
    """Record, durably, the renames about to be made (finished file -> final name)."""
    data = {"locks": [str(p) for p in locks], "moves": [[str(a), str(b)] for a, b in moves]}
    fd, name = tempfile.mkstemp(dir=folder, prefix=".journal-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False)
        out.flush()
        os.fsync(out.fileno())
    os.replace(name, folder / JOURNAL)


def _roll_forward(folder: Path) -> None:
    """Finish the renames a killed run had started (its journal says which), unless another run
    now holds those outputs (it will replace them anyway)."""
    try:
        data = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
        locks = [Path(p) for p in data["locks"]]
        moves = [(Path(a), Path(b)) for a, b in data["moves"]]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no journal: the run never reached its renames
    try:
        with OutputLock(locks):
            for staged, final in moves:
                if not os.path.lexists(staged):
                    continue  # renamed before the kill
                if staged.is_dir() and final.is_dir() and not any(final.iterdir()):
                    final.rmdir()
                os.replace(staged, final)
    except (OSError, OutputError) as exc:
        # Most often this run itself writes the same output and will replace it.
        log.info("left an interrupted run's outputs unfinished (%s)", reason(exc))
    else:
        log.info("finished the outputs of an interrupted run")


def _drop_stale_lock(path: Path) -> int:
    try:
        fd = _lock(path)
    except OutputError:
        return 0  # held by a live run, or not a plain file
    _unlock(path, fd)
    return 1


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}{LOCK_SUFFIX}")


def _lock(path: Path) -> int:
    """Hold an exclusive lock on `path` (never through a link), or raise OutputError."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise OutputError(f"cannot lock the output ({reason(exc)})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            busy = "another veil run is writing this output; wait for it or choose another -o"
            raise OutputError(busy) from None
        # The holder before us may have removed the file as it finished: the lock must be on
        # the file that is at `path` now, or another run could lock a second one there.
        mine = os.fstat(fd)
        try:
            there = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            os.close(fd)
            continue
        if (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino):
            return fd
        os.close(fd)


def _unlock(path: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        path.unlink()  # removed while held, so nobody else can hold this file meanwhile
    os.close(fd)


class OutputLock:
    """Exclusive locks on a run's final outputs, held from before the first write to after the
    last rename."""

    def __init__(self, targets: Iterable[Path]) -> None:
        self._paths = sorted({lock_path(t.absolute()) for t in targets})
        self._held: list[tuple[Path, int]] = []

    def __enter__(self) -> OutputLock:
        try:
            for path in self._paths:
                try:
                    self._held.append((path, _lock(path)))
                except OutputError as exc:
                    name = shown_name(path.name[1 : -len(LOCK_SUFFIX)])
                    raise OutputError(f"{name}: {exc}") from exc
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def release(self) -> None:
        while self._held:
            _unlock(*self._held.pop())


class RunFolders:
    """This run's private folders, one per destination folder, all removed at the end (by then
    everything that was finished has been renamed out of them)."""

    def __init__(self) -> None:
        self._folders: dict[Path, Path] = {}

    def beside(self, final: Path) -> Path:
        """The run folder in `final`'s folder (made on first use, after sweeping that folder)."""
        parent = final.absolute().parent
        if parent not in self._folders:
            sweep(parent)
            self._folders[parent] = make_run_folder(parent)
        return self._folders[parent]

    def __enter__(self) -> RunFolders:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def remove(self) -> None:
        for folder in self._folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        self._folders.clear()


_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "folder does not exist",
    errno.ENOTDIR: "a path component is not a folder",
    errno.ELOOP: "a symbolic link is in the way",
    errno.EIO: "I/O error",
}


def reason(exc: BaseException) -> str:
    """A short, content-free reason for an I/O failure (never the OS message, which may echo a path)."""
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code in _REASONS:
        return _REASONS[code]
    return type(exc).__name__
