"""events.csv from the bounded miner's records, in log order, with the bytes `export.write_events_csv`
writes for the same events and segmentation.

The records (`ROW`) come sorted by time and row (`external_sort`): the log's order. An instance
is numbered (`case-0001`, ...) when its first event is written, which is the order
`segment._assign` numbers them in (by first event), zero-padded to the number of instances.
Memory: the tables' cells and 4 bytes per instance for its number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from veil.exceptions import OutputError
from veil.mining.eventstore import Vocabulary
from veil.mining.export import COLUMNS
from veil.mining.fieldtables import FieldTables

ROW = np.dtype(
    [
        ("micros", "<i8"),
        ("seq", "<i8"),
        ("user", "<i4"),
        ("fields", "<i4"),
        ("extra", "<i4"),
        ("source", "<i4"),
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
    column = {k: n for n, k in enumerate(extra_keys)}
    cells: dict[int, list[str]] = {}
    for k, extra in enumerate(vocab.extras.items):
        row = [""] * len(extra_keys)
        for name, value in extra:
            row[column[name]] = value
        cells[k] = row
    number = np.zeros(cases, dtype=np.int32)  # 0: not met yet
    met = 0
    width = len(str(cases))
    users, sources = vocab.users, vocab.sources.items
    try:
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([*COLUMNS, *(f"extra.{k}" for k in extra_keys)])
            for rows in blocks:
                stamps = iso_millis(rows["micros"])
                out = []
                for stamp, user, fid, extra, source, case, ty, noisy in zip(
                    stamps,
                    rows["user"].tolist(),
                    rows["fields"].tolist(),
                    rows["extra"].tolist(),
                    rows["source"].tolist(),
                    rows["case"].tolist(),
                    rows["type"].tolist(),
                    rows["noise"].tolist(),
                    strict=True,
                ):
                    name = ""
                    if case >= 0:
                        if not number[case]:
                            met += 1
                            number[case] = met
                        name = f"case-{int(number[case]):0{width}d}"
                    task = type_names.get(ty, f"type-{ty + 1}") if ty >= 0 else ""
                    app, window, screen, action, target, value, url, activity = tables.cells[fid]
                    out.append(
                        [
                            name,
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
                writer.writerows(out)
    except OSError as exc:
        raise OutputError(f"could not write {path}: {type(exc).__name__}") from exc
    return path
