"""The event log as a table (CSV/XES export), with the segmentation as a case column.

`write_events_csv` writes events.csv row by row, straight from the events: no table of the whole
log is built (a row per event as a dict, then a DataFrame, took
about 540 bytes an event, the largest share of `veil mine`'s memory). Its bytes are those
`write_csv(event_table(...))` writes (pandas' CSV writer is the standard `csv` module's, minimal
quoting, "\\n" line ends). The XES export still needs the whole table (`event_table`): pm4py
builds its log from one DataFrame.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from veil.exceptions import OutputError
from veil.mining.base import Segmentation, UIEvent

COLUMNS = (
    "case",
    "task_type",
    "noise",
    "timestamp",
    "user",
    "app",
    "window",
    "screen",
    "action",
    "target",
    "value",
    "url",
    "activity",
    "source",
)
_CACHED = 4096  # distinct `extra` tuples whose cells are kept at a time


def activity(e: UIEvent) -> str:
    return f"{e.app}: {e.action.value} {e.target}".strip()


def event_table(
    events: Sequence[UIEvent], seg: Segmentation, type_names: dict[int, str] | None = None
) -> pd.DataFrame:
    """One row per event; extra columns of imported logs follow the standard ones."""
    names = type_names or {}
    rows = []
    for e, case, ty, noisy in zip(events, seg.cases, seg.types, seg.noise, strict=True):
        rows.append(
            {
                "case": case,
                "task_type": names.get(ty, f"type-{ty + 1}") if ty >= 0 else "",
                "noise": bool(noisy),
                "timestamp": e.timestamp.isoformat(timespec="milliseconds"),
                "user": e.user,
                "app": e.app,
                "window": e.window,
                "screen": e.screen,
                "action": e.action.value,
                "target": e.target,
                "value": e.value,
                "url": e.url,
                "activity": activity(e),
                "source": e.source,
                **{f"extra.{k}": v for k, v in e.extra},
            }
        )
    return pd.DataFrame(rows, columns=None if rows else list(COLUMNS))


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    try:
        table.to_csv(path, index=False)
    except OSError as exc:
        raise OutputError(f"could not write {path}: {type(exc).__name__}") from exc
    return path


def extra_keys(events: Sequence[UIEvent]) -> list[str]:
    """The extra columns' names, in the order they first appear (as `event_table` orders them)."""
    keys: dict[str, None] = {}
    seen: set[int] = set()  # each distinct `extra` tuple (the import shares them) looked at once
    for e in events:
        extra = e.extra
        if extra and id(extra) not in seen:
            if len(seen) >= _CACHED:
                seen.clear()  # only costs looking at a tuple again
            seen.add(id(extra))
            for k, _v in extra:
                keys.setdefault(k, None)
    return list(keys)


def write_events_csv(
    events: Sequence[UIEvent], seg: Segmentation, type_names: dict[int, str] | None, path: Path
) -> Path:
    """`write_csv(event_table(events, seg, type_names), path)`, in memory that does not grow with
    the log: each row is made as it is written."""
    keys = extra_keys(events)
    try:
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([*COLUMNS, *(f"extra.{k}" for k in keys)])
            writer.writerows(_rows(events, seg, type_names or {}, keys))
    except OSError as exc:
        raise OutputError(f"could not write {path}: {type(exc).__name__}") from exc
    return path


def _rows(
    events: Sequence[UIEvent], seg: Segmentation, names: dict[int, str], keys: list[str]
) -> Iterator[list[object]]:
    """Each event's row, as `event_table` has it (a missing extra cell is empty)."""
    column = {k: n for n, k in enumerate(keys)}
    blank = [""] * len(keys)
    task = {ty: names.get(ty, f"type-{ty + 1}") for ty in set(seg.types) if ty >= 0}
    task[-1] = ""
    extras: dict[int, list[str]] = {}  # per distinct `extra` tuple (by identity), its cells
    for e, case, ty, noisy in zip(events, seg.cases, seg.types, seg.noise, strict=True):
        extra = e.extra
        cells = extras.get(id(extra)) if extra else blank
        if cells is None:
            if len(extras) >= _CACHED:
                extras.clear()
            cells = extras[id(extra)] = list(blank)
            for k, v in extra:
                cells[column[k]] = v
        yield [
            case,
            task.get(ty, ""),
            bool(noisy),
            e.timestamp.isoformat(timespec="milliseconds"),
            e.user,
            e.app,
            e.window,
            e.screen,
            e.action.value,
            e.target,
            e.value,
            e.url,
            activity(e),
            e.source,
            *cells,
        ]
