"""A UI event log kept on disk as numbers, sorted by person and time, read back session by session.

Each event is a 32-byte record (`EVENT`): its time in microseconds, its row number over all
inputs (`seq`: file by file, row by row, so (time, seq) is the log's order), and ids into four
tables held in memory (`Vocabulary`): users, field combinations (an event's app, window, screen,
action, target, value type, URL, record and value pseudonyms, as the import builds them, shared
by every event with the same known cells), extra cells and source files. The tables hold what
the events held in memory before (scrubbed text, pseudonyms); the records on disk hold only the
numbers, so no text of the log and no pseudonym is ever written.

The import writes the records as it reads (`import_action_logger`), then sorts them by user (in
order of each user's first event in the log), time and row with `external_sort`, so that every
session (`sessions`) is a stretch of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from veil.exceptions import InputError
from veil.mining import collector, external_sort
from veil.mining.actionlogger import Fields, Rows, UserIds, read_action_logger_rows
from veil.mining.external_sort import SortedRuns
from veil.mining.links import Linker
from veil.mining.spill import RecordFile

EVENT = np.dtype(
    [
        ("micros", "<i8"),
        ("seq", "<i8"),
        ("user", "<i4"),
        ("fields", "<i4"),
        ("extra", "<i4"),
        ("source", "<i4"),
    ]
)
BLOCK_EVENTS = 65_536  # events read at a time (whole sessions: a longer session is read whole)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DAY = 86_400 * 10**6
_T = TypeVar("_T", bound=Hashable)


class Interned(Generic[_T]):
    """Distinct items numbered in the order first seen."""

    def __init__(self) -> None:
        self.items: list[_T] = []
        self._ids: dict[_T, int] = {}

    def id(self, item: _T) -> int:
        k = self._ids.get(item)
        if k is None:
            k = self._ids[item] = len(self.items)
            self.items.append(item)
        return k

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Vocabulary:
    users: list[str] = field(default_factory=list)  # by rank: in order of first event in the log
    fields: Interned[Fields] = field(default_factory=Interned)
    extras: Interned[tuple[tuple[str, str], ...]] = field(default_factory=Interned)
    sources: Interned[str] = field(default_factory=Interned)


@dataclass
class EventStore:
    """The sorted records (`events`) and what the import learnt on the way."""

    vocab: Vocabulary
    events: RecordFile
    count: int
    days: int  # distinct dates (UTC) with events
    extra_first: np.ndarray  # per extra id, the (micros, seq) of its first event, as two columns

    def extra_keys(self) -> list[str]:
        """The extra columns' names in the order they first appear in the log (as
        `export.extra_keys` orders them)."""
        keys: dict[str, None] = {}
        for k in np.lexsort((self.extra_first[:, 1], self.extra_first[:, 0])).tolist():
            for name, _v in self.vocab.extras.items[k]:
                keys.setdefault(name, None)
        return list(keys)


class _Importer:
    def __init__(self, folder: Path) -> None:
        self.vocab = Vocabulary()
        self.vocab.extras.id(())  # extra id 0: no extra cells
        self.users: Interned[str] = Interned()
        self.raw = RecordFile(folder / "imported.rec", EVENT)
        self.user_first: dict[int, tuple[int, int]] = {}
        self.extra_first: dict[int, tuple[int, int]] = {}
        self.days: set[int] = set()

    def add(self, rows: Rows) -> None:
        n = len(rows)
        out = np.zeros(n, dtype=EVENT)
        out["micros"] = np.fromiter(((t - _EPOCH) // _MICROSECOND for t in rows.stamps), np.int64, n)
        out["seq"] = np.arange(self.raw.rows, self.raw.rows + n, dtype=np.int64)
        out["user"] = _ids(rows.users, self.users.id)
        out["fields"] = _ids(rows.fields, self.vocab.fields.id)
        out["extra"] = _ids(rows.extras, self.vocab.extras.id)
        out["source"] = self.vocab.sources.id(rows.source)
        _first_of(out, "user", self.user_first)
        _first_of(out, "extra", self.extra_first)
        self.days.update(np.unique(out["micros"] // _DAY).tolist())
        self.raw.append(out)

    def sorted_store(self, folder: Path) -> EventStore:
        """The records sorted by user rank, time and row; users renumbered by rank."""
        count = self.raw.rows
        if not count:
            raise InputError("the inputs hold no UI events")
        by_first = sorted(self.user_first, key=self.user_first.__getitem__)
        rank = np.empty(len(self.users), dtype=np.int32)
        rank[np.array(by_first, dtype=np.int64)] = np.arange(len(by_first), dtype=np.int32)
        self.vocab.users = [self.users.items[u] for u in by_first]
        runs = SortedRuns(folder, "by-user", EVENT, ("user", "micros", "seq"))
        for block in self.raw.blocks(external_sort.RUN_ROWS):
            block["user"] = rank[block["user"]]
            runs.add(block)
        self.raw.unlink()
        events = RecordFile(folder / "events.rec", EVENT)
        for block in runs.merged():
            events.append(block)
        events.close()
        # Extra id 0 (no cells) may be on no event: it names no column either way.
        never = (np.iinfo(np.int64).max, np.iinfo(np.int64).max)
        first = np.array(
            [self.extra_first.get(k, never) for k in range(len(self.vocab.extras))], dtype=np.int64
        )
        return EventStore(self.vocab, events, count, len(self.days), first.reshape(-1, 2))


def _ids(items: Sequence[_T], intern: Callable[[_T], int]) -> np.ndarray:
    """Ids of `items`; the import shares equal items, so each distinct object is looked up once."""
    seen: dict[int, int] = {}
    out = np.empty(len(items), dtype=np.int32)
    for k, item in enumerate(items):
        found = seen.get(id(item))
        if found is None:
            found = seen[id(item)] = intern(item)
        out[k] = found
    return out


def _first_of(rows: np.ndarray, column: str, first: dict[int, tuple[int, int]]) -> None:
    """Keep, per id in `column`, the smallest (micros, seq) of its rows."""
    order = np.lexsort((rows["seq"], rows["micros"], rows[column]))
    ids = rows[column][order]
    head = order[np.r_[True, ids[1:] != ids[:-1]]] if len(ids) else order
    for k, m, s in zip(
        rows[column][head].tolist(), rows["micros"][head].tolist(), rows["seq"][head].tolist(), strict=True
    ):
        if k not in first or (m, s) < first[k]:
            first[k] = (m, s)


def import_action_logger(paths: Sequence[Path], folder: Path, linker: Linker | None = None) -> EventStore:
    """The events of Action Logger CSVs (in the order given) as a sorted `EventStore` in
    `folder`; users are pseudonymised across files as `cli.load_events` does."""
    importer = _Importer(folder)
    users = UserIds()
    with collector.paused():
        for path in paths:
            for rows in read_action_logger_rows(path, users, linker):
                importer.add(rows)
    return importer.sorted_store(folder)


@dataclass(frozen=True, slots=True)
class Block:
    """Whole sessions, one after another: the records, where each session begins in them, the
    number of the first, and the block's first record's position in the store."""

    rows: np.ndarray
    starts: np.ndarray  # bool per record: a session begins here
    first_session: int
    position: int

    def sessions(self) -> Iterator[tuple[int, int]]:
        """(begin, end) of each session in the block."""
        at = np.flatnonzero(self.starts).tolist()
        yield from zip(at, [*at[1:], len(self.rows)], strict=True)


def sessions(store: EventStore, gap: float, block_events: int | None = None) -> Iterator[Block]:
    """The store's events a block of whole sessions at a time: a session ends where the user
    changes or more than `gap` seconds pass (as `segment._sessions` cuts them)."""
    held: list[np.ndarray] = []
    number = 0
    position = 0
    for block in store.events.blocks(block_events or BLOCK_EVENTS):
        held.append(block)
        rows = np.concatenate(held) if len(held) > 1 else block
        starts = _starts(rows, gap)
        last = int(np.flatnonzero(starts)[-1])
        if last == 0:
            held = [rows]
            continue  # one session so far: read on
        yield Block(rows[:last], starts[:last], number, position)
        number += int(np.count_nonzero(starts[:last]))
        position += last
        held = [rows[last:]]  # begins a session
    if held and len(held[0]):
        rows = np.concatenate(held)
        yield Block(rows, _starts(rows, gap), number, position)


def _starts(rows: np.ndarray, gap: float) -> np.ndarray:
    """Where sessions begin; `rows` begins one."""
    user, micros = rows["user"], rows["micros"]
    starts = np.ones(len(rows), dtype=bool)
    # As `segment._sessions`: exact microseconds over 10**6, correctly rounded.
    starts[1:] = (user[1:] != user[:-1]) | (np.diff(micros) / 1e6 > gap)
    return starts
