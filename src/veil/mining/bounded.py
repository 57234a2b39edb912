"""`veil mine` on Action Logger CSVs in memory that does not grow with the number of events.

The in-memory miner holds every event (~190 bytes) from the import to the report, and per-event
arrays beside them. This one keeps the events on disk, as numbers, in a private folder
(`spill.spill_folder`: mode 0700, removed on success, error or interrupt), and reads them back
a block of whole sessions at a time:

1. import (`eventstore.import_action_logger`): rows are read 100,000 at a time, scrubbed and
   pseudonymised as before, and written as 32-byte records: time, row number, and ids into
   tables kept in memory (users, field combinations, extra cells, files). Value pseudonyms stay
   in those tables; the files hold numbers only. The records are then sorted by user (in order
   of first appearance), time and row with an external sort (sorted runs, merged by numpy).
2. segmentation (`bounded_segment`): five passes over the sessions, each whole-log decision
   (which values link events, which screens make threads, how each task type's instances
   start, which loose events are routine steps) taken on summaries that grow with the log's
   vocabulary, not with its events. Each event's instance and state are written beside it.
3. a last pass (`_emit`) turns those into the rows of events.csv and the instances' events,
   each sorted on disk: events.csv in the log's order (by time and row), the instances in the
   order of their first event, which is the order the ranking adds their figures in.
4. ranking and report figures (`bounded_rank`) over the instances, one at a time; events.csv
   (`bounded_export`) over the rows, one block at a time.

Outputs are byte for byte those of the in-memory path (same functions on the same events in
the same order; see bench/README.md, Memory). Memory: the tables (distinct field combinations,
users, extra cells, screens), the linking state of values seen on few enough events (it grows
with the distinct values of a log, as the pseudonyms the import keeps do), the samples the
segmentation learns on (fixed sizes), a block of sessions (a single session longer than a
block is read whole), one block per sorted run while merging, and a few bytes per task
instance (its working time for the median, its number in events.csv). Not bounded here:
XES export (pm4py builds it from a table of the whole log), text layers and XES inputs, and
the Ray engine; `cli.mine` takes the in-memory path for those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from veil.exceptions import OutputError
from veil.mining import collector
from veil.mining.base import Candidate
from veil.mining.bounded_export import ROW, ROW_KEY, write_rows
from veil.mining.bounded_rank import INSTANCE, INSTANCE_KEY, Ranked, Screens, rank_instances
from veil.mining.bounded_segment import PLACED, Segmented, segment_store
from veil.mining.eventstore import EventStore, import_action_logger, sessions
from veil.mining.external_sort import SortedRuns
from veil.mining.fieldtables import FieldTables
from veil.mining.groups import MIN_GROUP, groups_of
from veil.mining.report import Figures
from veil.mining.routines import IDLE_SECONDS, RoutineOptions
from veil.mining.segment import SegmentOptions
from veil.mining.spill import spill_folder


@dataclass(frozen=True, slots=True)
class BoundedResult:
    events: int
    candidates: tuple[Candidate, ...]
    figures: Figures
    screens: dict[int, Screens]
    events_csv: Path


def mine_csv(
    paths: Sequence[Path], out: Path, segment_opt: SegmentOptions, routine_opt: RoutineOptions
) -> BoundedResult:
    """Mine Action Logger CSVs and write events.csv into `out` (see the module docstring)."""
    with spill_folder(out if out.is_dir() else None) as folder, collector.paused():
        store = import_action_logger(paths, folder)
        tables = FieldTables.of(store.vocab)
        seg = segment_store(store, tables, segment_opt, folder)
        rows = SortedRuns(folder, "rows", ROW, ROW_KEY)
        steps = SortedRuns(folder, "instances", INSTANCE, INSTANCE_KEY)
        noise = _emit(store, seg, segment_opt.session_gap_seconds, rows, steps)
        seg.results.unlink()
        store.events.unlink()
        groups = _groups(store, tables, seg)
        people = len(store.vocab.users)
        ranked: Ranked = rank_instances(
            steps.merged(),
            tables,
            store.vocab.users,
            groups if people >= MIN_GROUP else None,
            store.days,
            routine_opt,
        )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"could not create output folder {out}: {type(exc).__name__}") from exc
        names = {c.type_id: c.name for c in ranked.candidates}
        csv_path = write_rows(
            rows.merged(), store.vocab, tables, store.extra_keys(), seg.cases, names, out / "events.csv"
        )
    figures = Figures(
        events=store.count,
        instances=seg.cases,
        types=int(np.count_nonzero(seg.type_of_group >= 0)),
        noise=noise,
        people=people,
        days=store.days,
        per_group=ranked.per_group if people >= MIN_GROUP else [],
    )
    return BoundedResult(store.count, tuple(ranked.candidates), figures, ranked.screens, csv_path)


def _groups(store: EventStore, tables: FieldTables, seg: Segmented) -> dict[str, str]:
    """`groups.user_groups` from the votes the first pass counted."""
    names = tables.group_names.items
    raw = {
        user: names[votes.most_common(1)[0][0]]
        for user, votes in zip(store.vocab.users, seg.user_groups, strict=True)
    }
    return groups_of(raw)


def _emit(store: EventStore, seg: Segmented, gap: float, rows: SortedRuns, steps: SortedRuns) -> int:
    """Each event's row of events.csv and, for events of an instance that are no noise, its
    record for the ranking; returns how many events are noise."""
    noise_count = 0
    last_user, last_time = -1, 0.0
    added = 0
    for block in sessions(store, gap):
        events = block.rows
        n = len(events)
        result = seg.results.read(block.position, n)
        state, case = result["state"].astype(np.int64), result["case"].astype(np.int64)
        steady = seg.steady[np.maximum(state, 0)] if len(seg.steady) else np.zeros(n, dtype=bool)
        noisy = ~((state == PLACED) | ((state >= 0) & steady))
        noise_count += int(np.count_nonzero(noisy))
        types = np.where(case >= 0, seg.type_of_group[np.maximum(result["group"], 0)], -1)
        out = np.zeros(n, dtype=ROW)
        for name in ("micros", "seq", "user", "fields", "extra", "source"):
            out[name] = events[name]
        out["case"], out["type"], out["noise"] = case, types, noisy
        rows.add(out)
        # `routines.working_seconds`: the time since the person's previous event, capped.
        times = events["micros"] / 1e6
        user = events["user"].astype(np.int64)
        before = np.concatenate(([last_time], times[:-1]))
        who = np.concatenate(([last_user], user[:-1]))
        dwell = np.minimum(np.maximum(times - before, 0.0), IDLE_SECONDS)
        dwell[who != user] = 0.0
        last_user, last_time = int(user[-1]), float(times[-1])
        # An instance's events but noise, keyed by the first of them.
        at = np.flatnonzero((case >= 0) & ~noisy)
        owner = case[at]
        _ids, first, inverse = np.unique(owner, return_index=True, return_inverse=True)
        head = at[first][inverse.reshape(-1)]
        record = np.zeros(len(at), dtype=INSTANCE)
        record["first_micros"], record["first_seq"] = events["micros"][head], events["seq"][head]
        record["row"] = np.arange(added, added + len(at))
        record["type"], record["fields"] = types[at], events["fields"][at]
        record["user"], record["dwell"] = events["user"][at], dwell[at]
        added += len(at)
        steps.add(record)
    return noise_count
