"""`veil mine` writes events.csv in memory that does not grow with the log, with the bytes the
whole-table writer (`write_csv(event_table(...))`) wrote; segmentation and ranking keep their
per-event working state in arrays (see bench/README.md, Scale, for what still grows)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.uilog_streams import Kind, StreamSpec, build

from veil.mining.actionlogger import read_action_logger
from veil.mining.base import Action, Segmentation, UIEvent
from veil.mining.export import event_table, write_csv, write_events_csv
from veil.mining.routines import rank_candidates
from veil.mining.segment import segment


def _log(n: int) -> tuple[list[UIEvent], Segmentation]:
    """`n` events cycling through a few steps (some with extra columns, some with cells that need
    quoting), every fifth one noise and every seventh outside any case."""
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    extras = [
        (),
        (("tag", "b"),),
        (("tag", "a, quoted"), ("xpath", '/div[@id="x"]')),
        (("note", "two\nlines"),),
    ]
    steps = [
        ("Excel", Action.COPY, "Sheet1!A", "<text>"),
        ("Chrome", Action.PASTE, 'Name, "first"', "<text>"),
        ("Chrome", Action.CLICK, "Submit", ""),
    ]
    events = []
    for i in range(n):
        app, action, target, value = steps[i % len(steps)]
        stamp = start + timedelta(milliseconds=1500 * i + 7 * (i % 11))
        events.append(
            UIEvent(
                stamp, f"u-{i % 4}", app, app, f"{app}/x", action, target, value, "", "log.csv", extras[i % 4]
            )
        )
    cases = tuple("" if i % 7 == 0 else f"case-{i // 30:05d}" for i in range(n))
    types = tuple(-1 if i % 7 == 0 else (i // 30) % 3 for i in range(n))
    noise = tuple(i % 5 == 0 for i in range(n))
    return events, Segmentation(cases, types, noise)


def _peak(work: Callable[[], object]) -> int:
    """Bytes allocated at the peak of `work` over what was held before it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        work()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_events_csv_is_written_in_memory_that_does_not_grow_with_the_log(tmp_path: Path) -> None:
    n = 15_000
    events, seg = _log(4 * n)
    small = Segmentation(seg.cases[:n], seg.types[:n], seg.noise[:n])
    names = {0: "Copy the row", 1: "Send the form"}
    peak_n = _peak(lambda: write_events_csv(events[:n], small, names, tmp_path / "n.csv"))
    peak_4n = _peak(lambda: write_events_csv(events, seg, names, tmp_path / "4n.csv"))
    # The whole table (a dict per row, then a DataFrame) took ~0.5 KB an event: 4x the events,
    # 4x the peak. Row by row, the peak is the writer's buffer and a few caches.
    assert peak_4n < 1.5 * peak_n + 64 * 1024, (peak_n, peak_4n)
    assert peak_4n < 2 * 1024 * 1024, peak_4n
    written = (tmp_path / "4n.csv").read_text(encoding="utf-8")
    assert written.count("case-") > n and '"Name, ""first"""' in written


def test_events_csv_has_the_bytes_of_the_whole_table(tmp_path: Path) -> None:
    events, seg = _log(500)
    names = {0: "Copy the row"}  # type 1 and 2 fall back on type-N
    write_events_csv(events, seg, names, tmp_path / "rows.csv")
    write_csv(event_table(events, seg, names), tmp_path / "table.csv")
    assert (tmp_path / "rows.csv").read_bytes() == (tmp_path / "table.csv").read_bytes()
    # A real stream: its many unknown columns, each on some rows only, in their first order.
    stream = build(StreamSpec(types=("Reimbursement", "StudentRecord"), kind=Kind.INTERLEAVED, seed=2))
    log = tmp_path / "stream.csv"
    stream.frame().to_csv(log, index=False)
    real = read_action_logger(log)
    found = segment(real)
    named = {c.type_id: c.name for c in rank_candidates(real, found)}
    write_events_csv(real, found, named, tmp_path / "real-rows.csv")
    write_csv(event_table(real, found, named), tmp_path / "real-table.csv")
    rows = (tmp_path / "real-rows.csv").read_bytes()
    assert rows == (tmp_path / "real-table.csv").read_bytes()
    assert rows.count(b"extra.") >= 2
