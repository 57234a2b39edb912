"""Split an unlabelled, interleaved stream of UI events into task instances and group them into
task types, from the events alone (steps, order and time; no labels).

1. Per user, sessions end at long idle gaps.
2. Noise: a step whose predecessor and successor are both unpredictable is in no routine.
3. Anchors: for each step, the companion most often among the three steps before it (and after
   it), counted only when far more frequent than chance. A step inside a routine is anchored on
   both sides; a start has its routine after it and nothing regular before it.
4. Starts are also found from repeats: a pair of consecutive steps seen again means a whole
   cycle lies between; the new instance starts after the longest pause in it (a task done many
   times in a row is anchored by its own end, so anchors alone miss its start).
5. Cuts: before a start (unless a loose step usually leads to it: an optional first step), after
   an end step when what follows is not its usual successor, and before a repeated pair.
6. Task types: instances clustered by their step sets (Jaccard similarity to the most common set
   of a cluster); trailing steps that most instances of a type lack are left out of its routine.
Noise events keep the case they sit in (the one before them at a boundary) but are flagged, so
routines are built from the rest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from veil.mining.base import Segmentation, UIEvent

Sig = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class SegmentOptions:
    session_gap_seconds: float = 1800.0
    noise_concentration: float = 0.3  # below this on both sides a step is noise
    start_share: float = 0.25  # share of a step's occurrences that open an instance
    weak_transition: float = 0.2  # c(p->s)^2 / (c(p) c(s)) below this is not a routine edge
    context: int = 3  # steps looked back for a step's anchors
    lift: float = 2.0  # how much more often than chance an anchor must be near a step
    anchor_share: float = 0.75  # a step with an anchor this often in its context is not a start
    end_successor_share: float = 0.5  # an end's most common successor follows it less often
    min_support: int = 3
    type_similarity: float = 0.5
    core_share: float = 0.5  # trailing steps in fewer of a type's instances are not part of it


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


def _collapse(seq: list[int], sigs: Sequence[Sig]) -> list[int]:
    """Drop an event that repeats the step right before it (a second scroll, a split keystroke run)."""
    out: list[int] = []
    for i in seq:
        if not out or sigs[out[-1]] != sigs[i]:
            out.append(i)
    return out


@dataclass
class _Stats:
    count: Counter[Sig]
    pair: Counter[tuple[Sig, Sig]]

    @classmethod
    def of(cls, seqs: list[list[int]], sigs: Sequence[Sig]) -> _Stats:
        count: Counter[Sig] = Counter()
        pair: Counter[tuple[Sig, Sig]] = Counter()
        for seq in seqs:
            count.update(sigs[i] for i in seq)
            pair.update((sigs[a], sigs[b]) for a, b in pairwise(seq))
        return cls(count, pair)

    def strength(self, p: Sig, s: Sig) -> float:
        n = self.pair[(p, s)]
        return n * n / max(self.count[p] * self.count[s], 1)

    def concentration(self) -> dict[Sig, tuple[float, float]]:
        pred: dict[Sig, Counter[Sig]] = defaultdict(Counter)
        succ: dict[Sig, Counter[Sig]] = defaultdict(Counter)
        for (a, b), n in self.pair.items():
            succ[a][b] += n
            pred[b][a] += n
        out = {}
        for s, c in self.count.items():
            best_in = max(pred[s].values(), default=0) / c
            best_out = max(succ[s].values(), default=0) / c
            out[s] = (best_in, best_out)
        return out


def _denoise(seqs: list[list[int]], sigs: Sequence[Sig], opt: SegmentOptions) -> set[int]:
    """Indices of noise events, found over two rounds (noise hides its neighbours' regularity)."""
    noise: set[int] = set()
    noisy: set[Sig] = set()
    for _ in range(2):
        kept = [_collapse([i for i in s if i not in noise], sigs) for s in seqs]
        stats = _Stats.of(kept, sigs)
        conc = stats.concentration()
        noisy |= {
            s
            for s, (ci, co) in conc.items()
            if stats.count[s] < opt.min_support
            or (ci < opt.noise_concentration and co < opt.noise_concentration)
        }
        noise = {i for s in seqs for i in s if sigs[i] in noisy}
    return noise


def _repeat_cuts(seq: list[int], sigs: Sequence[Sig], times: Sequence[float]) -> list[int]:
    """Positions where an instance must have started: a pair of steps seen again means a whole
    cycle lies between the two; the new instance starts after the longest pause in that cycle
    (choosing the pair itself would let one noisy instance shift every later cut)."""
    cuts: list[int] = []
    seen: dict[tuple[Sig, Sig], int] = {}
    k = 1
    while k < len(seq):
        pair = (sigs[seq[k - 1]], sigs[seq[k]])
        if pair in seen:
            first = seen[pair]
            cut = max(range(first + 1, k), key=lambda c: times[seq[c]] - times[seq[c - 1]], default=k - 1)
            cuts.append(cut)
            seen = {(sigs[seq[c - 1]], sigs[seq[c]]): c for c in range(cut + 1, k + 1)}
        else:
            seen[pair] = k
        k += 1
    return cuts


def _anchors(
    kept: list[list[int]], sigs: Sequence[Sig], opt: SegmentOptions
) -> dict[Sig, tuple[float, float]]:
    """Per step, how often its most frequent companion is among the few steps before it, and
    among the few after it. A step inside a routine has companions on both sides; a step opening
    a task has none before it (whatever task came before varies) but its routine after it."""
    count: Counter[Sig] = Counter()
    before: dict[Sig, Counter[Sig]] = defaultdict(Counter)
    after: dict[Sig, Counter[Sig]] = defaultdict(Counter)
    for seq in kept:
        for k, i in enumerate(seq):
            s = sigs[i]
            count[s] += 1
            before[s].update({sigs[j] for j in seq[max(k - opt.context, 0) : k]} - {s})
            after[s].update({sigs[j] for j in seq[k + 1 : k + 1 + opt.context]} - {s})
    total = max(sum(count.values()), 1)

    def best(companions: Counter[Sig], n: int) -> float:
        # A companion counts only when it is there far more often than its frequency explains.
        return max(
            (
                k / n
                for q, k in companions.items()
                if k / n >= opt.lift * min(1.0, opt.context * count[q] / total)
            ),
            default=0.0,
        )

    return {s: (best(before[s], n), best(after[s], n)) for s, n in count.items()}


@dataclass(frozen=True, slots=True)
class _Markers:
    starts: frozenset[Sig]  # open a task
    ends: frozenset[Sig]  # close one: a regular predecessor, no regular successor
    loose: frozenset[Sig]  # nothing regular before them


def _markers(
    kept: list[list[int]], sigs: Sequence[Sig], times: Sequence[float], stats: _Stats, opt: SegmentOptions
) -> _Markers:
    """Starts are steps with their routine after them and either nothing regular before them or
    opening repeats often enough (a task done many times in a row is anchored by its own end)."""
    opens: Counter[Sig] = Counter()
    for seq in kept:
        if seq:
            opens[sigs[seq[0]]] += 1
        opens.update(sigs[seq[k]] for k in _repeat_cuts(seq, sigs, times))
    anchors = _anchors(kept, sigs, opt)
    share = opt.anchor_share
    frequent = {s for s, n in stats.count.items() if n >= opt.min_support}
    loose = {s for s in frequent if anchors[s][0] < share}
    starts = {
        s
        for s in frequent
        if anchors[s][1] >= share and (s in loose or opens[s] >= opt.start_share * stats.count[s])
    }
    # Immediate neighbours here: a few occurrences share a companion within three steps by chance.
    conc = stats.concentration()
    ends = {
        s
        for s in frequent
        if conc[s][0] >= share and conc[s][1] < opt.end_successor_share and anchors[s][1] < share
    }
    return _Markers(frozenset(starts), frozenset(ends), frozenset(loose))


def _cut(
    seq: list[int], sigs: Sequence[Sig], marks: _Markers, stats: _Stats, opt: SegmentOptions
) -> list[list[int]]:
    """Cut before a start unless an optional first step leads to it, after an end unless the two
    steps usually go together, and before a pair of steps already seen in the current part."""
    if not seq:
        return []
    parts: list[list[int]] = [[seq[0]]]
    seen: set[tuple[Sig, Sig]] = set()
    for k in range(1, len(seq)):
        p, s = sigs[seq[k - 1]], sigs[seq[k]]
        weak = stats.pair[(p, s)] < opt.min_support or stats.strength(p, s) < opt.weak_transition
        # A loose step that usually leads to a start is an optional first step, not a task's end.
        lead_in = not weak and p in marks.loose
        if (s in marks.starts and not lead_in) or (weak and p in marks.ends):
            parts.append([seq[k]])
            seen = set()
            continue
        if (p, s) in seen and len(parts[-1]) > 1:
            parts.append([parts[-1].pop(), seq[k]])
            seen = {(p, s)}
            continue
        seen.add((p, s))
        parts[-1].append(seq[k])
    return parts


def _cluster(parts: list[list[int]], sigs: Sequence[Sig], opt: SegmentOptions) -> list[int]:
    """A task type per part: leaders are the most common step sets, taken in order."""
    sets = [frozenset(sigs[i] for i in p) for p in parts]
    leaders: list[frozenset[Sig]] = []
    label_of: dict[frozenset[Sig], int] = {}
    for steps, _n in sorted(Counter(sets).items(), key=lambda kv: (-kv[1], -len(kv[0]))):
        scores = [len(steps & lead) / len(steps | lead) for lead in leaders]
        best = max(range(len(scores)), key=scores.__getitem__, default=-1)
        if best >= 0 and scores[best] >= opt.type_similarity:
            label_of[steps] = best
        else:
            label_of[steps] = len(leaders)
            leaders.append(steps)
    return [label_of[s] for s in sets]


def _tails(parts: list[list[int]], types: list[int], sigs: Sequence[Sig], opt: SegmentOptions) -> set[int]:
    """Events at the end of an instance whose step most instances of its type lack: unrelated work
    done before the next task began. They stay in the instance's case but outside its routine."""
    members: dict[int, list[list[int]]] = defaultdict(list)
    for part, ty in zip(parts, types, strict=True):
        members[ty].append(part)
    out: set[int] = set()
    for group in members.values():
        present = Counter(s for part in group for s in {sigs[i] for i in part})
        for part in group:
            k = len(part)
            while k > 1 and present[sigs[part[k - 1]]] < opt.core_share * len(group):
                k -= 1
            out.update(part[k:])
    return out


def segment(events: Sequence[UIEvent], opt: SegmentOptions | None = None) -> Segmentation:
    """Task instance and task type of every event (see the module docstring)."""
    opt = opt or SegmentOptions()
    if not events:
        return Segmentation((), (), ())
    sigs = [e.signature for e in events]
    sessions = _sessions(events, opt.session_gap_seconds)
    noise = _denoise(sessions, sigs, opt)
    kept = [_collapse([i for i in s if i not in noise], sigs) for s in sessions]
    stats = _Stats.of(kept, sigs)
    times = [e.timestamp.timestamp() for e in events]
    marks = _markers(kept, sigs, times, stats, opt)
    parts = [p for seq in kept for p in _cut(seq, sigs, marks, stats, opt)]
    types = _cluster(parts, sigs, opt)
    return _assign(events, sessions, parts, types, noise | _tails(parts, types, sigs, opt))


def _assign(
    events: Sequence[UIEvent],
    sessions: list[list[int]],
    parts: list[list[int]],
    types: list[int],
    noise: set[int],
) -> Segmentation:
    case_of: dict[int, int] = {i: n for n, p in enumerate(parts) for i in p}
    case = [-1] * len(events)
    for seq in sessions:
        current = -1
        for i in seq:
            current = case_of.get(i, current)
            case[i] = current
        # Leading events before the first instance of a session join that instance.
        first = next((case[i] for i in seq if case[i] >= 0), -1)
        for i in seq:
            if case[i] >= 0:
                break
            case[i] = first
    width = len(str(len(parts)))
    return Segmentation(
        cases=tuple(f"case-{c + 1:0{width}d}" if c >= 0 else "" for c in case),
        types=tuple(types[c] if c >= 0 else -1 for c in case),
        noise=tuple(i in noise for i in range(len(events))),
    )
