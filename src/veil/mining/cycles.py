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

import math
from collections import Counter
from collections.abc import Sequence
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


def regularity(parts: Sequence[Sequence[int]], sigs: Sequence[Sig], only: set[Sig] | None = None) -> float:
    """Share of events (of the steps in `only`, default all) in a part where their step occurs as
    often as in most parts."""
    number: dict[Sig, int] = {}
    rows, cols = [], []
    for k, p in enumerate(parts):
        for i in p:
            rows.append(k)
            cols.append(number.setdefault(sigs[i], len(number)))
    if not rows:
        return 0.0
    flat = np.bincount(np.array(rows) * len(number) + np.array(cols), minlength=len(parts) * len(number))
    table = flat.reshape(len(parts), len(number))
    columns = None if only is None else np.array([n for s, n in number.items() if s in only], dtype=np.int64)
    return _regular_share(table, columns)


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


def _score(thread: _Thread, start: Start, opt: CycleOptions) -> float:
    opens = thread.opens(start)
    part = thread.parts_of(opens)
    at_edge = int(thread.ids[0]) in start if start[1] != AFTER else int(thread.ids[-1]) == start[0]
    return (
        _regular_share(thread.counts(part))
        - opt.crossing_weight * _crossing_share(thread, part)
        + opt.pause_weight * _opening_pause(thread, opens)
        + opt.parts_weight * math.log(int(part[-1]) + 1)
        + (opt.first_weight if at_edge else 0.0)
        + (opt.end_weight if start[1] == AFTER else 0.0)
    )


def _leads(ids: np.ndarray, count: np.ndarray, share: float) -> dict[int, int]:
    """Per step, the step right before it in most of its occurrences."""
    pairs = Counter(zip(ids[:-1].tolist(), ids[1:].tolist(), strict=True))
    best: dict[int, tuple[int, int]] = {}
    for (a, b), n in pairs.items():
        if a != b and n > best.get(b, (0, -1))[0]:
            best[b] = (n, a)
    return {b: a for b, (n, a) in best.items() if n >= share * count[b]}


def _resplit(part: list[int], sigs: Sequence[Sig], times: Sequence[float], once: set[Sig]) -> list[list[int]]:
    """Split a part holding two instances: a once-per-instance step seen again."""
    seen: dict[Sig, int] = {}
    for k, i in enumerate(part):
        s = sigs[i]
        if s in once and s in seen:
            lo = seen[s] + 1
            cut = max(range(lo, k + 1), key=lambda c: times[part[c]] - times[part[c - 1]])
            return [part[:cut], *_resplit(part[cut:], sigs, times, once)]
        if s in once:
            seen[s] = k
    return [part]


def _thread(
    seqs: Sequence[Sequence[int]],
    sigs: Sequence[Sig],
    times: Sequence[float],
    keys: dict[int, tuple[str, ...]],
) -> tuple[_Thread, list[Sig]]:
    """The sequences one after another, each opening a part of its own."""
    seq = [i for s in seqs for i in s]
    forced = np.zeros(len(seq), dtype=bool)
    at = 0
    for s in seqs:
        if s:
            forced[at] = True
        at += len(s)
    number: dict[Sig, int] = {}
    ids = np.array([number.setdefault(sigs[i], len(number)) for i in seq], dtype=np.int64)
    stamps = np.array([times[i] for i in seq])
    gaps = np.zeros(len(seq))
    gaps[1:] = np.log1p(np.maximum(np.diff(stamps), 0.0))
    gaps[forced] = 0.0
    key_number: dict[str, int] = {}
    pos, kid = [], []
    for k, i in enumerate(seq):
        for key in keys.get(i, ()):
            pos.append(k)
            kid.append(key_number.setdefault(key, len(key_number)))
    key_id = np.array(kid, dtype=np.int64)
    _unique, first = np.unique(key_id, return_index=True)
    key_first = np.zeros(len(key_number), dtype=np.int64)
    key_first[key_id[first]] = first
    thread = _Thread(
        ids, len(number), gaps, np.array(pos, dtype=np.int64), key_id, key_first, len(set(pos)), forced
    )
    return thread, list(number)


@dataclass(frozen=True, slots=True)
class StartRule:
    """How a task type's instances open, learnt once and applied to every session."""

    first: Sig | None  # None: no cycle; each session is one instance
    lead: Sig | None = None  # the step that leads into `first` when right before it
    after: bool = False  # `first` ends an instance: the next one opens right after it
    once: frozenset[Sig] = frozenset()  # steps seen once in most instances
    typical: float = 0.0  # median instance length in events


def learn_start(
    seqs: Sequence[Sequence[int]],
    sigs: Sequence[Sig],
    times: Sequence[float],
    keys: dict[int, tuple[str, ...]],
    opt: CycleOptions | None = None,
    ends: frozenset[Sig] = frozenset(),
) -> StartRule:
    """The best-scoring first step over the sessions of one thread (see the module docstring);
    `ends` are steps that send or save, tried also as the last step of an instance."""
    opt = opt or CycleOptions()
    if sum(len(s) for s in seqs) < 2:
        return StartRule(None)
    thread, steps = _thread(seqs, sigs, times, keys)
    count = np.bincount(thread.ids, minlength=thread.n_steps)
    tried = [int(s) for s in np.argsort(-count, kind="stable")[: opt.candidates] if count[s] >= 2]
    if not tried:
        return StartRule(None)
    leads = _leads(thread.ids, count, opt.lead_share)
    starts: list[Start] = [(s, -1) for s in tried] + [(s, leads[s]) for s in tried if s in leads]
    starts += [(s, AFTER) for s in tried if steps[s] in ends]
    best = max(starts, key=lambda st: (_score(thread, st, opt), -st[0], -st[1]))
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
    seq: Sequence[int],
    sigs: Sequence[Sig],
    times: Sequence[float],
    rule: StartRule,
    opt: CycleOptions | None = None,
) -> list[list[int]]:
    """Instances of one session of a thread, cut by `rule`."""
    opt = opt or CycleOptions()
    if not seq:
        return []
    if rule.first is None:
        return [list(seq)]
    parts: list[list[int]] = [[]]
    n = len(seq)
    for k, i in enumerate(seq):
        s = sigs[i]
        if rule.after:
            if k and sigs[seq[k - 1]] == rule.first and parts[-1]:
                parts.append([])
            parts[-1].append(i)
            continue
        opens = s == rule.first and not (rule.lead and k and sigs[seq[k - 1]] == rule.lead)
        opens = opens or (
            rule.lead is not None and s == rule.lead and k + 1 < n and sigs[seq[k + 1]] == rule.first
        )
        if opens and parts[-1]:
            parts.append([])
        parts[-1].append(i)
    out: list[list[int]] = []
    for p in parts:
        out.extend(_resplit(p, sigs, times, set(rule.once)) if len(p) >= opt.overlong * rule.typical else [p])
    return out


def cut_cycles(
    seq: Sequence[int],
    sigs: Sequence[Sig],
    times: Sequence[float],
    keys: dict[int, tuple[str, ...]],
    opt: CycleOptions | None = None,
) -> list[list[int]]:
    """Instances of one thread (see the module docstring); `keys` are each event's linking keys."""
    return apply_start(seq, sigs, times, learn_start([seq], sigs, times, keys, opt), opt)
