"""Cut one thread (the events of one task type, in time order) into task instances.

A routine done again and again is a cycle, and its instances open with the same step. Every
frequent step is tried as the first step, alone and together with the step that usually leads
into it (an optional "open the file" before "go to the form"); each cut is scored by
1. regularity: the share of events sitting in a part where their step occurs as often as in most
   parts (a loop step as the start breaks instances apart and scores low, a step seen in only
   half the instances glues pairs together and leaves the other steps uneven);
2. links: minus the share of events whose value or record (a copy and its paste, one spreadsheet
   row; see `links`) the cut separates. This settles the phase: every step of a cycle yields an
   equally regular cut, but only the true first step keeps each instance's data together;
3. small tie-breakers: longer pauses before the parts, more parts, and the
   thread's very first event being a first step.
Parts much longer than usual, where a step that occurs once per instance appears twice, are
split again (an instance whose usual first step was skipped) at the longest pause between.
Vectorised with numpy: a cut costs a few array passes over the thread.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Sig = tuple[str, str, str]
Start = tuple[int, int]  # (first step, lead-in step or -1; or last step, AFTER), as step numbers
AFTER = -2  # the start's step ends an instance: parts open right after it


@dataclass(frozen=True, slots=True)
class CycleOptions:
    crossing_weight: float = 0.5  # per share of keyed events whose value or record a cut splits
    pause_weight: float = 0.1  # per unit of log pause before a part, over the median inside
    parts_weight: float = 0.05  # per unit of log number of parts
    first_weight: float = 0.05  # the thread's first event is likely a first step
    end_weight: float = 0.05  # an instance more likely ends at a send/submit step than starts there
    candidates: int = 40  # most frequent steps tried as first steps
    lead_share: float = 0.5  # a step right before a first step this often may lead into it
    overlong: float = 1.6  # parts this many times the median length are checked for two instances


@dataclass(frozen=True, slots=True)
class _Thread:
    ids: np.ndarray  # step number of each event
    n_steps: int
    gaps: np.ndarray  # log(1 + seconds) before each event (0 for the first)
    key_pos: np.ndarray  # (event position, key number) pairs in position order
    key_id: np.ndarray
    key_first: np.ndarray  # per key number, its first pair
    keyed: int  # events with at least one key
    forced: np.ndarray  # where a session begins: a part opens whatever the start

    def opens(self, start: Start) -> np.ndarray:
        first, lead = start
        ids = self.ids
        is_first = ids == first
        if lead == AFTER:
            out = np.zeros_like(is_first)
            out[1:] = is_first[:-1]
        elif lead >= 0:
            prev_lead = np.zeros_like(is_first)
            prev_lead[1:] = ids[:-1] == lead
            next_first = np.zeros_like(is_first)
            next_first[:-1] = is_first[1:]
            out = (is_first & ~prev_lead) | ((ids == lead) & next_first)
        else:
            out = is_first.copy()
        out |= self.forced
        out[0] = False
        return np.asarray(out, dtype=bool)

    def parts_of(self, opens: np.ndarray) -> np.ndarray:
        return np.cumsum(opens)

    def counts(self, part: np.ndarray) -> np.ndarray:
        n_parts = int(part[-1]) + 1
        flat = np.bincount(part * self.n_steps + self.ids, minlength=n_parts * self.n_steps)
        return flat.reshape(n_parts, self.n_steps)


def _modes(table: np.ndarray) -> np.ndarray:
    """Per column, its most frequent value (the smallest on a tie)."""
    n_cols = table.shape[1]
    top = int(table.max()) + 1
    flat = np.bincount((table * n_cols + np.arange(n_cols)[None, :]).ravel(), minlength=top * n_cols)
    return np.asarray(flat.reshape(top, n_cols).argmax(axis=0))


def _regular_share(table: np.ndarray, columns: np.ndarray | None = None) -> float:
    """Share of events in a part where their step occurs as often as in most parts."""
    if columns is not None:
        table = table[:, columns]
    total = int(table.sum()) if table.size else 0
    if total == 0:
        return 0.0
    mode = _modes(table)
    return float((table * (table == mode[None, :])).sum() / total)


def regularity(parts: Sequence[Sequence[int]], log: Log, only: np.ndarray | None = None) -> float:
    """Share of events (of the steps `only` marks, by step number; default all) in a part where
    their step occurs as often as in most parts."""
    sizes = np.fromiter((len(p) for p in parts), np.int64, len(parts))
    total = int(sizes.sum())
    if not total:
        return 0.0
    step = log.step[np.fromiter(itertools.chain.from_iterable(parts), np.int64, total)]
    row = np.repeat(np.arange(len(parts)), sizes)
    if only is not None:
        kept = only[step]
        step, row = step[kept], row[kept]
    present, column = np.unique(step, return_inverse=True)
    flat = np.bincount(row * len(present) + column, minlength=len(parts) * len(present))
    return _regular_share(flat.reshape(len(parts), len(present)))


def _crossing_share(thread: _Thread, part: np.ndarray) -> float:
    if thread.key_pos.size == 0:
        return 0.0
    where = part[thread.key_pos]
    first_part = where[thread.key_first]
    return float((where != first_part[thread.key_id]).sum() / thread.keyed)


def _opening_pause(thread: _Thread, opens: np.ndarray) -> float:
    """Mean log pause before a part (the same offset for every cut is left out)."""
    before = thread.gaps[opens]
    return float(before.mean()) if before.size else 0.0


@dataclass(frozen=True, slots=True)
class _Cut:
    """A start tried on a thread, with the parts of its score that cost little."""

    start: Start
    opens: np.ndarray
    pause: float  # `_opening_pause`
    parts: int
    first: float  # the first-step bonus, or 0
    end: float  # the send-or-save bonus, or 0

    @classmethod
    def of(cls, thread: _Thread, start: Start, opt: CycleOptions) -> _Cut:
        opens = thread.opens(start)
        at_edge = int(thread.ids[0]) in start if start[1] != AFTER else int(thread.ids[-1]) == start[0]
        return cls(
            start,
            opens,
            _opening_pause(thread, opens),
            int(np.count_nonzero(opens)) + 1,
            opt.first_weight if at_edge else 0.0,
            opt.end_weight if start[1] == AFTER else 0.0,
        )

    def score(self, regular: float, crossing: float, opt: CycleOptions) -> float:
        return (
            regular
            - opt.crossing_weight * crossing
            + opt.pause_weight * self.pause
            + opt.parts_weight * math.log(self.parts)
            + self.first
            + self.end
        )

    def bound(self, opt: CycleOptions) -> float:
        """At least the score, to the last bit: regularity is at most 1 and crossings cost at
        least 0, and adding floats is monotonic."""
        return self.score(1.0, 0.0, opt)


def _score(thread: _Thread, cut: _Cut, opt: CycleOptions) -> float:
    part = thread.parts_of(cut.opens)
    return cut.score(_regular_in(thread.counts(part), len(thread.ids)), _crossing_share(thread, part), opt)


def _best(thread: _Thread, starts: list[Start], opt: CycleOptions) -> Start:
    """The start with the highest score (the lowest step numbers on a tie). Starts are scored in
    the order of their bounds, and one whose bound is below the best score yet is not scored:
    it cannot be the best (a third to a half of them, as threads go)."""
    first, *rest = sorted((_Cut.of(thread, st, opt) for st in starts), key=lambda c: -c.bound(opt))
    best = (_score(thread, first, opt), -first.start[0], -first.start[1])
    for cut in rest:
        if cut.bound(opt) >= best[0]:
            best = max(best, (_score(thread, cut, opt), -cut.start[0], -cut.start[1]))
    return (-best[1], -best[2])


def _regular_in(table: np.ndarray, total: int) -> float:
    """`_regular_share` of a table of all `total` events: per column, the events in parts where
    the step occurs its most frequent number of times are that number times how many such
    parts there are."""
    n_cols = table.shape[1]
    top = int(table.max()) + 1
    flat = np.bincount((table * n_cols + np.arange(n_cols)[None, :]).ravel(), minlength=top * n_cols)
    parts_with = flat.reshape(top, n_cols)
    return float((parts_with.argmax(axis=0) * parts_with.max(axis=0)).sum() / total)


def _leads(ids: np.ndarray, count: np.ndarray, share: float) -> dict[int, int]:
    """Per step, the step right before it in most of its occurrences (the first pair seen
    among equals)."""
    n = int(count.size)
    before, after = ids[:-1], ids[1:]
    apart = before != after
    pairs, first, times = np.unique(before[apart] * n + after[apart], return_index=True, return_counts=True)
    b = pairs % n
    best = np.lexsort((first, -times, b))  # per step, its most frequent pair, the first seen on a tie
    head = best[np.r_[True, b[best][1:] != b[best][:-1]]] if best.size else best
    return {int(b[k]): int(pairs[k] // n) for k in head.tolist() if times[k] >= share * count[b[k]]}


def _resplit(part: list[int], log: Log, once: set[int]) -> list[list[int]]:
    """Split a part holding two instances: a once-per-instance step seen again."""
    seen: dict[int, int] = {}
    times = log.times
    for k, i in enumerate(part):
        s = int(log.step[i])
        if s in once and s in seen:
            lo = seen[s] + 1
            cut = max(range(lo, k + 1), key=lambda c: times[part[c]] - times[part[c - 1]])
            return [part[:cut], *_resplit(part[cut:], log, once)]
        if s in once:
            seen[s] = k
    return [part]


def _thread(seq: np.ndarray, starts: np.ndarray, log: Log) -> tuple[_Thread, list[Sig]]:
    """The sessions one after another (`starts` marks where each begins), each opening a part of
    its own; steps numbered in the order they first appear."""
    forced = starts.copy()
    present, first, inverse = np.unique(log.step[seq], return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(len(present), dtype=np.int64)
    number[order] = np.arange(len(present))
    ids = number[inverse.reshape(-1)]
    stamps = log.times[seq]
    gaps = np.zeros(len(seq))
    gaps[1:] = np.log1p(np.maximum(np.diff(stamps), 0.0))
    gaps[forced] = 0.0
    # The events' keys, event by event: (position, key) pairs in position order.
    begin, count = log.key_start[seq], log.key_start[seq + 1] - log.key_start[seq]
    pos = np.repeat(np.arange(len(seq), dtype=np.int64), count)
    pairs = int(count.sum())
    offset = np.arange(pairs, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    _keys, key_first, key_id = np.unique(
        log.key[np.repeat(begin, count) + offset], return_index=True, return_inverse=True
    )
    thread = _Thread(
        ids,
        len(present),
        gaps,
        pos,
        key_id.reshape(-1).astype(np.int64),
        key_first.astype(np.int64),
        int(np.count_nonzero(count)),
        forced,
    )
    return thread, [log.steps[int(k)] for k in present[order]]


@dataclass(frozen=True, slots=True)
class Log:
    """A log's events as arrays for cutting: each event's step number (steps numbered in the
    order they first appear), time and linking keys (numbered; event i's are
    `key[key_start[i]:key_start[i + 1]]`)."""

    step: np.ndarray
    steps: list[Sig]  # step number -> signature
    number: dict[Sig, int]  # signature -> step number
    times: np.ndarray
    key_start: np.ndarray
    key: np.ndarray

    @classmethod
    def of(
        cls, sigs: Iterable[Sig], times: Sequence[float] | np.ndarray, keys: dict[int, tuple[str, ...]]
    ) -> Log:
        """`sigs` and `times` per event (`sigs` may be a generator: the log keeps each step once)."""
        n = len(times)
        number: dict[Sig, int] = {}
        step = np.fromiter((number.setdefault(s, len(number)) for s in sigs), np.int64, n)
        count = np.zeros(n + 1, dtype=np.int64)
        key_number: dict[str, int] = {}
        flat: list[int] = []
        for i in sorted(keys):
            count[i + 1] = len(keys[i])
            flat.extend(key_number.setdefault(k, len(key_number)) for k in keys[i])
        return cls(
            step,
            list(number),
            number,
            np.asarray(times, dtype=np.float64),
            np.cumsum(count),
            np.array(flat, dtype=np.int64),
        )


@dataclass(frozen=True, slots=True)
class StartRule:
    """How a task type's instances open, learnt once and applied to every session."""

    first: Sig | None  # None: no cycle; each session is one instance
    lead: Sig | None = None  # the step that leads into `first` when right before it
    after: bool = False  # `first` ends an instance: the next one opens right after it
    once: frozenset[Sig] = frozenset()  # steps seen once in most instances
    typical: float = 0.0  # median instance length in events


def learn_start(
    seq: np.ndarray,
    starts: np.ndarray,
    log: Log,
    opt: CycleOptions | None = None,
    ends: frozenset[Sig] = frozenset(),
) -> StartRule:
    """The best-scoring first step over the sessions of one thread, their events one after
    another in `seq` and `starts` marking where each session begins (see the module docstring);
    `ends` are steps that send or save, tried also as the last step of an instance."""
    opt = opt or CycleOptions()
    if len(seq) < 2:
        return StartRule(None)
    thread, steps = _thread(seq, starts, log)
    count = np.bincount(thread.ids, minlength=thread.n_steps)
    tried = [int(s) for s in np.argsort(-count, kind="stable")[: opt.candidates] if count[s] >= 2]
    if not tried:
        return StartRule(None)
    leads = _leads(thread.ids, count, opt.lead_share)
    starts_tried: list[Start] = [(s, -1) for s in tried] + [(s, leads[s]) for s in tried if s in leads]
    starts_tried += [(s, AFTER) for s in tried if steps[s] in ends]
    best = _best(thread, starts_tried, opt)
    part = thread.parts_of(thread.opens(best))
    table = thread.counts(part)
    modes = _modes(table)
    sizes = np.bincount(part)
    return StartRule(
        first=steps[best[0]],
        lead=steps[best[1]] if best[1] >= 0 else None,
        after=best[1] == AFTER,
        once=frozenset(steps[j] for j in range(thread.n_steps) if modes[j] == 1),
        typical=float(np.median(sizes)),
    )


def apply_start(
    seq: np.ndarray,
    starts: np.ndarray,
    log: Log,
    rule: StartRule,
    opt: CycleOptions | None = None,
) -> list[list[int]]:
    """Instances of the sessions of a thread (as in `learn_start`), cut by `rule`, session by
    session."""
    opt = opt or CycleOptions()
    if not len(seq):
        return []
    step = log.step[seq]
    inside = ~starts  # the event before is in the same session
    inside[0] = False
    if rule.first is None:
        opens = starts.copy()
    else:
        first = step == log.number[rule.first]
        before_first = np.zeros_like(first)  # the next event (same session) is `first`
        before_first[:-1] = first[1:] & inside[1:]
        if rule.after:
            opens = np.zeros_like(first)
            opens[1:] = first[:-1]
        elif rule.lead is not None:
            lead = step == log.number[rule.lead]
            after_lead = np.zeros_like(first)
            after_lead[1:] = lead[:-1]
            opens = (first & ~(after_lead & inside)) | (lead & before_first)
        else:
            opens = first
        opens = (opens & inside) | starts
    cuts = np.flatnonzero(opens[1:]) + 1
    parts = [p.tolist() for p in np.split(seq, cuts)]
    if rule.first is None:
        return parts
    once = {log.number[s] for s in rule.once}
    out: list[list[int]] = []
    for p in parts:
        out.extend(_resplit(p, log, once) if len(p) >= opt.overlong * rule.typical else [p])
    return out


def cut_cycles(
    seq: Sequence[int],
    sigs: Sequence[Sig],
    times: Sequence[float],
    keys: dict[int, tuple[str, ...]],
    opt: CycleOptions | None = None,
) -> list[list[int]]:
    """Instances of one thread (see the module docstring); `keys` are each event's linking keys."""
    log = Log.of(sigs, times, keys)
    events = np.asarray(seq, dtype=np.int64)
    starts = np.zeros(len(events), dtype=bool)
    starts[:1] = True
    return apply_start(events, starts, log, learn_start(events, starts, log, opt), opt)
