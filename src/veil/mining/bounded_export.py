"""events.csv from the bounded miner's records, in log order, with the bytes `export.write_events_csv`
writes for the same events and segmentation.

The records (`ROW`) come sorted by time and row (`external_sort`): the log's order. An instance
is numbered (`case-0001`, ...) when its first event is written, which is the order
`segment._assign` numbers them in (by first event), zero-padded to the number of instances.
Memory: the tables' cells and 4 bytes per instance for its number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from veil.exceptions import OutputError
from veil.mining.eventstore import EVENT, Vocabulary
from veil.mining.export import COLUMNS
from veil.mining.fieldtables import FieldTables

ROW = np.dtype(
    [
        *EVENT.descr,
        ("case", "<i4"),  # the instance (-1: none), numbered in the order first met here
        ("type", "<i4"),  # the task type id (-1: none)
        ("noise", "u1"),
    ]
)
ROW_KEY = ("micros", "seq")


def iso_millis(micros: np.ndarray) -> list[str]:
    """`datetime.isoformat(timespec="milliseconds")` of UTC times given in microseconds."""
    text = np.datetime_as_string(micros.astype("datetime64[us]").astype("datetime64[ms]"), unit="ms")
    return [t + "+00:00" for t in text.tolist()]


class _CaseNames:
    """`case-0001` ... in the order instances are first met, zero-padded to how many there are."""

    def __init__(self, cases: int) -> None:
        self.number = np.zeros(cases, dtype=np.int32)  # 0: not met yet
        self.met = 0
        self.width = len(str(cases))

    def __call__(self, case: int) -> str:
        if case < 0:
            return ""
        if not self.number[case]:
            self.met += 1
            self.number[case] = self.met
        return f"case-{int(self.number[case]):0{self.width}d}"


def write_rows(
    blocks: Iterable[np.ndarray],
    vocab: Vocabulary,
    tables: FieldTables,
    extra_keys: list[str],
    cases: int,
    type_names: dict[int, str],
    path: Path,
) -> Path:
    """Write events.csv (see the module docstring)."""
    try:
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([*COLUMNS, *(f"extra.{k}" for k in extra_keys)])
            for rows in _rows(blocks, vocab, tables, extra_keys, cases, type_names):
                writer.writerows(rows)
    except OSError as exc:
        raise OutputError(f"could not write {path}: {type(exc).__name__}") from exc
    return path


def _rows(
    blocks: Iterable[np.ndarray],
    vocab: Vocabulary,
    tables: FieldTables,
    extra_keys: list[str],
    cases: int,
    type_names: dict[int, str],
) -> Iterator[list[list[object]]]:
    """Each block's rows, as `export._rows` makes them (a missing extra cell is empty)."""
    column = {k: n for n, k in enumerate(extra_keys)}
    cells: list[list[str]] = []
    for extra in vocab.extras.items:
        row = [""] * len(extra_keys)
        for name, value in extra:
            row[column[name]] = value
        cells.append(row)
    case_name = _CaseNames(cases)
    users, sources = vocab.users, vocab.sources.items
    for rows in blocks:
        out: list[list[object]] = []
        for stamp, user, fid, extra, source, case, ty, noisy in zip(
            iso_millis(rows["micros"]),
            rows["user"].tolist(),
            rows["fields"].tolist(),
            rows["extra"].tolist(),
            rows["source"].tolist(),
            rows["case"].tolist(),
            rows["type"].tolist(),
            rows["noise"].tolist(),
            strict=True,
        ):
            task = type_names.get(ty, f"type-{ty + 1}") if ty >= 0 else ""
            app, window, screen, action, target, value, url, activity = tables.cells[fid]
            out.append(
                [
                    case_name(case),
                    task,
                    bool(noisy),
                    stamp,
                    users[user],
                    app,
                    window,
                    screen,
                    action,
                    target,
                    value,
                    url,
                    activity,
                    sources[source],
                    *cells[extra],
                ]
            )
        yield out
