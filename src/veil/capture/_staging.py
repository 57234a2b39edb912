"""Write-then-rename staging shared by every sink: output is built under a hidden `.partial` name in the
destination folder (so the final rename is atomic on the same file system) and only `commit()` gives
it its real name. A staging object that is dropped without `commit()` removes its partial output."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from veil.exceptions import OutputError

log = logging.getLogger(__name__)

_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "folder does not exist",
    errno.ENOTDIR: "a path component is not a folder",
    errno.EIO: "I/O error",
}


def reason(exc: BaseException) -> str:
    """A short, content-free reason for an I/O failure (never the OS message, which may echo a path)."""
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code in _REASONS:
        return _REASONS[code]
    return type(exc).__name__


def _remove(path: str) -> None:
    # Runs from abort() or from the garbage collector: it must never raise.
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def partial_path(final: Path) -> Path:
    """Where output cut short by bad input is kept: `<stem>.partial<suffix>` next to `final`."""
    return final.with_name(f"{final.stem}.partial{final.suffix}")


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Staging:
    """A partial file (or folder, with `folder=True`) next to `final`, renamed into place on commit."""

    def __init__(self, final: Path, *, folder: bool = False) -> None:
        self.final = final
        self.folder = folder
        parent = final.parent
        if not parent.is_dir():
            raise OutputError(f"{final.name}: the output folder {parent.name or parent} does not exist")
        if final.is_dir() and not folder:
            raise OutputError(f"{final.name}: the output name is an existing folder")
        if folder:
            _check_folder_target(final)
        try:
            if folder:
                name = tempfile.mkdtemp(dir=parent, prefix=f".{final.name}.", suffix=".partial")
            else:
                fd, name = tempfile.mkstemp(dir=parent, prefix=f".{final.name}.", suffix=".partial")
                os.close(fd)
        except OSError as exc:
            raise OutputError(f"{final.name}: cannot write in the output folder ({reason(exc)})") from exc
        self.path = Path(name)
        self._cleanup = weakref.finalize(self, _remove, name)

    @property
    def active(self) -> bool:
        return self._cleanup.alive

    def commit(self, target: Path | None = None) -> Path:
        """Flush the partial output to disk and rename it to `target` (default: its final name)."""
        target = target or self.final
        if not self.active:
            raise OutputError(f"{target.name}: output was already finished or aborted")
        try:
            if self.folder:
                for child in self.path.iterdir():
                    _fsync(str(child))
                _check_folder_target(target)
                if target.is_dir():
                    target.rmdir()  # empty (checked above); rename() cannot replace it otherwise
            else:
                _fsync(str(self.path))
            os.replace(self.path, target)
            _fsync(str(target.parent))
        except (OSError, OutputError) as exc:
            self.discard()
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"{target.name}: could not finish the output ({reason(exc)})") from exc
        self._cleanup.detach()
        log.debug("output written: %s", target.name)
        return target

    def discard(self) -> None:
        """Remove the partial output. Safe to call more than once."""
        self._cleanup()


def _check_folder_target(final: Path) -> None:
    # Replacing a non-empty folder would delete files we did not write: refuse instead.
    if final.exists() and not final.is_dir():
        raise OutputError(f"{final.name}: the output name is an existing file, not a folder")
    try:
        occupied = final.is_dir() and any(final.iterdir())
    except OSError as exc:
        raise OutputError(f"{final.name}: cannot inspect the output folder ({reason(exc)})") from exc
    if occupied:
        raise OutputError(f"{final.name}: the output folder already exists and is not empty")
