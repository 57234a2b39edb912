"""The bounded miner's first pass over the sessions: each event's screen, and the threads.

`threads.find_threads` decides over the whole log which screens belong together, from three
counts: events per screen, how often the person goes from one screen to another, and the value
pseudonyms and records that a few events share within a short time. One pass over the sessions
(`eventstore.sessions`) gathers all three: the counts are per screen or screen pair (as many as
the log has screens), and each linking key keeps its events only while it has few enough to
link (`ThreadOptions.max_link_events`, `max_record_events`): memory grows with the distinct
values, not the events. Keys are integer ids in memory; each event's screen (an id) is written
beside the events for the later passes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from veil.mining.eventstore import EventStore, sessions
from veil.mining.fieldtables import CURRENT, OWN, FieldTables
from veil.mining.segment import SegmentOptions
from veil.mining.spill import RecordFile
from veil.mining.threads import ThreadOptions, threads_of

SCREEN = np.dtype("<i4")
_OCCURRENCE = np.dtype([("key", "<i8"), ("micros", "<i8"), ("seq", "<i8"), ("screen", "<i8")])


@dataclass
class ScreenPass:
    screens: RecordFile  # per event, in the store's order, its screen id
    thread: np.ndarray  # per screen id, its thread or -1
    threads: int
    shared: np.ndarray  # per key id, whether it links events (`threads.shared_keys`)
    user_groups: list[Counter[int]]  # per user, the group names (ids) its events carry


class _Keys:
    """Each linking key's events, kept while it has few enough to link."""

    def __init__(self, n_keys: int, opt: ThreadOptions) -> None:
        self.count = np.zeros(n_keys, dtype=np.int64)
        self.limit = np.where(np.arange(n_keys) % 2 == 0, opt.max_link_events, opt.max_record_events)
        self.held: list[np.ndarray] = []
        self.held_rows = 0
        self.pruned_at = 1024

    def add(self, rows: np.ndarray) -> None:
        self.count += np.bincount(rows["key"], minlength=len(self.count))
        rows = rows[self.count[rows["key"]] <= self.limit[rows["key"]]]
        self.held.append(rows)
        self.held_rows += len(rows)
        if self.held_rows > 2 * self.pruned_at:  # drop the keys that have too many events now
            kept = self.kept()
            self.held, self.held_rows, self.pruned_at = [kept], len(kept), max(len(kept), 1024)

    def kept(self) -> np.ndarray:
        rows = np.concatenate(self.held) if self.held else np.zeros(0, _OCCURRENCE)
        kept: np.ndarray = rows[self.count[rows["key"]] <= self.limit[rows["key"]]]
        return kept


def screen_pass(store: EventStore, tables: FieldTables, opt: SegmentOptions, folder: Path) -> ScreenPass:
    n_screens = len(tables.screens)
    key_start, key_flat = _key_index(tables.keys)
    n_keys = int(key_flat.max()) + 1 if len(key_flat) else 1
    keys = _Keys(n_keys, opt.threads)
    per_screen = np.zeros(n_screens, dtype=np.int64)
    adjacent: Counter[int] = Counter()
    votes: list[Counter[int]] = [Counter() for _ in store.vocab.users]
    out = RecordFile(folder / "screens.rec", SCREEN)
    n_groups = max(len(tables.group_names), 1)
    group_of_extra = np.array(tables.group_of_extra, dtype=np.int64)
    for block in sessions(store, opt.session_gap_seconds):
        rows = block.rows
        screen = _screens(rows["fields"].tolist(), block.starts.tolist(), tables)
        out.append(screen)
        per_screen += np.bincount(screen, minlength=n_screens)
        same = ~block.starts[1:] & (screen[1:] != screen[:-1])
        a, b = screen[:-1][same], screen[1:][same]
        codes, counts = np.unique(np.minimum(a, b) * n_screens + np.maximum(a, b), return_counts=True)
        adjacent.update(dict(zip(codes.tolist(), counts.tolist(), strict=True)))
        keys.add(_occurrences(rows, screen, key_start, key_flat))
        _vote(votes, rows["user"], group_of_extra[rows["extra"]], n_groups)
    out.close()
    names = tables.screens.items
    count = Counter({names[k]: int(per_screen[k]) for k in np.flatnonzero(per_screen).tolist()})
    pairs: Counter[tuple[str, str]] = Counter()
    for code, n in adjacent.items():
        sa, sb = names[code // n_screens], names[code % n_screens]
        pairs[(sa, sb) if sa < sb else (sb, sa)] += n
    frequent = {s for s, n in count.items() if n >= opt.threads.min_support}
    shared, ties, linked = _value_ties(keys, names, frequent, opt.threads)
    thread_of = threads_of(count, ties, linked, pairs, opt.threads)
    thread = np.full(n_screens, -1, dtype=np.int64)
    for k, name in enumerate(names):
        thread[k] = thread_of.get(name, -1)
    return ScreenPass(out, thread, max(thread_of.values(), default=-1) + 1, shared, votes)


def _screens(fields: list[int], starts: list[bool], t: FieldTables) -> np.ndarray:
    """Each event's screen, as `threads.event_screens` names it, session by session."""
    out = [0] * len(fields)
    current: dict[str, int] = {}
    mode, app, screen, step_screen = t.mode, t.app, t.screen, t.step_screen
    for n, (f, start) in enumerate(zip(fields, starts, strict=True)):
        if start:
            current = {}
        m = mode[f]
        if m == OWN:
            out[n] = current[app[f]] = screen[f]
        elif m == CURRENT:
            out[n] = current.get(app[f], screen[f])
        else:
            out[n] = step_screen[f]
    return np.array(out, dtype=np.int32)


def _key_index(keys: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """Per field combination, where its keys begin in one flat array (and their end)."""
    sizes = np.fromiter((len(k) for k in keys), np.int64, len(keys))
    start = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    flat = np.fromiter((x for k in keys for x in k), np.int64, int(sizes.sum()))
    return start, flat


def gather_keys(fields: np.ndarray, start: np.ndarray, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For events with these field combinations: how many keys each has, and all their keys
    one event after another."""
    begin = start[fields]
    count = start[fields + 1] - begin
    total = int(count.sum())
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return count, flat[np.repeat(begin, count) + offset]


def _occurrences(rows: np.ndarray, screen: np.ndarray, start: np.ndarray, flat: np.ndarray) -> np.ndarray:
    count, keys = gather_keys(rows["fields"].astype(np.int64), start, flat)
    out = np.zeros(len(keys), dtype=_OCCURRENCE)
    out["key"] = keys
    out["micros"] = np.repeat(rows["micros"], count)
    out["seq"] = np.repeat(rows["seq"], count)
    out["screen"] = np.repeat(screen, count)
    return out


def _vote(votes: list[Counter[int]], user: np.ndarray, group: np.ndarray, n_groups: int) -> None:
    """Per user, the group names its events carry, counted in the order first met."""
    codes, first, counts = np.unique(
        user.astype(np.int64) * n_groups + group, return_index=True, return_counts=True
    )
    for k in np.argsort(first, kind="stable").tolist():
        code = int(codes[k])
        votes[code // n_groups][code % n_groups] += int(counts[k])


def _value_ties(
    keys: _Keys, names: list[str], frequent: set[str], opt: ThreadOptions
) -> tuple[np.ndarray, dict[tuple[str, str], float], dict[str, float]]:
    """The keys that link (`threads.shared_keys`) and the screen ties they make
    (`threads._value_ties`)."""
    rows = keys.kept()
    rows = rows[keys.count[rows["key"]] >= 2]
    rows = rows[np.lexsort((rows["seq"], rows["micros"], rows["key"]))]
    key = rows["key"]
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
    group = np.cumsum(first) - 1
    lo = rows["micros"][first]
    hi = np.maximum.reduceat(rows["micros"], np.flatnonzero(first)) if len(key) else lo
    near_enough = (hi - lo) / 1e6 <= opt.max_link_span  # as timedelta.total_seconds()
    shared = np.zeros(len(keys.count), dtype=bool)
    shared[key[first][near_enough]] = True
    rows, group = rows[near_enough[group]], group[near_enough[group]]
    ties: dict[tuple[str, str], float] = {}
    linked: dict[str, float] = {}
    same = group[1:] == group[:-1]
    sa, sb = rows["screen"][:-1], rows["screen"][1:]
    near = (np.diff(rows["micros"]) / 1e6 <= opt.link_seconds) & same & (sa != sb)
    seen: set[tuple[int, int, int]] = set()
    for g, a, b, k in zip(
        group[1:][near].tolist(),
        sa[near].tolist(),
        sb[near].tolist(),
        rows["key"][1:][near].tolist(),
        strict=True,
    ):
        na, nb = names[a], names[b]
        if na not in frequent or nb not in frequent:
            continue
        pair = (na, nb) if na < nb else (nb, na)
        once = (g, min(a, b), max(a, b))  # each pair once per key
        if once in seen:
            continue
        seen.add(once)
        w = 1.0 if k % 2 == 0 else 0.25
        ties[pair] = ties.get(pair, 0.0) + w
        linked[pair[0]] = linked.get(pair[0], 0.0) + w
        linked[pair[1]] = linked.get(pair[1], 0.0) + w
    return shared, ties, linked
