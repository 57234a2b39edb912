"""Routines and automation candidates from a segmented event log.

A candidate is a task type: its variants, process map (directly-follows graph), frequency,
median duration, time per week, how many people do it, and an automation score made of
repetitive (instances per week), rule-like (values are structured, not free text), data copied
between apps, and few decision points. Ranked by estimated hours saved per month.
Figures describe tasks; nothing here is per person.
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from veil.mining import collector
from veil.mining.base import STEP_ACTION, Action, Candidate, Segmentation, Step, UIEvent, Variant
from veil.mining.naming import name_types

WEEKS_PER_MONTH = 52 / 12
WORKDAYS_PER_WEEK = 5
_NODE_SHARE = 0.2  # a step belongs on the map when this share of instances has it
_BRANCH_SHARE = 0.1
_TYPED = frozenset({Action.TYPE, Action.PASTE})  # actions whose value was entered
_MOVED = frozenset({STEP_ACTION[Action.COPY], STEP_ACTION[Action.PASTE]})  # steps that move data
_K = TypeVar("_K")


@dataclass(frozen=True, slots=True)
class RoutineOptions:
    min_instances: int = 3
    min_steps: int = 2
    top: int = 10


IDLE_SECONDS = 300.0  # a longer gap before an event is time away, not time on the task


@dataclass(frozen=True, slots=True)
class Instance:
    case: str
    type_id: int
    events: tuple[UIEvent, ...]  # noise excluded, in time order
    seconds: float  # working time: the time before each of its events, since the person's previous
    dwell: tuple[float, ...] = ()  # that time per event (the first event's is 0)


def working_seconds(events: Sequence[UIEvent]) -> list[float]:
    """Per event, the time since the same person's previous event (any task), capped at
    `IDLE_SECONDS`: summed over an instance it is the time spent on it, even when other tasks
    were done in between (their time goes to them)."""
    return _working_seconds(events, _seconds(events))


def _working_seconds(events: Sequence[UIEvent], times: npt.NDArray[np.float64]) -> list[float]:
    spent: list[float] = _working_array(events, times).tolist()
    return spent


def _working_array(events: Sequence[UIEvent], times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """`working_seconds` as an array (8 bytes an event; a list of Python floats takes 32)."""
    if not events:
        return np.zeros(0)
    rank = {u: k for k, u in enumerate(sorted({e.user for e in events}))}
    # By person, then time (a stable sort, as `sorted` on (user, timestamp) was).
    users = np.fromiter((rank[e.user] for e in events), np.int64, len(events))
    order = np.lexsort((times, users))
    t, u = times[order], users[order]
    gaps = np.zeros(len(events))
    gaps[1:] = np.minimum(np.maximum(t[1:] - t[:-1], 0.0), IDLE_SECONDS)
    gaps[1:][u[1:] != u[:-1]] = 0.0  # a person's first event has no time before it
    out = np.zeros(len(events))
    out[order] = gaps
    return out


def _seconds(events: Sequence[UIEvent]) -> npt.NDArray[np.float64]:
    """POSIX seconds of each event (as `datetime.timestamp`: the same order as the timestamps)."""
    return np.fromiter((e.timestamp.timestamp() for e in events), np.float64, len(events))


def instances(events: Sequence[UIEvent], seg: Segmentation) -> list[Instance]:
    """Each case's instance (its events but noise, in time order), in the order of their first
    event. Built from arrays (a few bytes an event) rather than a list of Python ints per case."""
    seconds = _seconds(events)
    dwell = _working_array(events, seconds)
    number: dict[str, int] = {}  # case -> its number, in order of its first event
    code = np.fromiter(
        (
            number.setdefault(c, len(number)) if c and not noisy else -1
            for c, noisy in zip(seg.cases, seg.noise, strict=True)
        ),
        np.int64,
        len(seg.cases),
    )
    at = np.flatnonzero(code >= 0)
    owner = code[at]
    # By case, then time; events at the same time stay in log order (lexsort is stable).
    ordered = at[np.lexsort((seconds[at], owner))]
    bounds: list[int] = np.concatenate(([0], np.cumsum(np.bincount(owner, minlength=len(number))))).tolist()
    # A case's type is that of its last event (as a dict assigned event by event has it).
    reverse = owner[::-1]
    _cases, last = np.unique(reverse, return_index=True)
    types = np.asarray(seg.types, dtype=np.int64)[at[::-1][last]].tolist()
    out = []
    for k, case in enumerate(number):
        idx: list[int] = ordered[bounds[k] : bounds[k + 1]].tolist()
        # The first event's own lead time belongs to whatever came before the task.
        spent: tuple[float, ...] = (0.0, *dwell[ordered[bounds[k] + 1 : bounds[k + 1]]].tolist())
        out.append(Instance(case, types[k], tuple(events[i] for i in idx), sum(spent), spent))
    return out


def observed_workdays(events: Sequence[UIEvent]) -> int:
    return max(len({e.timestamp.date() for e in events}), 1)


def _process_map(
    paths: list[tuple[tuple[Step, ...], int]],
) -> tuple[tuple[Step, ...], tuple[tuple[int, int, int], ...]]:
    """Nodes and edges of the paths taken, given as each distinct path (in the order first
    taken) and how many instances took it."""
    taken = sum(n for _p, n in paths)
    present: Counter[Step] = Counter()
    position: dict[Step, list[float]] = defaultdict(list)
    for p, n in paths:
        for s in dict.fromkeys(p):  # first-seen order: ties below keep it, not the hash seed
            present[s] += n
        for k, s in enumerate(p):
            position[s].extend([k / max(len(p) - 1, 1)] * n)
    nodes = sorted(
        (s for s, n in present.items() if n >= _NODE_SHARE * taken),
        key=lambda s: statistics.fmean(position[s]),
    )
    index = {s: k for k, s in enumerate(nodes)}
    edges: Counter[tuple[int, int]] = Counter()
    for p, n in paths:
        chain = [-1, *(index[s] for s in p if s in index), -1]
        for edge in pairwise(chain):
            edges[edge] += n
    return tuple(nodes), tuple((a, b, n) for (a, b), n in sorted(edges.items()))


def _decision_points(nodes: int, edges: tuple[tuple[int, int, int], ...]) -> int:
    out: dict[int, list[int]] = defaultdict(list)
    for a, _b, n in edges:
        out[a].append(n)
    return (
        sum(
            1
            for a, counts in out.items()
            if a >= 0 and sum(1 for n in counts if n >= _BRANCH_SHARE * sum(counts)) >= 2
        )
        if nodes
        else 0
    )


def _score(
    instances: int, typed: int, free: int, copying: int, per_week: float, decisions: int
) -> tuple[tuple[str, float], ...]:
    return (
        ("repetitive", 1 - math.exp(-per_week / 10)),
        ("rule-like", 1 - free / typed if typed else 0.5),
        ("data copied between apps", copying / instances),
        ("few decision points", 1 / (1 + decisions)),
    )


def _commonest(counts: dict[_K, int]) -> _K:
    """The key with the highest count, the first seen among equals (as `Counter.most_common`)."""
    return max(counts, key=counts.__getitem__)


def _candidate(type_id: int, name: str, insts: list[Instance], days: int) -> Candidate:
    tally = TypeTally()
    for inst in insts:
        steps = ((e.app, e.action, e.target, e.value) for e in inst.events)
        tally.add(steps, inst.dwell, inst.seconds, (e.user for e in inst.events))
    return tally.candidate(type_id, name, days)


class TypeTally:
    """A task type's figures, gathered instance by instance in the order of their first event:
    each tally keeps the order in which it first met its keys, and ties go to the first seen."""

    def __init__(self) -> None:
        self.number: dict[tuple[str, str, str], int] = {}  # a step's signature -> its number
        self.tally: dict[tuple[int, Action, str], int] = {}  # (step, action, value) -> events
        self.per_app: dict[str, float] = defaultdict(float)  # working time per app, in event order
        self.users: set[str] = set()
        self.walks: list[tuple[int, ...]] = []
        self.seconds = array("d")  # per instance, in order (8 bytes each)

    def add(
        self,
        steps: Iterable[tuple[str, Action, str, str]],
        dwell: Sequence[float],
        seconds: float,
        users: Iterable[str],
    ) -> None:
        """One instance: its events' (app, action, target, value), their working time, its
        working time and its people."""
        number, tally, per_app = self.number, self.tally, self.per_app
        walk: list[int] = []
        for (app, action, target, value), t in zip(steps, dwell, strict=True):
            sig = (app, STEP_ACTION[action], target)
            k = number.get(sig)
            if k is None:
                k = number[sig] = len(number)
            key = (k, action, value)
            tally[key] = tally.get(key, 0) + 1
            if not walk or walk[-1] != k:
                walk.append(k)
            per_app[app or "?"] += t
        self.users.update(users)
        self.walks.append(tuple(walk))
        self.seconds.append(seconds)

    def candidate(self, type_id: int, name: str, days: int) -> Candidate:
        sigs = list(self.number)
        values: list[dict[str, int]] = [{} for _ in sigs]
        actions: list[dict[Action, int]] = [{} for _ in sigs]
        app_events: dict[str, int] = {}
        typed = free = 0
        for (k, action, value), n in self.tally.items():
            if value:
                values[k][value] = values[k].get(value, 0) + n
                if action in _TYPED:
                    typed += n
                    free += n if value == "<text>" else 0
            actions[k][action] = actions[k].get(action, 0) + n
            app_events[sigs[k][0]] = app_events.get(sigs[k][0], 0) + n
        # A step is its signature: switching to a window and navigating to it are one step,
        # described the usual way; its value is the commonest type typed there.
        steps = [
            Step(app, _commonest(actions[k]), target, _commonest(values[k]) if values[k] else "")
            for k, (app, _word, target) in enumerate(sigs)
        ]
        taken = Counter(self.walks)  # consecutive events of one step are one step
        paths = [(tuple(steps[k] for k in w), n) for w, n in taken.items()]
        variants = tuple(Variant(p, n) for p, n in sorted(paths, key=lambda pn: pn[1], reverse=True))
        nodes, edges = _process_map(paths)
        copying = sum(
            n
            for w, n in taken.items()
            if any(sigs[k][1] in _MOVED for k in w) and len({sigs[k][0] for k in w}) >= 2
        )
        instances = len(self.walks)
        per_week = instances / days * WORKDAYS_PER_WEEK
        median = statistics.median(self.seconds)
        hours_week = sum(self.seconds) / 3600 / days * WORKDAYS_PER_WEEK
        parts = _score(instances, typed, free, copying, per_week, _decision_points(len(nodes), edges))
        score = statistics.fmean(v for _k, v in parts)
        apps = tuple(a for a, _n in sorted(app_events.items(), key=lambda an: an[1], reverse=True) if a)
        total = sum(self.per_app.values()) or 1.0
        app_share = tuple((a, t / total) for a, t in sorted(self.per_app.items(), key=lambda kv: -kv[1]))
        return Candidate(
            type_id=type_id,
            name=name,
            steps=variants[0].steps,
            variants=variants,
            instances=instances,
            median_seconds=float(median),
            hours_per_week=hours_week,
            users=len(self.users),
            apps=apps,
            score=score,
            score_parts=parts,
            hours_saved_per_month=hours_week * WEEKS_PER_MONTH * score,
            nodes=nodes,
            edges=edges,
            app_share=app_share,
        )


def rank_candidates(
    events: Sequence[UIEvent], seg: Segmentation, opt: RoutineOptions | None = None
) -> list[Candidate]:
    """Task types with enough instances, best automation candidates first."""
    with collector.paused():
        return _rank(events, seg, opt or RoutineOptions())


def _rank(events: Sequence[UIEvent], seg: Segmentation, opt: RoutineOptions) -> list[Candidate]:
    by_type: dict[int, list[Instance]] = defaultdict(list)
    for inst in instances(events, seg):
        if inst.type_id >= 0:
            by_type[inst.type_id].append(inst)
    days = observed_workdays(events)
    usable = {t: [i for i in insts if len(i.events) >= opt.min_steps] for t, insts in sorted(by_type.items())}
    usable = {t: insts for t, insts in usable.items() if len(insts) >= opt.min_instances}
    names = name_types({t: [e for i in insts for e in i.events] for t, insts in usable.items()})
    out = [_candidate(t, names[t], insts, days) for t, insts in usable.items()]
    out.sort(key=lambda c: (-c.hours_saved_per_month, -c.instances, c.type_id))
    return out[: opt.top]
