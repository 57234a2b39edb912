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
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from veil.mining.base import Action, Candidate, Segmentation, Step, UIEvent, Variant
from veil.mining.naming import name_types

WEEKS_PER_MONTH = 52 / 12
WORKDAYS_PER_WEEK = 5
_NODE_SHARE = 0.2  # a step belongs on the map when this share of instances has it
_BRANCH_SHARE = 0.1


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
    out = [0.0] * len(events)
    last: dict[str, float] = {}
    for i in sorted(range(len(events)), key=lambda i: (events[i].user, events[i].timestamp)):
        e = events[i]
        t = e.timestamp.timestamp()
        if e.user in last:
            out[i] = min(max(t - last[e.user], 0.0), IDLE_SECONDS)
        last[e.user] = t
    return out


def instances(events: Sequence[UIEvent], seg: Segmentation) -> list[Instance]:
    dwell = working_seconds(events)
    by_case: dict[str, list[int]] = defaultdict(list)
    type_of: dict[str, int] = {}
    for i, (case, ty, noisy) in enumerate(zip(seg.cases, seg.types, seg.noise, strict=True)):
        if case and not noisy:
            by_case[case].append(i)
            type_of[case] = ty
    out = []
    for case, idx in by_case.items():
        idx.sort(key=lambda i: events[i].timestamp)
        # The first event's own lead time belongs to whatever came before the task.
        times = (0.0, *(dwell[i] for i in idx[1:]))
        out.append(Instance(case, type_of[case], tuple(events[i] for i in idx), sum(times), times))
    return out


def observed_workdays(events: Sequence[UIEvent]) -> int:
    return max(len({e.timestamp.date() for e in events}), 1)


def _steps_of(
    inst: Instance, value_types: dict[tuple[str, str, str], str], actions: dict[tuple[str, str, str], Action]
) -> tuple[Step, ...]:
    out: list[Step] = []
    for e in inst.events:
        # Switching to a window and navigating to it are one step: describe it the usual way.
        step = Step(e.app, actions.get(e.signature, e.action), e.target, value_types.get(e.signature, ""))
        if not out or out[-1] != step:
            out.append(step)
    return tuple(out)


def _process_map(
    paths: list[tuple[Step, ...]],
) -> tuple[tuple[Step, ...], tuple[tuple[int, int, int], ...]]:
    present = Counter(s for p in paths for s in set(p))
    position: dict[Step, list[float]] = defaultdict(list)
    for p in paths:
        for k, s in enumerate(p):
            position[s].append(k / max(len(p) - 1, 1))
    nodes = sorted(
        (s for s, n in present.items() if n >= _NODE_SHARE * len(paths)),
        key=lambda s: statistics.fmean(position[s]),
    )
    index = {s: k for k, s in enumerate(nodes)}
    edges: Counter[tuple[int, int]] = Counter()
    for p in paths:
        chain = [-1, *(index[s] for s in p if s in index), -1]
        edges.update(pairwise(chain))
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


def _score(insts: list[Instance], per_week: float, decisions: int) -> tuple[tuple[str, float], ...]:
    typed = [e.value for i in insts for e in i.events if e.action in {Action.TYPE, Action.PASTE} and e.value]
    free = sum(1 for v in typed if v == "<text>")
    copying = [
        any(e.action in {Action.COPY, Action.PASTE} for e in i.events) and len({e.app for e in i.events}) >= 2
        for i in insts
    ]
    return (
        ("repetitive", 1 - math.exp(-per_week / 10)),
        ("rule-like", 1 - free / len(typed) if typed else 0.5),
        ("data copied between apps", sum(copying) / len(insts)),
        ("few decision points", 1 / (1 + decisions)),
    )


def _candidate(type_id: int, name: str, insts: list[Instance], days: int) -> Candidate:
    counts: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for i in insts:
        for e in i.events:
            if e.value:
                counts[e.signature][e.value] += 1
    value_types = {sig: c.most_common(1)[0][0] for sig, c in counts.items()}
    seen_actions: dict[tuple[str, str, str], Counter[Action]] = defaultdict(Counter)
    for i in insts:
        for e in i.events:
            seen_actions[e.signature][e.action] += 1
    actions = {sig: c.most_common(1)[0][0] for sig, c in seen_actions.items()}
    paths = [_steps_of(i, value_types, actions) for i in insts]
    variants = tuple(Variant(p, n) for p, n in Counter(paths).most_common())
    nodes, edges = _process_map(paths)
    per_week = len(insts) / days * WORKDAYS_PER_WEEK
    median = statistics.median(i.seconds for i in insts)
    hours_week = sum(i.seconds for i in insts) / 3600 / days * WORKDAYS_PER_WEEK
    parts = _score(insts, per_week, _decision_points(len(nodes), edges))
    score = statistics.fmean(v for _k, v in parts)
    apps = tuple(a for a, _n in Counter(e.app for i in insts for e in i.events).most_common() if a)
    per_app: dict[str, float] = defaultdict(float)
    for i in insts:
        for e, t in zip(i.events, i.dwell, strict=True):
            per_app[e.app or "?"] += t
    total = sum(per_app.values()) or 1.0
    app_share = tuple((a, t / total) for a, t in sorted(per_app.items(), key=lambda kv: -kv[1]))
    return Candidate(
        type_id=type_id,
        name=name,
        steps=variants[0].steps,
        variants=variants,
        instances=len(insts),
        median_seconds=float(median),
        hours_per_week=hours_week,
        users=len({e.user for i in insts for e in i.events}),
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
    opt = opt or RoutineOptions()
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
