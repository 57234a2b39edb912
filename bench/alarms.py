"""Alarm evaluation cost and latency: what calling `AlarmLog.evaluate` often costs.

    .venv/bin/python -m bench.alarms [--history 10000] [--burst 200] [--json out.json]

A throwaway Veil home; `history` object-read entries by 50 analysts spread over the past weeks, one
evaluation to take them in, then a leaver's burst of `burst` reads (0.9 s apart on the ledger's clock)
evaluated every 15 s of that clock. Printed: the wall time of the catch-up evaluation, of an evaluation
with nothing new, of each tick during the burst, and the alarm latency (ledger time from the first
burst read to the tick that raised each alarm)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def run(history: int, burst: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="veil-bench-alarms-"))
    os.environ["VEIL_HOME"] = str(home)
    import veil.audit.store as ledger_store
    from veil.access.alarm_log import AlarmLog
    from veil.access.directory import Directory
    from veil.audit.events import ObjectReadEvent
    from veil.audit.store import Ledger
    from veil.options import AlarmOptions

    clock = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]  # a Monday
    ledger_store._now = lambda: clock[0]  # the ledger stamps entries with the bench's clock
    ledger = Ledger.open(f"sqlite:///{home / 'ledger.sqlite3'}", home / "keys")
    directory = Directory.open(f"sqlite:///{home / 'catalog.sqlite3'}", ledger=ledger)
    owners = {f"rec-{i:05d}": f"emp-{i % 400:03d}" for i in range(max(history, burst))}
    rids = list(owners)
    log = AlarmLog(directory.engine, ledger, AlarmOptions(), owner_of=owners.get)
    for i in range(history):  # 50 analysts, each on their own 8 owners, weekday working hours
        day = clock[0].date()
        clock[0] += timedelta(minutes=3)
        if clock[0].hour >= 18:
            day += timedelta(days=1)
            while day.isoweekday() > 5:
                day += timedelta(days=1)
            clock[0] = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        who = i % 50
        rid = rids[(who * 8 + i % 8) * 10 % len(rids)]
        ledger.append(ObjectReadEvent(f"analyst-{who:02d}", f"o-{rid}", rid, "redacted"))
    t = time.perf_counter()
    caught_up = log.evaluate(clock[0])
    catch_up = time.perf_counter() - t
    t = time.perf_counter()
    log.evaluate(clock[0])
    idle = time.perf_counter() - t
    directory.add_user("l.park", "analyst", by="bench")
    directory.mark_leaving("l.park", by="bench", reason="notice")
    start = clock[0]  # a working day's afternoon or morning, where the history stopped
    first = start + timedelta(seconds=0.4)
    ticks: list[float] = []
    raised: dict[str, float] = {}
    next_tick = start + timedelta(seconds=15)
    for i in range(burst + 60):
        clock[0] = first + timedelta(seconds=0.9 * i)
        if i < burst:
            ledger.append(ObjectReadEvent("l.park", f"o-{rids[i]}", rids[i], "redacted"))
        if clock[0] >= next_tick:
            t = time.perf_counter()
            for alarm in log.evaluate(next_tick):
                raised.setdefault(alarm.rule, (next_tick - first).total_seconds())
            ticks.append(time.perf_counter() - t)
            next_tick += timedelta(seconds=15)
    return {
        "history_entries": history,
        "burst_reads": burst,
        "false_alarms_in_history": [f"{a.rule}:{a.account}" for a in caught_up],
        "catch_up_evaluation_s": round(catch_up, 3),
        "idle_evaluation_ms": round(idle * 1000, 1),
        "tick_evaluation_ms_median": round(statistics.median(ticks) * 1000, 1),
        "tick_evaluation_ms_max": round(max(ticks) * 1000, 1),
        "alarm_latency_s": raised,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.history, args.burst)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
