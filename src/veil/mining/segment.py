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

Memory: the events themselves (the caller's) and, per event, a few arrays of 8 bytes (times,
sessions, steps, threads, cases) and a pointer in each of the result's three tuples; the start of
each task type is learnt on a sample of `join_sample` events. `bounded_segment` takes the same
decisions session by session on events kept on disk, in memory that does not grow with the log.
"""

from __future__ import annotations

import bisect
import itertools
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import overload

import numpy as np

from veil.mining import collector
from veil.mining.base import STEP_ACTION, Segmentation, UIEvent
from veil.mining.cycles import CycleOptions, Log, Sig, apply_start, learn_start, regularity
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


class _Sessions(Sequence[list[int]]):
    """The sessions, one after another in one array (8 bytes an event, not a list of Python ints
    per session: 36); each is handed out as a list when asked for."""

    def __init__(self, order: np.ndarray, bounds: np.ndarray) -> None:
        self.order = order  # the events, session by session
        self.bounds = bounds  # where each session begins in `order`, and its end

    def __len__(self) -> int:
        return len(self.bounds) - 1

    @overload
    def __getitem__(self, k: int) -> list[int]: ...
    @overload
    def __getitem__(self, k: slice) -> list[list[int]]: ...
    def __getitem__(self, k: int | slice) -> list[int] | list[list[int]]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        seq: list[int] = self.order[self.bounds[k] : self.bounds[k + 1]].tolist()
        return seq

    def __iter__(self) -> Iterator[list[int]]:
        bounds: list[int] = self.bounds.tolist()
        for a, b in itertools.pairwise(bounds):
            seq: list[int] = self.order[a:b].tolist()
            yield seq

    def numbers(self) -> np.ndarray:
        """Per position in `order`, its session's number."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.bounds))


def _sessions(events: Sequence[UIEvent], micros: np.ndarray, gap: float) -> _Sessions:
    """Per user (in order of first appearance), their events in time order, cut where more
    than `gap` seconds pass between two."""
    user: dict[str, int] = {}
    by_user = np.fromiter((user.setdefault(e.user, len(user)) for e in events), np.int64, len(events))
    order = np.lexsort((micros, by_user))  # stable: events at the same time stay in log order
    stamps, who = micros[order], by_user[order]
    # As timedelta.total_seconds(): exact microseconds over 10**6, correctly rounded.
    cut = (who[1:] != who[:-1]) | (np.diff(stamps) / 1e6 > gap)
    bounds = np.concatenate(([0], np.flatnonzero(cut) + 1, [len(order)])).astype(np.int64)
    return _Sessions(order, bounds)


def _micros(events: Sequence[UIEvent]) -> np.ndarray:
    """Each event's time in microseconds since the epoch, exactly (timestamps are timezone-aware)."""
    return np.fromiter(((e.timestamp - _EPOCH) // _MICROSECOND for e in events), np.int64, len(events))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class Cutter:
    """Cuts the events of a set of threads into instances: the start is learnt once over a
    sample of the sessions, then every session is cut by it. The events that have a thread are
    held session by session, each session's in log order."""

    events: np.ndarray
    session: np.ndarray  # per event, its session's number
    thread: np.ndarray  # per event, its thread
    log: Log
    opt: CycleOptions
    sample_events: int = 20_000
    ends: frozenset[Sig] = frozenset()  # steps that send or save: an instance may end there

    def sessions(self, threads: set[int]) -> tuple[np.ndarray, np.ndarray]:
        """The threads' events, session by session, and where each session begins."""
        kept = np.isin(self.thread, np.fromiter(threads, np.int64, len(threads)))
        seq, session = self.events[kept], self.session[kept]
        starts = np.ones(len(seq), dtype=bool)
        starts[1:] = session[1:] != session[:-1]
        return seq, starts

    def cut(self, threads: set[int]) -> list[list[int]]:
        seq, starts = self.sessions(threads)
        n = self.sample_events
        rule = learn_start(seq[:n], starts[:n], self.log, self.opt, self.ends)
        return apply_start(seq, starts, self.log, rule, self.opt)

    def sample(self, budget: int) -> Cutter:
        """The same cutter on the first `budget` events (structure shows long before the end)."""
        return Cutter(
            self.events[:budget],
            self.session[:budget],
            self.thread[:budget],
            self.log,
            self.opt,
            self.sample_events,
            self.ends,
        )

    def by_session(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per session that has events: its events and their threads."""
        cuts = np.flatnonzero(self.session[1:] != self.session[:-1]) + 1
        return list(zip(np.split(self.events, cuts), np.split(self.thread, cuts), strict=True))


def _minor_into_major(cutter: Cutter, groups: list[set[int]], minor_events: int) -> list[set[int]]:
    """A thread seen on only a few events (a rare error path) joins the thread its events sit
    among most often."""
    size = Counter({k: 0 for k in range(len(groups))})
    group_of: dict[int, int] = {}
    for k, g in enumerate(groups):
        for t in g:
            group_of[t] = k
    order: list[list[int]] = []
    for _events, threads in cutter.by_session():
        kinds = [group_of[t] for t in threads.tolist()]
        order.append(kinds)
        size.update(kinds)
    major = {k for k, n in size.items() if n >= minor_events}
    if not major:
        return groups
    votes: dict[int, Counter[int]] = defaultdict(Counter)
    for kinds in order:
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


def join_threads(cutter: Cutter, n_threads: int, opt: SegmentOptions) -> list[set[int]]:
    """Threads that are parts of one task (a form's confirmation page, a login before the work):
    cut together, each keeps its own regularity and the number of instances stays close, which
    two different tasks done side by side never do (their steps fall unevenly into the parts)."""
    cutter = cutter.sample(opt.join_sample)
    groups = _minor_into_major(cutter, [{t} for t in range(n_threads)], opt.minor_events)
    # Per thread, the steps it has in the sample (a mask over step numbers).
    steps = np.zeros((n_threads, len(cutter.log.steps)), dtype=bool)
    steps[cutter.thread, cutter.log.step[cutter.events]] = True
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
        sa = np.asarray(steps[sorted(a)].any(axis=0), dtype=bool)
        sb = np.asarray(steps[sorted(b)].any(axis=0), dtype=bool)
        return max(
            regularity(pa, cutter.log, sa) - regularity(union, cutter.log, sa),
            regularity(pb, cutter.log, sb) - regularity(union, cutter.log, sb),
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
    with collector.paused():
        return _segment(events, opt or SegmentOptions())


def _segment(events: Sequence[UIEvent], opt: SegmentOptions) -> Segmentation:
    if not events:
        return Segmentation((), (), ())
    micros = _micros(events)
    sessions = _sessions(events, micros, opt.session_gap_seconds)
    screen = event_screens(events, sessions)
    shared = shared_keys(events, range(len(events)), opt.threads)
    thread_of = find_threads(events, sessions, screen, opt.threads, shared)
    keys_of: dict[int, list[str]] = defaultdict(list)
    for key, idx in shared.items():
        for i in idx:
            keys_of[i].append(key)
    # As `datetime.timestamp()`: exact microseconds over 10**6, correctly rounded.
    log = Log.of(
        ((e.app, STEP_ACTION[e.action], e.target) for e in events),  # as `UIEvent.signature`
        micros / 1e6,
        {i: tuple(k) for i, k in keys_of.items()},
    )
    # The events that have a thread, session by session, each session's in log order.
    thread_at = np.fromiter((thread_of.get(s, -1) for s in screen), np.int64, len(events))
    order, number_at = sessions.order, sessions.numbers()
    has = thread_at[order] >= 0
    placed, session = order[has], number_at[has]
    in_log_order = np.lexsort((placed, session))
    placed, session = placed[in_log_order], session[in_log_order]
    ends = frozenset(s for s in log.steps if END_STEP.search(s[2]))
    cutter = Cutter(placed, session, thread_at[placed], log, opt.cycles, ends=ends)
    del thread_at, order, number_at, has, in_log_order
    cases: list[list[int]] = []
    types: list[int] = []
    group = [-1] * len(events)  # the group of threads that cut each event, if any
    for number, threads in enumerate(join_threads(cutter, max(thread_of.values(), default=-1) + 1, opt)):
        parts = cutter.cut(threads)
        for p in parts:
            for i in p:
                group[i] = number
        if statistics.median(len(p) for p in parts) < opt.min_steps:
            continue  # single events: a step shared by several tasks, or unrelated work
        cases.extend(parts)
        types.extend([number] * len(parts))
    size = Counter(types)
    kept = [(p, t) for p, t in zip(cases, types, strict=True) if size[t] >= opt.min_instances]

    def origin(i: int) -> tuple[str, int | str]:
        """Where an event comes from: its group of threads, else its screen."""
        return ("group", group[i]) if group[i] >= 0 else ("screen", screen[i])

    routine = _attach_loose(micros, sessions, kept, origin, opt.shared_share)
    return _assign(len(events), kept, routine)


def _attach_loose(
    micros: np.ndarray,
    sessions: Iterable[list[int]],
    kept: list[tuple[list[int], int]],
    origin: Callable[[int], Hashable],
    share: float,
) -> np.ndarray:
    """Events in no instance join a neighbouring instance, in place: of the type their group
    sits beside most (a confirmation page beside its form), else the nearer in time. Those of a
    group that joins most instances of one type are a step of that type (one it may share with
    others, such as reading the request e-mail); the rest is unrelated work, flagged as noise.
    Returns, per event, whether it is a routine step."""
    case_of, type_of = placements(kept, len(micros))
    routine = np.array(case_of) >= 0
    votes, loose = ballots(sessions, case_of, type_of, origin)
    joined = join_loose(loose, outcome_of(votes), micros, case_of)
    attached: dict[tuple[Hashable, int], set[int]] = defaultdict(set)
    for _i, k, where in joined:
        attached[(where, kept[k][1])].add(k)
    instances_of = Counter(t for _p, t in kept)
    places = place_joined(joined, kept)
    # Each group's spread is computed once (not again for each of its events: quadratic).
    steady = {
        key
        for key, at_places in places.items()
        if len(attached[key]) >= share * instances_of[key[1]] and statistics.pstdev(at_places) <= 0.15
    }
    steps = [i for i, k, where in joined if (where, kept[k][1]) in steady]
    routine[np.array(steps, dtype=np.int64)] = True
    return routine


Outcome = dict[Hashable, tuple[int, int, int]]  # per origin: its commonest type, that count, total


def outcome_of(votes: dict[Hashable, Counter[int]]) -> Outcome:
    """Each origin's ballot once: its commonest type (the first counted on a tie) and total."""
    return {where: (*ballot.most_common(1)[0], sum(ballot.values())) for where, ballot in votes.items()}


def join_loose(
    loose: list[_Loose], outcome: Outcome, micros: np.ndarray, case_of: list[int]
) -> list[tuple[int, int, Hashable]]:
    """(event, instance, origin) for each loose event: the instance it joins, of the type its
    origin sits beside most (a confirmation page beside its form), else the nearer in time."""
    joined: list[tuple[int, int, Hashable]] = []
    for i, where, by_type in loose:
        top, n_top, total = outcome[where]
        wanted = [top] if n_top >= 0.6 * total and top in by_type else list(by_type)
        near: list[int] = []
        for t in wanted:
            row = by_type[t]
            at = bisect.bisect_left(row, i)
            near.extend(row[m] for m in (at - 1, at) if 0 <= m < len(row))
        # The nearer in time (exact microseconds: the same order as the seconds between).
        stamp = int(micros[i])
        best = min(near, key=lambda m: abs(int(micros[m]) - stamp))
        joined.append((i, case_of[best], where))
    return joined


def place_joined(
    joined: list[tuple[int, int, Hashable]], kept: list[tuple[list[int], int]]
) -> dict[tuple[Hashable, int], list[float]]:
    """Add the joined events to their instances, and say where in its instance each sits (0
    first, 1 last), per (origin, type): a step keeps its place, unrelated work falls anywhere."""
    for i, k, _where in joined:
        kept[k][0].append(i)
    for p, _t in kept:
        p.sort()
    places: dict[tuple[Hashable, int], list[float]] = defaultdict(list)
    for i, k, where in joined:
        p = kept[k][0]
        places[(where, kept[k][1])].append(p.index(i) / max(len(p) - 1, 1))
    return places


_Loose = tuple[int, Hashable, dict[int, list[int]]]  # event, origin, its session's placed events by type


def ballots(
    sessions: Iterable[list[int]],
    case_of: list[int],
    type_of: list[int],
    origin: Callable[[int], Hashable],
    votes: dict[Hashable, Counter[int]] | None = None,
) -> tuple[dict[Hashable, Counter[int]], list[_Loose]]:
    """The events in no instance, and per origin the types of the placed events beside them
    (added to `votes` when given)."""
    votes = defaultdict(Counter) if votes is None else votes
    loose: list[_Loose] = []
    for seq in sessions:
        by_type: dict[int, list[int]] = defaultdict(list)
        placed: list[int] = []
        for i in seq:
            if case_of[i] >= 0:
                by_type[type_of[i]].append(i)
                placed.append(i)
        if not placed or len(placed) == len(seq):
            continue
        placed.sort()
        for i in seq:
            if case_of[i] >= 0:
                continue
            at = bisect.bisect_left(placed, i)
            where = origin(i)
            ballot = votes[where]
            if at > 0:
                ballot[type_of[placed[at - 1]]] += 1
            if at < len(placed):
                ballot[type_of[placed[at]]] += 1
            loose.append((i, where, by_type))
    return votes, loose


def _assign(n: int, kept: list[tuple[list[int], int]], routine: np.ndarray) -> Segmentation:
    """Per event: case id and type id in order of first appearance; events outside every
    instance's routine steps are flagged as noise (they keep the case they sit in)."""
    ordered = sorted((min(idx), idx, ty) for idx, ty in kept)
    case = [""] * n
    type_of = [-1] * n
    type_ids: dict[int, int] = {}
    width = len(str(len(ordered)))
    for number, (_first, idx, ty) in enumerate(ordered, start=1):
        tid = type_ids.setdefault(ty, len(type_ids))
        name = f"case-{number:0{width}d}"
        for i in idx:
            case[i] = name
            type_of[i] = tid
    return Segmentation(cases=tuple(case), types=tuple(type_of), noise=tuple((~routine).tolist()))


def placements(kept: list[tuple[list[int], int]], n: int) -> tuple[list[int], list[int]]:
    """Per event of `n`, the instance (index into `kept`) and task type it was placed in; -1 for
    events in none."""
    case_of = [-1] * n
    type_of = [-1] * n
    for k, (events, kind) in enumerate(kept):
        for i in events:
            case_of[i] = k
            type_of[i] = kind
    return case_of, type_of
