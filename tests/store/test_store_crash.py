"""Crashes and races: kill -9 a `veil store put` at every step of its write order and at random
moments, then rerun; two processes racing for the same slots (SQLite and PostgreSQL catalogs).
After the rerun and a reconcile: the same objects, one ledger entry each, no object without its
entry and no entry without its object."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from veil.audit import Ledger
from veil.store.ledgerio import ledger_events
from veil.store.store import RecordingStore, backend_key

from .child import payload

ROOT = Path(__file__).resolve().parents[2]
PUT_POINTS = [
    "store-chunk-written",
    "store-object-written",
    "store-catalog-committed",
    "store-ledger-appended",
]


def env(home: Path, **extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("VEIL_")}
    pythonpath = os.pathsep.join([str(ROOT / "src"), str(ROOT), out.get("PYTHONPATH", "")])
    return out | {"VEIL_HOME": str(home), "PYTHONPATH": pythonpath, **extra}


def veil_put(
    home: Path, src: Path, segment: int, fault: str | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "veil", "store", "put", str(src), "--recording", "rec", "--owner", "u",
           "--policy-version", "1", "--class", "raw", "--segment", str(segment), "-q"]  # fmt: skip
    extra = {"VEIL_FAULT_INJECTION": f"kill:{fault}"} if fault else {}
    return subprocess.run(
        cmd, env=env(home, **extra), capture_output=True, text=True, timeout=120, check=False
    )


def veil_expire(home: Path) -> dict[str, object]:
    cmd = [sys.executable, "-m", "veil", "store", "expire", "--orphans-after", "0", "--json"]
    done = subprocess.run(cmd, env=env(home), capture_output=True, text=True, timeout=120, check=True)
    return dict(json.loads(done.stdout))


def check_consistent(home: Path, expected: dict[tuple[str, int], bytes]) -> None:
    """Rows, backend files and ledger entries agree one to one, and every object reads back."""
    with Ledger.open(f"sqlite:///{home / 'ledger.sqlite3'}", home / "ledger-keys") as ledger:
        ledger.verify().raise_for_failure()
        stored = [e["object_id"] for e in ledger_events(ledger, kind="object-stored")]
        store = RecordingStore.open(ledger=ledger, guard=AllowAll())
        try:
            objects = store.list()
            assert {(o.recording_id, o.segment) for o in objects} == set(expected)
            assert len(objects) == len(expected)
            assert sorted(stored) == sorted(o.object_id for o in objects)  # one entry each, no other
            files = {
                p.relative_to(home / "objects").as_posix()
                for p in (home / "objects").rglob("*")
                if p.is_file()
            }
            assert files == {backend_key(o.object_id) for o in objects}
            for o in objects:
                assert store.get(o.object_id, actor="checker") == expected[(o.recording_id, o.segment)]
        finally:
            store.close()


class AllowAll:
    def authorize_read(self, actor: str, obj: object) -> str | None:
        return "test-grant"


@pytest.mark.parametrize("point", PUT_POINTS)
def test_kill_9_at_each_step_then_rerun(home: Path, tmp_path: Path, point: str) -> None:
    src = tmp_path / "segment.bin"
    src.write_bytes(os.urandom(3 << 20))  # three 1 MiB chunks: "chunk written" happens mid-object
    killed = veil_put(home, src, 0, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = veil_put(home, src, 0)
    assert rerun.returncode == 0, rerun.stderr
    assert veil_put(home, src, 0).returncode == 0  # and once more: nothing new
    veil_expire(home)
    check_consistent(home, {("rec", 0): src.read_bytes()})


def test_kill_9_while_shredding_then_rerun(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "segment.bin"
    src.write_bytes(b"x" * 5000)
    assert veil_put(home, src, 0).returncode == 0
    cmd = [sys.executable, "-m", "veil", "store", "expire", "--now", "2100-01-01"]
    killed = subprocess.run(cmd, env=env(home, VEIL_FAULT_INJECTION="kill:store-key-destroyed"),
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert list((home / "objects").rglob(backend_key("")[:-1] + "*"))  # ciphertext still there
    veil_expire(home)
    with Ledger.open(f"sqlite:///{home / 'ledger.sqlite3'}", home / "ledger-keys") as ledger:
        assert len(list(ledger_events(ledger, kind="deletion"))) == 1
        ledger.verify().raise_for_failure()
    assert not [p for p in (home / "objects").rglob("*") if p.is_file()]


def test_kill_9_at_random_moments_then_rerun(home: Path) -> None:
    rng = random.Random(1606)
    n, size = 80, 500_000  # about two seconds of puts, 25 ms each, in 4 KiB chunks
    cmd = [sys.executable, "-m", "tests.store.child", "loop", str(n), str(size)]
    kills = 0
    for _ in range(8):
        proc = subprocess.Popen(cmd, env=env(home), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
    assert kills >= 5
    done = subprocess.run(
        cmd, env=env(home), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    veil_expire(home)
    check_consistent(home, {("loop", i): payload(i, size) for i in range(n)})


@pytest.mark.parametrize("catalog", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_processes_racing_for_the_same_slots(
    home: Path, catalog: str, request: pytest.FixtureRequest
) -> None:
    extra = {} if catalog == "sqlite" else {"VEIL_CATALOG_URL": str(request.getfixturevalue("pg_database"))}
    n, go = 20, time.time() + 4.0
    cmd = [sys.executable, "-m", "tests.store.child", "race", str(n), str(go)]
    procs = [
        subprocess.Popen(
            cmd, env=env(home, **extra), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out))
    assert results[0]["ids"] == results[1]["ids"]  # both got the same object for every slot
    assert results[0]["deletes"] + results[1]["deletes"] == n  # one loser per slot, its object gone
    if catalog == "sqlite":
        check_consistent(home, {("race", i): payload(i, 3000) for i in range(n)})
    else:
        with Ledger.open(f"sqlite:///{home / 'ledger.sqlite3'}", home / "ledger-keys") as ledger:
            stored = [e["object_id"] for e in ledger_events(ledger, kind="object-stored")]
        assert sorted(stored) == sorted(results[0]["ids"])
        files = {p.name for p in (home / "objects").rglob("*") if p.is_file()}
        assert files == set(results[0]["ids"])
