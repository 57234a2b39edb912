"""`routines.rank_candidates` and the report's per-group hours over a stream of instances, in
memory that grows with the task types and their steps, not the events.

The ranking adds up floats instance by instance, in the order of each instance's first event
(its first event that is no noise), so its figures are the same to the last bit only in that
order; the instances come here as records (`INSTANCE`) sorted by that first event
(`external_sort`), one instance's events after another in time order. Each type's figures are
gathered by the same `routines.TypeTally` and `naming.TypeWords` as in memory; per instance only
its working time is kept (8 bytes) for the median.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from veil.mining.base import Candidate
from veil.mining.fieldtables import FieldTables
from veil.mining.naming import TypeWords, names_of
from veil.mining.routines import WORKDAYS_PER_WEEK, RoutineOptions, TypeTally

INSTANCE = np.dtype(
    [
        ("first_micros", "<i8"),  # the instance's first event that is no noise
        ("first_seq", "<i8"),
        ("row", "<i8"),  # the events' order within it
        ("type", "<i4"),
        ("fields", "<i4"),
        ("user", "<i4"),
        ("dwell", "<f8"),  # `routines.working_seconds`
    ]
)
INSTANCE_KEY = ("first_micros", "first_seq", "row")

Screens = dict[tuple[str, str], str]


@dataclass
class Ranked:
    candidates: list[Candidate]
    per_group: list[tuple[str, float]]  # hours per week per user group, as `report.group_hours`
    screens: dict[int, Screens]  # as `describe.screen_names`


@dataclass
class _Gathered:
    tallies: dict[int, TypeTally] = field(default_factory=lambda: defaultdict(TypeTally))
    words: dict[int, TypeWords] = field(default_factory=lambda: defaultdict(TypeWords))
    usable: Counter[int] = field(default_factory=Counter)
    hours: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    windows: dict[int, dict[tuple[str, str], Counter[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter))
    )


def instances(blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Each instance's records, from blocks sorted by `INSTANCE_KEY` (an instance may straddle
    two blocks)."""
    held = np.zeros(0, dtype=INSTANCE)
    for block in blocks:
        rows = np.concatenate((held, block)) if len(held) else block
        if not len(rows):
            continue
        key_m, key_s = rows["first_micros"], rows["first_seq"]
        starts = np.flatnonzero(np.r_[True, (key_m[1:] != key_m[:-1]) | (key_s[1:] != key_s[:-1])])
        for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
            yield rows[a:b]
        held = rows[int(starts[-1]) :]
    if len(held):
        yield held


def rank_instances(
    blocks: Iterable[np.ndarray],
    tables: FieldTables,
    users: list[str],
    groups: dict[str, str] | None,
    days: int,
    opt: RoutineOptions,
) -> Ranked:
    """The candidates (as `routines.rank_candidates`), the hours per user group when `groups` is
    given (as `report.group_hours`) and each type's window per step (`describe.screen_names`)."""
    got = _Gathered()
    for rows in instances(blocks):
        fields = rows["fields"].tolist()
        dwell = rows["dwell"].tolist()
        spent = (0.0, *dwell[1:])  # the first event's lead time belongs to what came before
        seconds = sum(spent)
        t = int(rows["type"][0])
        people = [users[u] for u in dict.fromkeys(rows["user"].tolist())]
        if groups is not None:
            got.hours[groups.get(people[0], "")] += seconds / 3600 / days * WORKDAYS_PER_WEEK
        cells = [tables.cells[f] for f in fields]
        by_step = got.windows[t]
        for app, window, _screen, _action, target, *_rest in cells:
            if window:
                by_step[(app, target)][window] += 1
        if len(fields) < opt.min_steps:
            continue
        got.usable[t] += 1
        got.tallies[t].add((tables.tally[f] for f in fields), spent, seconds, people)
        got.words[t].add(
            (target, tables.tally[f][1], app, url, window)
            for f, (app, window, _screen, _action, target, _value, url, _activity) in zip(
                fields, cells, strict=True
            )
        )
    return _ranked(got, days, opt)


def _ranked(got: _Gathered, days: int, opt: RoutineOptions) -> Ranked:
    usable = sorted(t for t, n in got.usable.items() if n >= opt.min_instances)
    names = names_of({t: got.words[t] for t in usable})
    out = [got.tallies[t].candidate(t, names[t], days) for t in usable]
    out.sort(key=lambda c: (-c.hours_saved_per_month, -c.instances, c.type_id))
    per_group = sorted(got.hours.items(), key=lambda kv: -kv[1])
    screens = {t: {k: c.most_common(1)[0][0] for k, c in by.items()} for t, by in got.windows.items()}
    return Ranked(out[: opt.top], per_group, screens)
