"""The event log as a table (CSV/XES export), with the segmentation as a case column."""

from __future__ import annotations

from collections.abc import Sequence
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
