"""`segment.segment` on an `EventStore`, session by session, in memory that does not grow with
the log; the same cases, types and noise flags.

The segmentation decides a few things over the whole log; each is made from a summary that
grows with the log's vocabulary (screens, threads, origins), not its events, and each needs
one pass over the sessions (`eventstore.sessions`, a block of whole sessions at a time):
1. `bounded_threads.screen_pass`: each event's screen and the threads.
2. The samples: the first `join_sample` events that have a thread (how threads join into task
   types, `segment.join_threads`), then each type's first 20,000 events, on which its start is
   learnt (`cycles.learn_start`). Passes stop as soon as their samples are full.
3. Every session cut by its type's start (`cycles.apply_start`): per type, how many instances
   and their lengths' median (types of single events, or too few instances, are dropped).
4. The ballots: which type each origin of a loose event sits beside (`segment.ballots`).
5. Loose events joined to instances (`segment.join_loose`), and whether each (origin, type)
   is a routine step: how many instances it joins and the spread of its places. The cuts of
   passes 3-5 are made again in each pass (they are cheap, and holding them would grow).
Each event's instance and state go to a file beside the events; an instance number is given
later, in log order (`bounded_export`). The cases, types and noise flags are those of
`segment.segment`: the same functions decide them on the same events in the same order.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from veil.mining.bounded_threads import ScreenPass, gather_keys, screen_pass
from veil.mining.cycles import CycleOptions, Log, Sig, StartRule, apply_start, learn_start
from veil.mining.eventstore import Block, EventStore, Interned, sessions
from veil.mining.fieldtables import FieldTables
from veil.mining.segment import (
    END_STEP,
    Cutter,
    SegmentOptions,
    ballots,
    join_loose,
    join_threads,
    outcome_of,
    place_joined,
    placements,
)
from veil.mining.spill import RecordFile

RESULT = np.dtype([("case", "<i4"), ("group", "<i4"), ("state", "<i4")])
PLACED, LOOSE = -2, -1  # an event's state: in an instance's cut, in none; else the (origin, type) joined
LEARN_EVENTS = Cutter.sample_events  # events a type's start is learnt on


@dataclass
class Segmented:
    """What the passes decided: per event (`results`, in the store's order) its instance (-1:
    none) and state, per (origin, type) id whether its joined events are routine steps, and per
    group of threads its task type id (-1: no instances)."""

    results: RecordFile
    steady: np.ndarray
    type_of_group: np.ndarray
    cases: int  # instances (each event's instance is a number below this)
    user_groups: list[Counter[int]]  # per user, the group names its events carry (`ScreenPass`)


@dataclass
class _Blocks:
    """The store's blocks with each event's screen and thread."""

    store: EventStore
    screens: ScreenPass
    tables: FieldTables
    gap: float
    key_start: np.ndarray  # the linking keys of each field combination (those that link)
    key_flat: np.ndarray
    cycles: CycleOptions

    def __iter__(self) -> Iterator[tuple[Block, np.ndarray, np.ndarray]]:
        for block in sessions(self.store, self.gap):
            screen = self.screens.screens.read(block.position, len(block.rows)).astype(np.int64)
            yield block, screen, self.screens.thread[screen]

    def log(self, rows: np.ndarray) -> Log:
        fields = rows["fields"].astype(np.int64)
        count, keys = gather_keys(fields, self.key_start, self.key_flat)
        t = self.tables
        key_start = np.concatenate(([0], np.cumsum(count))).astype(np.int64)
        # As `datetime.timestamp()`: exact microseconds over 10**6, correctly rounded.
        return Log(t.step[fields], t.steps, t.number, rows["micros"] / 1e6, key_start, keys)


def _session_numbers(block: Block) -> np.ndarray:
    return block.first_session + np.cumsum(block.starts) - 1


def _first_placed(blocks: _Blocks, bucket_of_thread: np.ndarray, limit: int) -> list[tuple[np.ndarray, ...]]:
    """Per bucket (of threads), its first `limit` events that have a thread: their records,
    session numbers and threads."""
    n = int(bucket_of_thread.max()) + 1 if len(bucket_of_thread) else 0
    got: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(n)]
    left = [limit] * n
    for block, _screen, thread in blocks:
        placed = np.flatnonzero(thread >= 0)
        bucket = bucket_of_thread[thread[placed]]
        number = _session_numbers(block)
        for b in range(n):
            if left[b] > 0:
                mine = placed[bucket == b][: left[b]]
                got[b].append((block.rows[mine], number[mine], thread[mine]))
                left[b] -= len(mine)
        if not any(x > 0 for x in left):
            break
    # Every bucket has events (each thread has some), so each read at least one block.
    return [tuple(np.concatenate(c) for c in zip(*parts, strict=True)) for parts in got]


def _sample_cutter(
    blocks: _Blocks, sample: tuple[np.ndarray, ...], opt: SegmentOptions, ends: frozenset[Sig]
) -> Cutter:
    rows, number, thread = sample
    return Cutter(np.arange(len(rows)), number, thread, blocks.log(rows), opt.cycles, ends=ends)


def _rules(blocks: _Blocks, n_threads: int, opt: SegmentOptions) -> tuple[list[set[int]], list[StartRule]]:
    """The groups of threads that are one task type, and each one's start."""
    ends = frozenset(s for s in blocks.tables.steps if END_STEP.search(s[2]))
    everything = np.zeros(n_threads, dtype=np.int64)
    (joined,) = _first_placed(blocks, everything, opt.join_sample)
    groups = join_threads(_sample_cutter(blocks, joined, opt, ends), n_threads, opt)
    group_of = np.empty(n_threads, dtype=np.int64)
    for g, threads in enumerate(groups):
        group_of[list(threads)] = g
    rules = []
    for sample in _first_placed(blocks, group_of, LEARN_EVENTS):
        _rows, number, _thread = sample
        starts = np.ones(len(number), dtype=bool)
        starts[1:] = number[1:] != number[:-1]
        cutter = _sample_cutter(blocks, sample, opt, ends)
        rules.append(learn_start(cutter.events, starts, cutter.log, opt.cycles, ends))
    return groups, rules


@dataclass
class _Cuts:
    """The groups, their starts and which of them make task types."""

    group_of: np.ndarray  # per thread
    rules: list[StartRule]
    kept: set[int] = field(default_factory=set)

    def parts(
        self, blocks: _Blocks, block: Block, thread: np.ndarray, log: Log, only_kept: bool
    ) -> list[tuple[list[int], int]]:
        """The block's instances (block positions) with their group, group by group."""
        placed = np.flatnonzero(thread >= 0)
        group = self.group_of[thread[placed]]
        number = _session_numbers(block)
        out: list[tuple[list[int], int]] = []
        for g, rule in enumerate(self.rules):
            if only_kept and g not in self.kept:
                continue
            seq = placed[group == g]
            if not len(seq):
                continue
            starts = np.ones(len(seq), dtype=bool)
            starts[1:] = number[seq][1:] != number[seq][:-1]
            out.extend((p, g) for p in apply_start(seq, starts, log, rule, blocks.cycles))
        return out


def segment_store(store: EventStore, tables: FieldTables, opt: SegmentOptions, folder: Path) -> Segmented:
    """See the module docstring."""
    pass1 = screen_pass(store, tables, opt, folder)
    shared = [tuple(k for k in keys if pass1.shared[k]) for keys in tables.keys]
    sizes = np.fromiter((len(k) for k in shared), np.int64, len(shared))
    blocks = _Blocks(
        store,
        pass1,
        tables,
        opt.session_gap_seconds,
        np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        np.fromiter(itertools.chain.from_iterable(shared), np.int64, int(sizes.sum())),
        opt.cycles,
    )
    if pass1.threads == 0:
        groups: list[set[int]] = []
        rules: list[StartRule] = []
        group_of = np.zeros(0, dtype=np.int64)
    else:
        groups, rules = _rules(blocks, pass1.threads, opt)
        group_of = np.empty(pass1.threads, dtype=np.int64)
        for g, threads in enumerate(groups):
            group_of[list(threads)] = g
    cuts = _Cuts(group_of, rules)
    size = _count_parts(blocks, cuts, opt)
    cuts.kept = {g for g, n in size.items() if n >= opt.min_instances}
    outcome = outcome_of(_vote(blocks, cuts))
    return _attach(blocks, cuts, outcome, Counter({g: size[g] for g in cuts.kept}), opt, folder)


def _count_parts(blocks: _Blocks, cuts: _Cuts, opt: SegmentOptions) -> Counter[int]:
    """Per group whose instances are not single events, how many instances it has."""
    count: Counter[int] = Counter()
    lengths: dict[int, Counter[int]] = defaultdict(Counter)
    for block, _screen, thread in blocks:
        for p, g in cuts.parts(blocks, block, thread, blocks.log(block.rows), only_kept=False):
            count[g] += 1
            lengths[g][len(p)] += 1
    return Counter({g: n for g, n in count.items() if _median(lengths[g]) >= opt.min_steps})


def _median(counts: Counter[int]) -> float:
    """`statistics.median` of the values counted."""
    return statistics.median(sorted(counts.elements()))


def _origin(cuts: _Cuts, screen: np.ndarray, thread: np.ndarray) -> list[Hashable]:
    """Per event, where it comes from: its group of threads, else its screen."""
    group = np.where(thread >= 0, cuts.group_of[np.maximum(thread, 0)] if len(cuts.group_of) else -1, -1)
    return [
        ("group", g) if g >= 0 else ("screen", s)
        for g, s in zip(group.tolist(), screen.tolist(), strict=True)
    ]


def _vote(blocks: _Blocks, cuts: _Cuts) -> dict[Hashable, Counter[int]]:
    votes: dict[Hashable, Counter[int]] = defaultdict(Counter)
    for block, screen, thread in blocks:
        kept = cuts.parts(blocks, block, thread, blocks.log(block.rows), only_kept=True)
        case_of, type_of = placements(kept, len(block.rows))
        origin = _origin(cuts, screen, thread)
        ballots(_session_lists(block), case_of, type_of, origin.__getitem__, votes)
    return votes


def _session_lists(block: Block) -> list[list[int]]:
    return [list(range(a, b)) for a, b in block.sessions()]


def _attach(
    blocks: _Blocks,
    cuts: _Cuts,
    outcome: dict[Hashable, tuple[int, int, int]],
    instances_of: Counter[int],
    opt: SegmentOptions,
    folder: Path,
) -> Segmented:
    """Join the loose events (`segment._attach_loose`), write each event's instance and state,
    and decide which (origin, type) are routine steps."""
    results = RecordFile(folder / "results.rec", RESULT)
    keys: Interned[tuple[Hashable, int]] = Interned()  # (origin, type) of joined events
    positions: dict[int, Counter[float]] = defaultdict(Counter)
    attached: Counter[int] = Counter()  # instances each (origin, type) joins
    first: dict[int, tuple[int, int]] = {}  # per group, its first instance's first (micros, seq)
    cases = 0
    for block, screen, thread in blocks:
        rows, n = block.rows, len(block.rows)
        kept = cuts.parts(blocks, block, thread, blocks.log(rows), only_kept=True)
        case_of, type_of = placements(kept, n)
        state = np.where(np.array(case_of, dtype=np.int64) >= 0, PLACED, LOOSE)
        _votes, loose = ballots(
            _session_lists(block), case_of, type_of, _origin(cuts, screen, thread).__getitem__
        )
        joined = join_loose(loose, outcome, rows["micros"], case_of)
        joins: dict[int, set[int]] = defaultdict(set)
        for i, k, where in joined:
            key = keys.id((where, kept[k][1]))
            state[i] = key
            joins[key].add(k)
        for key, ks in joins.items():
            attached[key] += len(ks)
        for where_type, at in place_joined(joined, kept).items():
            positions[keys.id(where_type)].update(at)
        case, group = _number(kept, cases, rows, first)
        cases += len(kept)
        out = np.zeros(n, dtype=RESULT)
        out["case"], out["group"], out["state"] = case, group, state
        results.append(out)
    results.close()
    steady = _steady(keys, positions, attached, instances_of, opt.shared_share)
    type_of_group = np.full(len(cuts.rules), -1, dtype=np.int64)
    for tid, g in enumerate(sorted(first, key=first.__getitem__)):
        type_of_group[g] = tid
    blocks.screens.screens.unlink()
    return Segmented(results, steady, type_of_group, cases, blocks.screens.user_groups)


def _number(
    kept: list[tuple[list[int], int]], cases: int, rows: np.ndarray, first: dict[int, tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per event of the block, its instance (numbered on from `cases`) and group; keeps each
    group's first instance's first (micros, seq) in `first` (task types are numbered by it)."""
    case = np.full(len(rows), -1, dtype=np.int64)
    group = np.full(len(rows), -1, dtype=np.int64)
    micros, seq = rows["micros"].tolist(), rows["seq"].tolist()
    for k, (p, g) in enumerate(kept):
        case[p] = cases + k
        group[p] = g
        head = (micros[p[0]], seq[p[0]])  # the parts are sorted (`segment.place_joined`)
        if g not in first or head < first[g]:
            first[g] = head
    return case, group


def _steady(
    keys: Interned[tuple[Hashable, int]],
    positions: dict[int, Counter[float]],
    attached: Counter[int],
    instances_of: Counter[int],
    share: float,
) -> np.ndarray:
    """Per (origin, type), whether its joined events are a step of the type: beside enough of
    its instances, and in a steady place. `statistics.pstdev` is exact (fractions), so the places
    counted per distinct place give the spread of the list the in-memory path keeps."""
    steady = np.zeros(len(keys), dtype=bool)
    for key, (_where, t) in enumerate(keys.items):
        places = itertools.chain.from_iterable(itertools.repeat(x, c) for x, c in positions[key].items())
        steady[key] = attached[key] >= share * instances_of[t] and statistics.pstdev(places) <= 0.15
    return steady
