"""Cut one thread (the events of one task type, in time order) into task instances.

A routine done again and again is a cycle; its instances start with the same step. Every step
seen at least twice is tried as the start, and the cut is scored:
1. regular: how many events sit in a part where their step occurs as often as in most parts
   (a loop step as the start breaks instances apart and scores low; a step seen in only half
   the instances glues pairs together and gives fewer parts);
2. among the regular cuts with the most parts (phases of the same cycle all qualify), the one
   that separates the fewest events sharing a value or a record (a copy and its paste belong
   together; see `links`) and opens after the longest pauses wins.
Parts where a step that occurs once per instance appears twice are split again (an instance
whose usual first step was skipped), at the longest pause between the two occurrences.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

Sig = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class CycleOptions:
    crossing_weight: float = 0.5  # per share of keyed events whose value or record a cut splits
    pause_weight: float = 0.1  # per unit of log pause before a part, over the median inside
    first_weight: float = 0.05  # the thread's first event is likely a first step
    parts_weight: float = 0.05  # per unit of log number of parts (pairs glued score lower)
    candidates: int = 40  # most frequent steps tried as starts


Start = tuple[Sig, Sig | None]  # a first step, and the step that leads into it when there is one


def _split(seq: Sequence[int], sigs: Sequence[Sig], start: Start) -> list[list[int]]:
    """Parts opening at every `start` step, or at its lead-in step right before it."""
    first, lead = start
    parts: list[list[int]] = [[]]
    for k, i in enumerate(seq):
        opens = sigs[i] == first and not (lead and k and sigs[seq[k - 1]] == lead)
        opens = opens or (
            lead is not None and sigs[i] == lead and k + 1 < len(seq) and sigs[seq[k + 1]] == first
        )
        if opens and parts[-1]:
            parts.append([])
        parts[-1].append(i)
    return parts


def _leads(seq: Sequence[int], sigs: Sequence[Sig], count: Counter[Sig]) -> dict[Sig, Sig]:
    """Per step, the step right before it in most of its occurrences (an optional lead-in such as
    opening the file before going to the form)."""
    before: dict[Sig, Counter[Sig]] = {}
    for a, b in zip(seq, seq[1:], strict=False):
        if sigs[a] != sigs[b]:
            before.setdefault(sigs[b], Counter())[sigs[a]] += 1
    out = {}
    for s, c in before.items():
        p, n = c.most_common(1)[0]
        if n >= 0.5 * count[s]:
            out[s] = p
    return out


def regularity(parts: Sequence[Sequence[int]], sigs: Sequence[Sig], only: set[Sig] | None = None) -> float:
    """Share of events (of the steps in `only`, default all) in a part where their step occurs as
    often as in most parts."""
    counts = [Counter(sigs[i] for i in p) for p in parts]
    steps = {s for c in counts for s in c}
    if only is not None:
        steps &= only
    regular = 0
    total = 0
    for s in steps:
        per_part = [c.get(s, 0) for c in counts]
        mode = Counter(per_part).most_common(1)[0][0]
        regular += sum(n for n in per_part if n == mode)
        total += sum(per_part)
    return regular / max(total, 1)


def _crossings(parts: list[list[int]], keys: dict[int, tuple[str, ...]]) -> int:
    """Shared values/records whose events fall in different parts."""
    part_of = {i: k for k, p in enumerate(parts) for i in p}
    seen: dict[str, int] = {}
    crossing = 0
    for k, p in enumerate(parts):
        for i in p:
            for key in keys.get(i, ()):
                first = seen.setdefault(key, part_of[i])
                if first != k:
                    crossing += 1
    return crossing


def _opening_pause(parts: list[list[int]], times: Sequence[float]) -> float:
    """Mean log pause before a part, relative to the median log pause inside parts."""
    before = [math.log1p(times[p[0]] - times[q[-1]]) for q, p in zip(parts, parts[1:], strict=False)]
    inside = [math.log1p(times[b] - times[a]) for p in parts for a, b in zip(p, p[1:], strict=False)]
    if not before or not inside:
        return 0.0
    return statistics.fmean(before) - statistics.median(inside)


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


def cut_cycles(
    seq: Sequence[int],
    sigs: Sequence[Sig],
    times: Sequence[float],
    keys: dict[int, tuple[str, ...]],
    opt: CycleOptions | None = None,
) -> list[list[int]]:
    """Instances of one thread (see the module docstring); `keys` are each event's linking keys."""
    opt = opt or CycleOptions()
    if len(seq) < 2:
        return [list(seq)] if seq else []
    count = Counter(sigs[i] for i in seq)
    tried = [s for s, n in count.most_common(opt.candidates) if n >= 2]
    if not tried:
        return [list(seq)]
    keyed = max(sum(1 for i in seq if keys.get(i)), 1)

    leads = _leads(seq, sigs, count)
    starts: list[Start] = [(s, None) for s in tried] + [(s, leads[s]) for s in tried if s in leads]

    def score(start: Start) -> tuple[float, Start]:
        parts = _split(seq, sigs, start)
        value = (
            regularity(parts, sigs)
            - opt.crossing_weight * _crossings(parts, keys) / keyed
            + opt.pause_weight * _opening_pause(parts, times)
            + opt.parts_weight * math.log(len(parts))
            + (opt.first_weight if sigs[seq[0]] in start else 0.0)
        )
        return value, start

    _best, start = max((score(s) for s in starts), key=lambda vs: (vs[0], str(vs[1])))
    parts = _split(seq, sigs, start)
    per_part = [Counter(sigs[i] for i in p) for p in parts]
    once = {s for s in count if Counter(c.get(s, 0) for c in per_part).most_common(1)[0][0] == 1}
    typical = statistics.median(len(p) for p in parts)
    return [q for p in parts for q in (_resplit(p, sigs, times, once) if len(p) >= 1.6 * typical else [p])]
