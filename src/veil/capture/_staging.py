"""Write-then-rename staging shared by every sink: output is built inside a private run folder
(mode 0700, see `veil.runfiles`) beside its destination, so no unfinished file ever has a
predictable name a planted link could redirect, and the final rename is atomic on the same file
system. Only `commit()` gives the output a name outside that folder. A staging object that is
dropped without `commit()` removes its unfinished output."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from veil.exceptions import OutputError
from veil.names import shown
from veil.runfiles import make_run_folder, reason

__all__ = ["Staging", "partial_path", "publish", "reason"]

log = logging.getLogger(__name__)


def _remove(path: str, own_folder: str | None) -> None:
    # Runs from abort() or from the garbage collector: it must never raise.
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    if own_folder is not None:
        shutil.rmtree(own_folder, ignore_errors=True)


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
    """An unfinished file (or folder, with `folder=True`) in `workdir` (the run's private folder
    beside `final`; one of its own when None), renamed into place on commit."""

    def __init__(self, final: Path, *, folder: bool = False, workdir: Path | None = None) -> None:
        self.final = final
        self.folder = folder
        parent = final.parent
        if not parent.is_dir():
            raise OutputError(f"{shown(final)}: the output folder {shown(parent)} does not exist")
        if final.is_dir() and not folder:
            raise OutputError(f"{shown(final)}: the output name is an existing folder")
        if folder:
            _check_folder_target(final)
        own = make_run_folder(parent) if workdir is None else None
        try:
            where = str(workdir or own)
            if folder:
                name = tempfile.mkdtemp(dir=where, prefix="output-")
            else:
                fd, name = tempfile.mkstemp(dir=where, prefix="output-", suffix=final.suffix)
                os.close(fd)
        except OSError as exc:
            if own is not None:
                shutil.rmtree(own, ignore_errors=True)
            raise OutputError(f"{shown(final)}: cannot write in the output folder ({reason(exc)})") from exc
        self.path = Path(name)
        self._own = own
        self._cleanup = weakref.finalize(self, _remove, name, str(own) if own else None)

    @property
    def active(self) -> bool:
        return self._cleanup.alive

    def commit(self, target: Path | None = None) -> Path:
        """Flush the unfinished output to disk and rename it to `target` (default: its final name)."""
        target = target or self.final
        if not self.active:
            raise OutputError(f"{shown(target)}: output was already finished or aborted")
        try:
            if self.folder:
                for child in self.path.iterdir():
                    _fsync(str(child))
            else:
                _fsync(str(self.path))
            publish(self.path, target, folder=self.folder)
        except (OSError, OutputError) as exc:
            self.discard()
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"{shown(target)}: could not finish the output ({reason(exc)})") from exc
        self._cleanup.detach()
        if self._own is not None:
            shutil.rmtree(self._own, ignore_errors=True)
        log.debug("output written: %s", shown(target))
        return target

    def discard(self) -> None:
        """Remove the unfinished output. Safe to call more than once."""
        self._cleanup()


def publish(staged: Path, target: Path, *, folder: bool = False) -> None:
    """Rename a finished file (or folder) to `target` and make the rename durable. A folder never
    replaces a non-empty folder (that would delete files we did not write)."""
    if folder:
        _check_folder_target(target)
        if target.is_dir():
            target.rmdir()  # empty (checked above); rename() cannot replace it otherwise
    os.replace(staged, target)
    _fsync(str(target.parent))


def _check_folder_target(final: Path) -> None:
    if final.exists() and not final.is_dir():
        raise OutputError(f"{shown(final)}: the output name is an existing file, not a folder")
    try:
        occupied = final.is_dir() and any(final.iterdir())
    except OSError as exc:
        raise OutputError(f"{shown(final)}: cannot inspect the output folder ({reason(exc)})") from exc
    if occupied:
        raise OutputError(f"{shown(final)}: the output folder already exists and is not empty")
