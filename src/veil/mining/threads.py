"""Threads: which screens belong to one task type, found in an unlabelled, interleaved stream.

Real tasks share their steps (copy, paste, edit a field) and differ in *where* they happen and
*which data* flows: a reimbursement claim is copied from one workbook into one web form, a student
record from another workbook into another form. So each event gets its screen (URL template,
workbook; an event that carries none is on the page its application last showed), and screens
are tied together when
- events on both move the same value (a keyed pseudonym shared by a copy and its paste; see
  `links`) or touch the same record (a spreadsheet row), a few events each, or
- the person goes from one to the other far more often than their frequencies explain (lift),
  which is how a confirmation page joins its form.
Threads are the connected groups of screens (value links first, then each remaining screen joins
the group it is most strongly adjacent to). A thread may still hold two task types that share a
screen; `cycles` then finds two starts.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veil.mining.base import UIEvent


@dataclass(frozen=True, slots=True)
class ThreadOptions:
    min_support: int = 3  # a screen seen fewer times is no part of a routine
    max_link_events: int = 12  # a value on more events is a constant (a country), not a link
    max_record_events: int = 40
    max_link_span: float = 1800.0  # a value met again after this long is a constant, not a link
    min_links: float = 3.0  # shared values (records count a quarter) that tie two screens
    link_share: float = 0.2  # ... and at least this share of the smaller screen's ties
    link_seconds: float = 30.0  # a value passed on later than this is no tie between screens
    lift: float = 3.0  # a screen joins its most adjacent group when this much above chance
    min_adjacent: int = 5


def event_screens(events: Sequence[UIEvent], seqs: Iterable[Sequence[int]]) -> list[str]:
    """Each event's screen. An event that names none (no URL, no window but its application's)
    stands for its own step when it has a target (another task in the same application may have
    been in front since), else it is on its application's last screen."""
    out = [""] * len(events)  # an event in none of `seqs` has none
    steps: dict[tuple[str, str, str], str] = {}  # each step's name, made once
    for seq in seqs:
        current: dict[str, str] = {}
        for i in seq:
            e = events[i]
            if e.url or (e.window and e.window != e.app):
                out[i] = current[e.app] = e.screen
            elif e.target:
                step = (e.app, e.action, e.target)
                if step not in steps:
                    steps[step] = f"{e.app}: {e.action.value} {e.target}"
                out[i] = steps[step]
            else:
                out[i] = current.get(e.app, e.screen)
    return out


def shared_keys(
    events: Sequence[UIEvent], members: Iterable[int], opt: ThreadOptions
) -> dict[str, list[int]]:
    """Value pseudonyms and records carried by a few events each: the keys that link events of
    one task instance (a value on many events is a constant, shared by every instance)."""
    where: dict[str, list[int]] = defaultdict(list)
    for i in members:
        e = events[i]
        for token in e.links:
            where["v:" + token].append(i)
        if e.record:
            where["r:" + e.record].append(i)
    out = {}
    for key, idx in where.items():
        most = opt.max_record_events if key.startswith("r:") else opt.max_link_events
        if 2 <= len(idx) <= most:
            stamps = [events[i].timestamp for i in idx]
            if (max(stamps) - min(stamps)).total_seconds() <= opt.max_link_span:
                out[key] = idx
    return out


class _Groups:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {s: s for s in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _value_ties(
    events: Sequence[UIEvent],
    keys: dict[str, list[int]],
    screen: Sequence[str],
    frequent: set[str],
    opt: ThreadOptions,
) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """Screen pairs whose events pass a value on within a short time (a copy and its paste; the
    same customer met again in another task an hour later is no tie)."""
    ties: dict[tuple[str, str], float] = defaultdict(float)
    linked: dict[str, float] = defaultdict(float)
    for key, idx in keys.items():
        w = 1.0 if key.startswith("v:") else 0.25
        order = sorted(idx, key=lambda i: events[i].timestamp)
        pairs: set[tuple[str, str]] = set()
        for a, b in itertools.pairwise(order):
            sa, sb = screen[a], screen[b]
            near = (events[b].timestamp - events[a].timestamp).total_seconds() <= opt.link_seconds
            if near and sa != sb and sa in frequent and sb in frequent:
                pairs.add((sa, sb) if sa < sb else (sb, sa))
        for pair in pairs:
            ties[pair] += w
            linked[pair[0]] += w
            linked[pair[1]] += w
    return ties, linked


def _adjacency(seqs: Sequence[Sequence[int]], screen: Sequence[str]) -> Counter[tuple[str, str]]:
    co: Counter[tuple[str, str]] = Counter()
    for seq in seqs:
        for a, b in itertools.pairwise(seq):
            sa, sb = screen[a], screen[b]
            if sa != sb:
                co[(sa, sb) if sa < sb else (sb, sa)] += 1
    return co


def _join_adjacent(
    groups: _Groups,
    count: Counter[str],
    adjacent: Counter[tuple[str, str]],
    frequent: set[str],
    opt: ThreadOptions,
) -> None:
    """Join the two groups the person moves between most above chance, again and again, while
    that is `lift` times chance (switching between tasks pairs each group with all others)."""
    total = sum(count.values())
    while True:
        size: Counter[str] = Counter()
        for s in frequent:
            size[groups.find(s)] += count[s]
        between: Counter[tuple[str, str]] = Counter()
        for (a, b), c in adjacent.items():
            if a in frequent and b in frequent:
                ra, rb = groups.find(a), groups.find(b)
                if ra != rb:
                    between[(ra, rb) if ra < rb else (rb, ra)] += c
        best: tuple[float, tuple[str, str]] | None = None
        for (ra, rb), c in sorted(between.items()):
            lift = c * total / (2.0 * size[ra] * size[rb])
            if c >= opt.min_adjacent and lift >= opt.lift and (best is None or lift > best[0]):
                best = (lift, (ra, rb))
        if best is None:
            return
        groups.join(*best[1])


def find_threads(
    events: Sequence[UIEvent],
    seqs: Sequence[Sequence[int]],
    screen: Sequence[str],
    opt: ThreadOptions | None = None,
    keys: dict[str, list[int]] | None = None,
) -> dict[str, int]:
    """Thread number of every screen that has one (see the module docstring); `keys` are the
    events' `shared_keys` when the caller has them already."""
    opt = opt or ThreadOptions()
    count = Counter(screen[i] for seq in seqs for i in seq)
    frequent = {s for s, n in count.items() if n >= opt.min_support}
    if keys is None:
        keys = shared_keys(events, (i for seq in seqs for i in seq), opt)
    ties, linked = _value_ties(events, keys, screen, frequent, opt)
    return threads_of(count, ties, linked, _adjacency(seqs, screen), opt)


def threads_of(
    count: Counter[str],
    ties: dict[tuple[str, str], float],
    linked: dict[str, float],
    adjacent: Counter[tuple[str, str]],
    opt: ThreadOptions,
) -> dict[str, int]:
    """`find_threads` from what it counts over the log: events per screen, value ties between
    screens (and each screen's total), and how often the person goes from one screen to another."""
    frequent = {s for s, n in count.items() if n >= opt.min_support}
    groups = _Groups(sorted(frequent))
    for (a, b), w in sorted(ties.items()):
        if w >= opt.min_links and w >= opt.link_share * min(linked[a], linked[b]):
            groups.join(a, b)
    _join_adjacent(groups, count, adjacent, frequent, opt)
    roots = sorted({groups.find(s) for s in frequent}, key=lambda r: r)
    size = Counter({r: 0 for r in roots})
    for s in frequent:
        size[groups.find(s)] += count[s]
    order = {r: k for k, r in enumerate(sorted(roots, key=lambda r: (-size[r], r)))}
    return {s: order[groups.find(s)] for s in frequent}
