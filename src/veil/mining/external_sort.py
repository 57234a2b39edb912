"""Sort more records than memory should hold: sorted runs on disk, merged block by block.

Records (a numpy structured dtype) are added in any order; every `run_rows` of them are sorted
with `np.lexsort` on the key fields and written as a run (`spill.RecordFile`). `merged()` then
reads every run a block at a time and hands out the records in key order: at each step it takes,
from every run's block, the records up to the smallest last key among the runs that have more
to read (nothing beyond it can come before it), sorts what it took with numpy and yields it.
Memory: one run's buffer while adding, one block per run while merging. Keys must be unique
(the callers end theirs with a row number), so the order is total and no tie depends on how
the runs fell.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from veil.mining.spill import RecordFile

RUN_ROWS = 262_144
BLOCK_ROWS = 16_384


def key_order(rows: np.ndarray, key: Sequence[str]) -> np.ndarray:
    """The permutation that sorts `rows` by the fields `key`, the first the most significant."""
    return np.lexsort([rows[k] for k in reversed(key)])


def _at_most(rows: np.ndarray, key: Sequence[str], limit: tuple[int | float, ...]) -> int:
    """How many of the sorted `rows` have a key at most `limit` (they are a prefix)."""
    below = np.zeros(len(rows), dtype=bool)
    equal = np.ones(len(rows), dtype=bool)
    for field, value in zip(key, limit, strict=True):
        column = rows[field]
        below |= equal & (column < value)
        equal &= column == value
    return int(np.count_nonzero(below | equal))


class SortedRuns:
    """Records sorted by `key` through runs in `folder` (see the module docstring)."""

    def __init__(
        self, folder: Path, name: str, dtype: np.dtype, key: Sequence[str], run_rows: int | None = None
    ) -> None:
        self.folder = folder
        self.name = name
        self.dtype = dtype
        self.key = tuple(key)
        self.run_rows = run_rows or RUN_ROWS
        self.rows = 0
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0
        self._runs: list[RecordFile] = []

    def add(self, rows: np.ndarray) -> None:
        if not len(rows):
            return
        self._pending.append(rows)
        self._pending_rows += len(rows)
        self.rows += len(rows)
        if self._pending_rows >= self.run_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        rows = np.concatenate(self._pending)
        self._pending, self._pending_rows = [], 0
        run = RecordFile(self.folder / f"{self.name}.{len(self._runs)}.run", self.dtype)
        run.append(rows[key_order(rows, self.key)])
        run.close()
        self._runs.append(run)

    def merged(self, block_rows: int | None = None) -> Iterator[np.ndarray]:
        """Every record added, in key order, a block at a time; the runs are deleted after."""
        block_rows = block_rows or BLOCK_ROWS
        self._flush()
        try:
            yield from _merge([run.blocks(block_rows) for run in self._runs], self.key, block_rows)
        finally:
            for run in self._runs:
                run.unlink()
            self._runs = []


def _merge(
    readers: list[Iterator[np.ndarray]], key: tuple[str, ...], block_rows: int
) -> Iterator[np.ndarray]:
    buffers: list[np.ndarray | None] = [next(r, None) for r in readers]
    # A run whose last block was short (or absent) has nothing more to read.
    done = [b is None or len(b) < block_rows for b in buffers]
    while True:
        live = [k for k, b in enumerate(buffers) if b is not None and len(b)]
        if not live:
            return
        # Nothing a run has yet to read comes before the last key of its block.
        limits = [_last(buffers[k], key) for k in live if not done[k]]
        limit = min(limits) if limits else None
        taken = []
        for k in live:
            block = buffers[k]
            assert block is not None
            n = len(block) if limit is None else _at_most(block, key, limit)
            taken.append(block[:n])
            rest: np.ndarray | None = block[n:]
            if rest is not None and not len(rest) and not done[k]:
                rest = next(readers[k], None)
                done[k] = rest is None or len(rest) < block_rows
            buffers[k] = rest
        rows = np.concatenate(taken)
        yield rows[key_order(rows, key)]


def _last(block: np.ndarray | None, key: tuple[str, ...]) -> tuple[int | float, ...]:
    assert block is not None
    last = block[-1]
    return tuple(last[f].item() for f in key)
