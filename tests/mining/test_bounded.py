"""`veil mine` on Action Logger CSVs takes the bounded path (`veil.mining.bounded`): its outputs
are byte for byte those of the in-memory path, its peak memory does not grow with the log, and
its working folder is private, holds no pseudonym and is gone however the run ends."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from bench.mining_scale import write_log
from bench.uilog_streams import Kind, StreamSpec, build

from veil.mining import bounded, cli, eventstore, external_sort
from veil.mining.base import Action
from veil.mining.bounded_export import iso_millis
from veil.mining.cli import MineOptions, _summary_json, mine
from veil.mining.export import activity
from veil.mining.fieldtables import activity_of
from veil.mining.segment import SegmentOptions
from veil.mining.spill import PREFIX

_GENERATED = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks, runs and merge buffers far smaller than the log: sessions straddle blocks, the
    sorts merge many runs, instances straddle merged blocks."""
    monkeypatch.setattr(eventstore, "BLOCK_EVENTS", 97)
    monkeypatch.setattr(external_sort, "RUN_ROWS", 333)
    monkeypatch.setattr(external_sort, "BLOCK_ROWS", 41)


def _outputs(
    logs: list[Path], out: Path, opt: MineOptions, monkeypatch: pytest.MonkeyPatch, in_memory: bool
) -> dict[str, bytes]:
    with monkeypatch.context() as m:
        if in_memory:
            m.setattr(cli, "bounded_fits", lambda *_a: False)
        summary = mine(logs, out, opt)
    return {
        "events.csv": (out / "events.csv").read_bytes(),
        "report.html": _GENERATED.sub(b"", (out / "report.html").read_bytes()),
        "candidates": json.dumps(_summary_json(summary)["candidates"]).encode(),
    }


def test_the_bounded_path_writes_the_bytes_of_the_in_memory_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_log: tuple[Path, list[dict[str, str]]]
) -> None:
    generated = tmp_path / "generated.csv"
    write_log(generated, 6_000)  # several people, each a copy of a real stream
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    build(
        StreamSpec(types=("Reimbursement", "StudentRecord"), kind=Kind.INTERLEAVED, seed=3, noise=0.1)
    ).frame().to_csv(first, index=False)
    no_user = build(
        StreamSpec(types=("StudentRecord", "CopyPaste"), kind=Kind.STRONG, seed=5, noise=0.1)
    ).frame()
    no_user.drop(columns=["userID"], errors="ignore").to_csv(second, index=False)
    _small_blocks(monkeypatch)
    # A small join sample: the samples the segmentation learns on end inside the log.
    opt = MineOptions(xes=False, segment=SegmentOptions(join_sample=700))
    # The synthetic log: extra cells on every row, six people (the report's per-group hours).
    for k, logs in enumerate(([generated], [first, second], [small_log[0]])):
        before = _outputs(logs, tmp_path / f"memory-{k}", opt, monkeypatch, in_memory=True)
        after = _outputs(logs, tmp_path / f"bounded-{k}", opt, monkeypatch, in_memory=False)
        assert after == before
        assert before["events.csv"].count(b"case-") > 100


def test_timestamps_and_activities_are_written_as_the_events_write_them() -> None:
    from datetime import UTC, datetime, timedelta

    rng = np.random.default_rng(7)
    micros = rng.integers(-(10**15), 4 * 10**15, 2_000)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    expected = [(epoch + timedelta(microseconds=int(m))).isoformat(timespec="milliseconds") for m in micros]
    assert iso_millis(micros) == expected
    from veil.mining.base import UIEvent

    for app, action, target in (
        ("Excel", Action.COPY, "Sheet1!A"),
        ("", Action.SCROLL, ""),
        ("x", Action.OTHER, " t "),
    ):
        event = UIEvent(epoch, "u", app, app, "s", action, target)
        assert activity_of(app, action, target) == activity(event)


def _files_hold(folder: Path, needles: set[bytes]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found.extend(f"{path.name}: {n!r}" for n in needles if n in data)
    return found


def _watch(monkeypatch: pytest.MonkeyPatch, seen: dict[str, object], fail: BaseException | None) -> None:
    """Look into the spill folder once the segmentation is done (every file is there), then
    go on, or fail with `fail`."""
    segment_store = bounded.segment_store

    def watched(store: eventstore.EventStore, *args: object) -> object:
        result = segment_store(store, *args)  # type: ignore[arg-type]
        folder = store.events.path.parent
        seen["folder"] = folder
        seen["mode"] = stat.S_IMODE(folder.stat().st_mode)
        seen["files"] = sorted(p.name for p in folder.iterdir())
        tokens = {t.encode() for fields in store.vocab.fields.items for t in fields[8]}
        texts = {s.encode() for fields in store.vocab.fields.items for s in fields[:3] if len(s) >= 8}
        seen["tokens"] = len(tokens)
        seen["leaks"] = _files_hold(folder, tokens | texts)
        if fail is not None:
            raise fail
        return result

    monkeypatch.setattr(bounded, "segment_store", watched)


@pytest.mark.parametrize(
    "fail", [None, RuntimeError("injected"), KeyboardInterrupt()], ids=["success", "error", "interrupt"]
)
def test_the_spill_folder_is_private_holds_no_pseudonym_and_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: BaseException | None
) -> None:
    log = tmp_path / "stream.csv"
    build(
        StreamSpec(types=("Reimbursement", "StudentRecord"), kind=Kind.INTERLEAVED, seed=2, instances=6)
    ).frame().to_csv(log, index=False)
    out = tmp_path / "out"
    out.mkdir()  # the spill folder goes inside the output folder when it exists
    seen: dict[str, object] = {}
    _watch(monkeypatch, seen, fail)
    run: Callable[[], object] = lambda: mine([log], out, MineOptions(xes=False))  # noqa: E731
    if fail is None:
        run()
        assert (out / "events.csv").is_file()
    else:
        with pytest.raises(type(fail)):
            run()
    folder = seen["folder"]
    assert isinstance(folder, Path) and folder.parent == out and folder.name.startswith(PREFIX)
    assert seen["mode"] == 0o700
    assert "events.rec" in seen["files"]  # type: ignore[operator]
    assert seen["tokens"] and seen["leaks"] == []
    assert not folder.exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(PREFIX)] == []


def test_without_an_output_folder_yet_the_spill_folder_is_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "stream.csv"
    build(
        StreamSpec(types=("Reimbursement", "StudentRecord"), kind=Kind.SEQUENTIAL, seed=1, instances=4)
    ).frame().to_csv(log, index=False)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    seen: dict[str, object] = {}
    _watch(monkeypatch, seen, None)
    mine([log], tmp_path / "new" / "out", MineOptions(xes=False))
    assert isinstance(seen["folder"], Path) and seen["folder"].parent == temp
    assert list(temp.iterdir()) == []


_PEAK = """
import sys, tracemalloc
from pathlib import Path
from veil.mining import actionlogger, bounded_segment, eventstore, external_sort
from veil.mining.cli import MineOptions, mine
from veil.mining.segment import SegmentOptions
# Everything read, sorted or learnt on a chunk at a time, far smaller than the logs measured.
actionlogger.CHUNK_ROWS = 2_000
eventstore.BLOCK_EVENTS = 2_048
external_sort.RUN_ROWS = 4_096
external_sort.BLOCK_ROWS = 512
bounded_segment.LEARN_EVENTS = 1_000
tracemalloc.start()
opt = MineOptions(xes=False, segment=SegmentOptions(join_sample=1_000))
mine([Path(sys.argv[1])], Path(sys.argv[2]), opt)
print(tracemalloc.get_traced_memory()[1])
"""


def _peak(log: Path, out: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(log), str(out)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_veil_mine_peak_memory_does_not_grow_with_the_log(tmp_path: Path) -> None:
    n = 10_000
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write_log(small, n)
    write_log(large, 4 * n)
    peak_n = _peak(small, tmp_path / "out-small")
    peak_4n = _peak(large, tmp_path / "out-large")
    # The in-memory path held every event (~190 bytes) and per-event arrays: 4x the events, more
    # than 3x the peak. Bounded, the peak is the chunks', blocks' and tables' (a few per cent
    # more for 4 bytes per instance and a float per instance).
    assert peak_4n < 1.3 * peak_n, (peak_n, peak_4n)


_MINE = """
import hashlib, json, re, sys
from pathlib import Path
from veil.mining.cli import MineOptions, _summary_json, mine
out = Path(sys.argv[2])
summary = mine([Path(sys.argv[1])], out, MineOptions(xes=False))
report = re.sub(rb"\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC", b"", (out / "report.html").read_bytes())
found = (out / "events.csv").read_bytes() + report + json.dumps(_summary_json(summary)["candidates"]).encode()
print(hashlib.sha256(found).hexdigest())
"""


def test_the_bounded_path_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    log = tmp_path / "stream.csv"
    spec = StreamSpec(
        types=("StudentRecord", "CopyPaste"), kind=Kind.INTERLEAVED, seed=4, instances=8, noise=0.1
    )
    build(spec).frame().to_csv(log, index=False)
    digests = set()
    for seed in ("0", "5"):
        done = subprocess.run(
            [sys.executable, "-c", _MINE, str(log), str(tmp_path / f"out-{seed}")],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(done.stdout.strip().splitlines()[-1])
    assert len(digests) == 1
