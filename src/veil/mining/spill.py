"""A private folder for the miner's working files, and files of fixed-size numpy records in it.

`veil mine` on a large log keeps its events on disk rather than in memory (see
`veil.mining.bounded`). What it writes there is numbers only: times, row numbers and small
integer ids into tables that stay in memory (users, field combinations, extra cells, screens);
no text of the log, and no value pseudonym, ever reaches a file. The folder is made by
`tempfile.mkdtemp` (mode 0700, readable by its owner alone) and removed when the run ends, on
success, on an error and on KeyboardInterrupt alike.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from veil.exceptions import OutputError

PREFIX = "veil-mine-"


@contextmanager
def spill_folder(near: Path | None = None) -> Iterator[Path]:
    """A fresh private folder (mode 0700) under `near` if it can be made there, else in the
    system's temporary folder; removed with everything in it when the block ends, however."""
    folder = None
    for parent in (near, None):
        try:
            folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
            break
        except OSError:
            continue
    if folder is None:
        raise OutputError("could not create a private working folder for the miner")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class RecordFile:
    """Records of one numpy dtype, appended in blocks and read back in blocks, in order."""

    def __init__(self, path: Path, dtype: np.dtype) -> None:
        self.path = path
        self.dtype = dtype
        self.rows = 0
        self._out: BinaryIO | None = None

    def append(self, rows: np.ndarray) -> None:
        if self._out is None:
            self._out = self.path.open("ab")
        np.ascontiguousarray(rows, dtype=self.dtype).tofile(self._out)
        self.rows += len(rows)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def blocks(self, rows: int, start: int = 0) -> Iterator[np.ndarray]:
        """The records from `start` on, `rows` at a time (the last block may be shorter)."""
        self.close()
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            f.seek(start * self.dtype.itemsize)
            while True:
                block = np.fromfile(f, dtype=self.dtype, count=rows)
                if not len(block):
                    return
                yield block

    def read(self, start: int, rows: int) -> np.ndarray:
        """`rows` records from record `start` on."""
        self.close()
        with self.path.open("rb") as f:
            f.seek(start * self.dtype.itemsize)
            return np.fromfile(f, dtype=self.dtype, count=rows)

    def unlink(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
