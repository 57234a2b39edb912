"""Unsegmented UI-event streams built from real single-task logs, with per-event truth.

The logs in `bench/data/uilogs/` each hold one task type recorded many times. A stream is one
person's working time: instances of 2-3 task types, either one after another or interleaved (a
few instances open at once, the person switching between them every few events), optionally
with 10 % noise events taken from logs of other tasks. Truth columns are dropped from the stream
and kept beside it; the stream is written in the Action Logger schema and read back through
`veil mine`'s importer, so the bench measures exactly what a user gets.

Timing: an instance keeps its own recorded gaps between events (capped at two minutes) and the
pause the person took before it in the log; a switch between open instances takes 1-8 s.
"""

from __future__ import annotations

import itertools
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data" / "uilogs"
LABELLED = ("Reimbursement", "StudentRecord", "CopyPaste")
NOISE_ONLY = ("TravelRequest",)
_TRUTH_COLUMNS = ("Task", "idx", "case:concept:name", "case:description", "case:creator")
_USER_COLUMNS = ("userID", "org:resource")
_MAX_GAP = 120.0


class Kind(StrEnum):
    SEQUENTIAL = "one after another"
    INTERLEAVED = "interleaved"
    STRONG = "strongly interleaved"


@dataclass(frozen=True, slots=True)
class StreamSpec:
    types: tuple[str, ...]
    kind: Kind
    seed: int
    instances: int = 15  # per type
    noise: float = 0.0  # share of events that are noise
    users: int = 1


@dataclass(frozen=True, slots=True)
class Instance:
    task: str
    key: str
    rows: tuple[dict[str, str], ...]
    gaps: tuple[float, ...]  # seconds before each row (the first: the pause before it in the log)


@dataclass(frozen=True, slots=True)
class Stream:
    rows: tuple[dict[str, str], ...]  # Action Logger rows, truth dropped, in time order
    tasks: tuple[str, ...]  # per row: task type, "" for noise
    instances: tuple[str, ...]  # per row: instance key, "" for noise

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows)).fillna("")


@cache
def _log(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / f"{name}.csv.gz", dtype=str, keep_default_na=False)
    frame["_time"] = pd.to_datetime(frame["timeStamp"], utc=True, format="mixed")
    return frame


def _clean(row: dict[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in row.items()
        if k and not k.startswith(("Unnamed", "_")) and k not in _TRUTH_COLUMNS and k not in _USER_COLUMNS
    }


@cache
def instances_of(name: str) -> tuple[Instance, ...]:
    frame = _log(name)
    out = []
    last_end: float | None = None
    for key, unsorted in frame.groupby("idx", sort=False):
        group = unsorted.sort_values("_time", kind="stable")
        times = [t.timestamp() for t in group["_time"]]
        # The pause before an instance is the one the person took in the log (3-40 s if unknown).
        before = times[0] - last_end if last_end is not None else -1.0
        last_end = times[-1]
        unknown = 3.0 + 37.0 * (zlib.crc32(str(key).encode()) % 1000) / 1000
        pause = before if 1.0 <= before <= _MAX_GAP else unknown
        gaps = [pause] + [min(max(b - a, 0.05), _MAX_GAP) for a, b in itertools.pairwise(times)]
        rows = tuple(_clean({str(k): str(v) for k, v in r.items()}) for r in group.to_dict("records"))
        out.append(Instance(name, f"{name}#{key}", rows, tuple(gaps)))
    return tuple(out)


def _noise_rows(exclude: Sequence[str]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in (*LABELLED, *NOISE_ONLY):
        if name not in exclude:
            rows.extend(_clean({str(k): str(v) for k, v in r.items()}) for r in _log(name).to_dict("records"))
    return rows


def _pick(spec: StreamSpec, rng: random.Random) -> list[list[Instance]]:
    queues = []
    for name in spec.types:
        pool = list(instances_of(name))
        queues.append(rng.sample(pool, min(spec.instances, len(pool))))
    return queues


def _sequential(queues: list[list[Instance]], rng: random.Random) -> list[tuple[Instance, int, float]]:
    """(instance, row index, seconds before it) in stream order: whole instances, random order."""
    order = [inst for q in queues for inst in q]
    rng.shuffle(order)
    out = []
    for inst in order:
        for k, gap in enumerate(inst.gaps):
            out.append((inst, k, gap))
    return out


def _interleaved(
    queues: list[list[Instance]], rng: random.Random, block: tuple[int, int]
) -> list[tuple[Instance, int, float]]:
    """At most one open instance per type; the person works a block of events on one, then
    switches. An instance is resumed where it was left."""
    queues = [list(q) for q in queues]
    open_: dict[int, tuple[Instance, int]] = {}
    out: list[tuple[Instance, int, float]] = []
    last = -1
    while (queues and any(queues)) or open_:
        for t, q in enumerate(queues):
            if t not in open_ and q:
                open_[t] = (q.pop(), 0)
        choices = [t for t in open_ if t != last] or list(open_)
        t = rng.choice(choices)
        inst, k = open_[t]
        n = rng.randint(*block)
        for j in range(k, min(k + n, len(inst.rows))):
            gap = inst.gaps[j] if j > k or j == 0 else rng.uniform(1, 8)
            out.append((inst, j, gap))
        k = min(k + n, len(inst.rows))
        if k >= len(inst.rows):
            del open_[t]
        else:
            open_[t] = (inst, k)
        last = t
    return out


def build(spec: StreamSpec, start: datetime | None = None) -> Stream:
    rng = random.Random(f"{spec.seed}:{spec.kind}:{','.join(spec.types)}:{spec.users}")
    users = [f"u-{k + 1}" for k in range(spec.users)]
    parts = []
    for user in users:
        queues = _pick(spec, rng)
        if spec.kind is Kind.SEQUENTIAL:
            placed = _sequential(queues, rng)
        else:
            placed = _interleaved(queues, rng, (3, 10) if spec.kind is Kind.INTERLEAVED else (1, 4))
        parts.append((user, placed))
    noise_pool = _noise_rows(spec.types) if spec.noise else []
    clock0 = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    merged: list[tuple[float, dict[str, str], str, str]] = []
    for user, placed in parts:
        clock = rng.uniform(0, 30)
        for inst, k, gap in placed:
            clock += gap
            merged.append((clock, {**inst.rows[k], "userID": user}, inst.task, f"{user}/{inst.key}"))
        n_noise = round(len(placed) * spec.noise / (1 - spec.noise)) if spec.noise else 0
        for _ in range(n_noise):
            at = rng.uniform(0, clock)
            merged.append((at, {**rng.choice(noise_pool), "userID": user}, "", ""))
    merged.sort(key=lambda m: m[0])
    rows, tasks, keys = [], [], []
    last = -1.0
    for at, row, task, key in merged:
        t = max(at, last + 0.002)  # strictly increasing: the importer's time sort keeps this order
        last = t
        stamp = clock0 + timedelta(seconds=t)
        rows.append({**row, "timeStamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
        tasks.append(task)
        keys.append(key)
    return Stream(tuple(rows), tuple(tasks), tuple(keys))
