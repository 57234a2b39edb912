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

import bisect
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from veil.mining.base import Segmentation, UIEvent
from veil.mining.cycles import CycleOptions, Sig, StartRule, apply_start, learn_start, regularity
from veil.mining.threads import ThreadOptions, event_screens, find_threads, shared_keys

# Targets that send, save or confirm what was entered: an instance more likely ends there.
END_STEP = re.compile(
    r"(?i)\b(?:submit|send|save|saved|confirm|done|finish|form cleared)\b"
    r"|제출|저장|전송|送信|保存|登録|確定|envoyer|enregistrer|valider|soumettre"
)


@dataclass(frozen=True, slots=True)
class SegmentOptions:
    session_gap_seconds: float = 1800.0
    min_instances: int = 2  # a type with fewer instances is noise
    min_steps: int = 2  # ... and so is one whose instances are mostly single events
    join_loss: float = 0.15  # threads cut together may lose this much regularity and be one task
    join_parts: float = 1.1  # ... and have (nearly) no more instances than the larger alone
    minor_events: int = 10  # a thread on fewer events joins the thread it sits among
    join_sample: int = 20_000  # events the joining of threads looks at
    shared_share: float = 0.5  # a loose step beside this share of a type's instances is one of its steps
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


@dataclass
class _Cutter:
    """Cuts the events of a set of threads into instances: the start is learnt once over a
    sample of the sessions, then every session is cut by it."""

    by_thread: list[dict[int, list[int]]]  # per session: thread -> its events there
    sigs: list[Sig]
    times: list[float]
    keys: dict[int, tuple[str, ...]]
    opt: CycleOptions
    sample_events: int = 20_000
    ends: frozenset[Sig] = frozenset()  # steps that send or save: an instance may end there

    def sessions(self, threads: set[int]) -> list[list[int]]:
        return [sorted(i for t in threads for i in s.get(t, ())) for s in self.by_thread]

    def rule(self, threads: set[int]) -> StartRule:
        sample: list[list[int]] = []
        left = self.sample_events
        for seq in self.sessions(threads):
            if left <= 0:
                break
            sample.append(seq[:left])
            left -= len(sample[-1])
        return learn_start(sample, self.sigs, self.times, self.keys, self.opt, self.ends)

    def cut(self, threads: set[int]) -> list[list[int]]:
        rule = self.rule(threads)
        return [
            p
            for seq in self.sessions(threads)
            for p in apply_start(seq, self.sigs, self.times, rule, self.opt)
        ]

    def sample(self, budget: int) -> _Cutter:
        """The same cutter on the first `budget` events (structure shows long before the end)."""
        kept: list[dict[int, list[int]]] = []
        left = budget
        for session in self.by_thread:
            if left <= 0:
                break
            limit = sorted(i for idx in session.values() for i in idx)[:left]
            last = limit[-1] if limit else -1
            kept.append({t: [i for i in idx if i <= last] for t, idx in session.items()})
            left -= len(limit)
        return _Cutter(kept, self.sigs, self.times, self.keys, self.opt, self.sample_events, self.ends)


def _minor_into_major(cutter: _Cutter, groups: list[set[int]], minor_events: int) -> list[set[int]]:
    """A thread seen on only a few events (a rare error path) joins the thread its events sit
    among most often."""
    size = Counter({k: 0 for k in range(len(groups))})
    group_of: dict[int, int] = {}
    for k, g in enumerate(groups):
        for t in g:
            group_of[t] = k
    order: list[list[tuple[int, int]]] = []
    for session in cutter.by_thread:
        seq = sorted((i, group_of[t]) for t, idx in session.items() for i in idx)
        order.append(seq)
        size.update(k for _i, k in seq)
    major = {k for k, n in size.items() if n >= minor_events}
    if not major:
        return groups
    votes: dict[int, Counter[int]] = defaultdict(Counter)
    for seq in order:
        kinds = [k for _i, k in seq]
        before = _nearest(kinds, major, range(len(kinds)))
        after = _nearest(kinds, major, range(len(kinds) - 1, -1, -1))
        for n, k in enumerate(kinds):
            # Only inside another thread's work (the same thread just before and after) is a
            # rare step a variant of it; at a boundary it is unrelated work.
            b = before[n]
            if k not in major and b is not None and b == after[n]:
                votes[k][b] += 1
    out = {k: set(g) for k, g in enumerate(groups) if k in major}
    for k, g in enumerate(groups):
        if k not in major:
            best = min(votes[k], key=lambda m: (-votes[k][m], m), default=None)
            if best is not None and votes[k][best] >= 0.5 * size[k]:
                out[best] |= g
            else:
                out[k] = set(g)
    return list(out.values())


def _nearest(kinds: list[int], major: set[int], walk: Iterable[int]) -> list[int | None]:
    """Per position, the nearest major group strictly before it in the order walked."""
    out: list[int | None] = [None] * len(kinds)
    last: int | None = None
    for n in walk:
        out[n] = last
        if kinds[n] in major:
            last = kinds[n]
    return out


def _join_threads(cutter: _Cutter, n_threads: int, opt: SegmentOptions) -> list[set[int]]:
    """Threads that are parts of one task (a form's confirmation page, a login before the work):
    cut together, each keeps its own regularity and the number of instances stays close, which
    two different tasks done side by side never do (their steps fall unevenly into the parts)."""
    cutter = cutter.sample(opt.join_sample)
    groups = _minor_into_major(cutter, [{t} for t in range(n_threads)], opt.minor_events)
    steps = [{cutter.sigs[i] for s in cutter.by_thread for i in s.get(t, ())} for t in range(n_threads)]
    cuts: dict[frozenset[int], list[list[int]]] = {}

    def cut(g: set[int]) -> list[list[int]]:
        key = frozenset(g)
        if key not in cuts:
            cuts[key] = cutter.cut(g)
        return cuts[key]

    def loose(g: set[int]) -> bool:
        parts = cut(g)
        return not parts or statistics.median(len(p) for p in parts) < opt.min_steps

    losses: dict[frozenset[frozenset[int]], float | None] = {}

    def loss(a: set[int], b: set[int]) -> float | None:
        key = frozenset((frozenset(a), frozenset(b)))
        if key not in losses:
            losses[key] = _loss(a, b)
        return losses[key]

    def _loss(a: set[int], b: set[int]) -> float | None:
        pa, pb, union = cut(a), cut(b), cut(a | b)
        # Two tasks side by side add up their instances. A thread of single events keeps its
        # partner's count only if it belongs to it alone: a step several tasks share (reading
        # the request e-mail) brings the other tasks' instances along, and joins them later.
        sizes = [len(p) for p, g in ((pa, a), (pb, b)) if not loose(g)] or [len(pa), len(pb)]
        if len(union) > opt.join_parts * max(*sizes, 1):
            return None
        sa = set().union(*(steps[t] for t in a))
        sb = set().union(*(steps[t] for t in b))
        return max(
            regularity(pa, cutter.sigs, sa) - regularity(union, cutter.sigs, sa),
            regularity(pb, cutter.sigs, sb) - regularity(union, cutter.sigs, sb),
        )

    while len(groups) > 1:
        best: tuple[float, int, int] | None = None
        for x in range(len(groups)):
            for y in range(x + 1, len(groups)):
                lost = loss(groups[x], groups[y])
                if lost is not None and lost <= opt.join_loss and (best is None or lost < best[0]):
                    best = (lost, x, y)
        if best is None:
            break
        _lost, x, y = best
        groups = [g for k, g in enumerate(groups) if k not in (x, y)] + [groups[x] | groups[y]]
    return groups


def segment(events: Sequence[UIEvent], opt: SegmentOptions | None = None) -> Segmentation:
    """Task instance and task type of every event (see the module docstring)."""
    opt = opt or SegmentOptions()
    if not events:
        return Segmentation((), (), ())
    sessions = _sessions(events, opt.session_gap_seconds)
    screen = event_screens(events, sessions)
    shared = shared_keys(events, range(len(events)), opt.threads)
    thread_of = find_threads(events, sessions, screen, opt.threads, shared)
    sigs = [e.signature for e in events]
    times = [e.timestamp.timestamp() for e in events]
    keys_of: dict[int, list[str]] = defaultdict(list)
    for key, idx in shared.items():
        for i in idx:
            keys_of[i].append(key)
    keys = {i: tuple(k) for i, k in keys_of.items()}
    by_thread: list[dict[int, list[int]]] = []
    for seq in sessions:
        here: dict[int, list[int]] = defaultdict(list)
        for i in seq:
            if screen[i] in thread_of:
                here[thread_of[screen[i]]].append(i)
        by_thread.append(here)
    ends = frozenset(s for s in set(sigs) if END_STEP.search(s[2]))
    cutter = _Cutter(by_thread, sigs, times, keys, opt.cycles, ends=ends)
    cases: list[list[int]] = []
    types: list[int] = []
    origin: dict[int, str] = {i: f"screen {screen[i]}" for i in range(len(events))}
    for number, group in enumerate(_join_threads(cutter, max(thread_of.values(), default=-1) + 1, opt)):
        parts = cutter.cut(group)
        for p in parts:
            for i in p:
                origin[i] = f"group {number}"
        if statistics.median(len(p) for p in parts) < opt.min_steps:
            continue  # single events: a step shared by several tasks, or unrelated work
        cases.extend(parts)
        types.extend([number] * len(parts))
    size = Counter(types)
    kept = [(p, t) for p, t in zip(cases, types, strict=True) if size[t] >= opt.min_instances]
    routine = _attach_loose(events, sessions, kept, origin, opt.shared_share)
    return _assign(len(events), kept, routine)


def _attach_loose(
    events: Sequence[UIEvent],
    sessions: list[list[int]],
    kept: list[tuple[list[int], int]],
    origin: dict[int, str],
    share: float,
) -> set[int]:
    """Events in no instance join a neighbouring instance, in place: of the type their group
    sits beside most (a confirmation page beside its form), else the nearer in time. Those of a
    group that joins most instances of one type are a step of that type (one it may share with
    others, such as reading the request e-mail); the rest is unrelated work, flagged as noise.
    Returns the events that are routine steps."""
    case_of = {i: k for k, (p, _t) in enumerate(kept) for i in p}
    routine = set(case_of)
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    loose: list[tuple[int, dict[int, list[int]]]] = []  # event, its session's placed events by type
    for seq in sessions:
        by_type: dict[int, list[int]] = defaultdict(list)
        for i in seq:
            if i in case_of:
                by_type[kept[case_of[i]][1]].append(i)
        placed = sorted(case_of.keys() & set(seq))
        for i in seq:
            if i in case_of or not placed:
                continue
            at = bisect.bisect_left(placed, i)
            votes[origin[i]].update(kept[case_of[placed[m]]][1] for m in (at - 1, at) if 0 <= m < len(placed))
            loose.append((i, by_type))
    attached: dict[tuple[str, int], set[int]] = defaultdict(set)
    joined: list[tuple[int, int]] = []
    for i, by_type in loose:
        ballot = votes[origin[i]]
        top, n = ballot.most_common(1)[0]
        wanted = [top] if n >= 0.6 * sum(ballot.values()) and top in by_type else list(by_type)
        near: list[int] = []
        for t in wanted:
            row = by_type[t]
            at = bisect.bisect_left(row, i)
            near.extend(row[m] for m in (at - 1, at) if 0 <= m < len(row))
        stamp = events[i].timestamp
        best = min(near, key=lambda m: abs((events[m].timestamp - stamp).total_seconds()))
        k = case_of[best]
        joined.append((i, k))
        attached[(origin[i], kept[k][1])].add(k)
    instances_of = Counter(t for _p, t in kept)
    for i, k in joined:
        kept[k][0].append(i)
    for p, _t in kept:
        p.sort()
    # Where in its instance each joined event sits (0 first, 1 last): a step keeps its place,
    # unrelated work falls anywhere.
    places: dict[tuple[str, int], list[float]] = defaultdict(list)
    for i, k in joined:
        p = kept[k][0]
        places[(origin[i], kept[k][1])].append(p.index(i) / max(len(p) - 1, 1))
    # Each group's spread is computed once (not again for each of its events: quadratic).
    steady = {
        key
        for key, where in places.items()
        if len(attached[key]) >= share * instances_of[key[1]] and statistics.pstdev(where) <= 0.15
    }
    routine.update(i for i, k in joined if (origin[i], kept[k][1]) in steady)
    return routine


def _assign(n: int, kept: list[tuple[list[int], int]], routine: set[int]) -> Segmentation:
    """Per event: case id and type id in order of first appearance; events outside every
    instance's routine steps are flagged as noise (they keep the case they sit in)."""
    ordered = sorted((min(idx), idx, ty) for idx, ty in kept)
    case = [""] * n
    type_of = [-1] * n
    type_ids: dict[int, int] = {}
    width = len(str(len(ordered)))
    for number, (_first, idx, ty) in enumerate(ordered, start=1):
        tid = type_ids.setdefault(ty, len(type_ids))
        for i in idx:
            case[i] = f"case-{number:0{width}d}"
            type_of[i] = tid
    return Segmentation(
        cases=tuple(case), types=tuple(type_of), noise=tuple(i not in routine for i in range(n))
    )
