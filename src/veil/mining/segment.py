"""Split an unlabelled stream of UI events into task instances and task types, without labels and
without seeing one value.

A person's working time interleaves tasks: an instance is started, left for another task,
resumed. The method follows what the events say rather than their order alone:
1. Per user, sessions end at long idle gaps (a log without a user column is one user).
2. Threads (`threads`): steps that go together, from lift-filtered neighbourhood, shared values
   (keyed pseudonyms of copied/pasted/typed values; `links`) and shared records (spreadsheet
   rows), grouped by Louvain community detection. Each event follows its step's thread, so
   interleaved work falls apart into one subsequence per task; steps in no thread are noise.
3. Cycles (`cycles`): each thread's subsequence is cut into instances at the start step that
   makes the parts most regular, most numerous and least linked across parts.
4. Threads whose instances share values or records (two pages of one form that fell into two
   threads) are one task type; their linked instances are joined.
This builds on task recognition from interaction streams (Rebmann & van der Aa, CAiSE 2023 and
Information Systems 2024: context attributes and data flow over step names alone) and on
segmentation by repeated start steps (Leno et al., "Identifying candidate routines for robotic
process automation from unsegmented UI logs", ICPM 2020). Deterministic: the same log gives the
same cases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from veil.mining.base import Segmentation, UIEvent
from veil.mining.cycles import CycleOptions, cut_cycles
from veil.mining.threads import ThreadOptions, event_screens, find_threads, shared_keys


@dataclass(frozen=True, slots=True)
class SegmentOptions:
    session_gap_seconds: float = 1800.0
    min_instances: int = 2  # a thread with fewer instances is noise
    join_share: float = 99.0  # threads whose instances are linked this often are one type
    threads: ThreadOptions = field(default_factory=ThreadOptions)
    cycles: CycleOptions = field(default_factory=CycleOptions)


def _sessions(events: Sequence[UIEvent], gap: float) -> list[list[int]]:
    by_user: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(events):
        by_user[e.user].append(i)
    sessions: list[list[int]] = []
    for idx in by_user.values():
        idx.sort(key=lambda i: events[i].timestamp)
        current = [idx[0]]
        for a, b in pairwise(idx):
            if (events[b].timestamp - events[a].timestamp).total_seconds() > gap:
                sessions.append(current)
                current = []
            current.append(b)
        sessions.append(current)
    return sessions


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _join_threads(
    parts: list[tuple[int, list[int]]], keys_of: dict[int, tuple[str, ...]], n_threads: int, share: float
) -> tuple[list[list[int]], list[int]]:
    """Instances and their type: threads linked through most of their instances are one type,
    and their linked instances one instance."""
    holders: dict[str, list[int]] = defaultdict(list)
    for k, (_t, idx) in enumerate(parts):
        for key in {key for i in idx for key in keys_of.get(i, ())}:
            holders[key].append(k)
    pairs: set[tuple[int, int]] = set()
    for ks in holders.values():
        for x in ks:
            for y in ks:
                if x < y and parts[x][0] != parts[y][0]:
                    pairs.add((x, y))
    per_thread = Counter(t for t, _idx in parts)
    linked: dict[tuple[int, int], set[int]] = defaultdict(set)
    for x, y in pairs:
        a, b = sorted((parts[x][0], parts[y][0]))
        linked[(a, b)].update((x, y))
    threads = _Union(n_threads)
    for (a, b), members in linked.items():
        small = min(per_thread[a], per_thread[b])
        in_small = sum(1 for k in members if parts[k][0] == (a if per_thread[a] <= per_thread[b] else b))
        if in_small >= share * small:
            threads.join(a, b)
    instances = _Union(len(parts))
    for x, y in sorted(pairs):
        if threads.find(parts[x][0]) == threads.find(parts[y][0]):
            instances.join(x, y)
    grouped: dict[int, list[int]] = defaultdict(list)
    for k, (_t, idx) in enumerate(parts):
        grouped[instances.find(k)].extend(idx)
    roots = sorted(grouped)
    return [sorted(grouped[r]) for r in roots], [threads.find(parts[r][0]) for r in roots]


def segment(events: Sequence[UIEvent], opt: SegmentOptions | None = None) -> Segmentation:
    """Task instance and task type of every event (see the module docstring)."""
    opt = opt or SegmentOptions()
    if not events:
        return Segmentation((), (), ())
    sessions = _sessions(events, opt.session_gap_seconds)
    screen = event_screens(events, sessions)
    thread_of = find_threads(events, sessions, screen, opt.threads)
    sigs = [e.signature for e in events]
    times = [e.timestamp.timestamp() for e in events]
    keys_of: dict[int, list[str]] = defaultdict(list)
    for key, idx in shared_keys(events, range(len(events)), opt.threads).items():
        for i in idx:
            keys_of[i].append(key)
    keys = {i: tuple(k) for i, k in keys_of.items()}
    parts: list[tuple[int, list[int]]] = []
    for seq in sessions:
        by_thread: dict[int, list[int]] = defaultdict(list)
        for i in seq:
            if screen[i] in thread_of:
                by_thread[thread_of[screen[i]]].append(i)
        for thread in sorted(by_thread):
            parts.extend((thread, p) for p in cut_cycles(by_thread[thread], sigs, times, keys, opt.cycles))
    cases, types = _join_threads(parts, keys, max(thread_of.values(), default=-1) + 1, opt.join_share)
    return _assign(len(events), cases, types, opt.min_instances)


def _assign(n: int, cases: list[list[int]], types: list[int], min_instances: int) -> Segmentation:
    """Per event: case id and type id in order of first appearance; events in no instance, or in
    a type seen fewer than `min_instances` times, are noise."""
    size = Counter(types)
    kept = sorted(
        (min(idx), idx, ty) for idx, ty in zip(cases, types, strict=True) if size[ty] >= min_instances
    )
    case = [""] * n
    type_of = [-1] * n
    type_ids: dict[int, int] = {}
    width = len(str(len(kept)))
    for number, (_first, idx, ty) in enumerate(kept, start=1):
        tid = type_ids.setdefault(ty, len(type_ids))
        for i in idx:
            case[i] = f"case-{number:0{width}d}"
            type_of[i] = tid
    return Segmentation(cases=tuple(case), types=tuple(type_of), noise=tuple(not c for c in case))
