"""The outbox keeps every queued segment across a kill -9 at any moment, under the same number
and with the same bytes, and removes a segment only once the server has it."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from veil.agent.outbox import JOURNAL, Outbox

from .fakes import fake_server

ROOT = Path(__file__).resolve().parents[2]


def test_queue_then_sent_removes_the_file_and_journals_both(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out")
    rec, resumed = box.begin()
    assert not resumed and box.next_seq == 0
    item = box.queue(0, b"segment-0", 12.0)
    assert item.path.read_bytes() == b"segment-0" and box.next_seq == 1
    assert oct((tmp_path / "out").stat().st_mode & 0o777) == "0o700"
    assert [p.seq for p in box.pending()] == [0]
    box.sent(item, "x")
    assert box.pending() == [] and not item.path.exists()
    lines = (tmp_path / "out" / JOURNAL).read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["queued", "sent"]
    assert rec == box.recording_id


def test_out_of_order_queue_is_refused(tmp_path: Path) -> None:
    from veil.exceptions import OutputError

    box = Outbox(tmp_path)
    box.begin()
    with pytest.raises(OutputError):
        box.queue(3, b"x", 1.0)


def test_a_crash_continues_the_recording_a_clean_stop_starts_a_new_one(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    rec, _ = box.begin()
    box.queue(0, b"a", 1.0)
    again = Outbox(tmp_path)  # no close(): as after a kill
    assert again.begin() == (rec, True) and again.next_seq == 1
    again.close()
    fresh = Outbox(tmp_path)
    new, resumed = fresh.begin()
    assert new != rec and not resumed and fresh.next_seq == 0
    assert [p.seq for p in fresh.pending()] == [0]  # the old recording's segment still waits


def test_start_repairs_what_a_kill_left(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    rec, _ = box.begin()
    box.queue(0, b"a", 1.0)
    one = box.queue(1, b"b", 1.0)
    # Killed after the server took segment 1 and the journal said so, before the file went:
    box._append("sent", rec, 1, "h")
    # ... and the state file lagging behind a segment renamed into place:
    (box.segments / f"{rec}.00000002.zip").write_bytes(b"c")
    (box.segments / ".tmp-half").write_bytes(b"half")  # a segment being written: never queued
    with (tmp_path / JOURNAL).open("a") as fh:
        fh.write('{"event": "sent", "recording_id": "')  # a torn line
    again = Outbox(tmp_path)
    assert not one.path.exists() and not (box.segments / ".tmp-half").exists()
    assert [p.seq for p in again.pending()] == [0, 2]
    assert again.begin() == (rec, True) and again.next_seq == 3
    again.queue(3, b"d", 1.0)  # the journal goes on after the torn line
    assert sum(1 for line in (tmp_path / JOURNAL).read_text().splitlines() if '"seq": 3' in line) == 1


CHILD = r"""
import os, sys, time
from pathlib import Path
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from veil.agent.client import ServerClient
from veil.agent.outbox import Outbox
from veil.agent.uploader import Uploader
from tests.agent.fakes import fake_segment

folder, url, pem, total = Path(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), int(sys.argv[4])
box = Outbox(folder)
if box.state.get("recording_id") and not box.state.get("open") and box.next_seq >= total:
    # The last child finished and closed the recording, but was killed before saying so.
    uploader = Uploader(box, ServerClient(url, "dev-1", load_pem_private_key(pem, None), 5.0), every=0.01)
    uploader.start()
    uploader.stop(drain_seconds=30)
    print("done", flush=True)
    sys.exit(0)
box.begin()
client = ServerClient(url, "dev-1", load_pem_private_key(pem, None), 5.0)
uploader = Uploader(box, client, every=0.01)
uploader.start()
while box.next_seq < total:
    # A new body each time: a segment sent again under another body would be refused (409).
    box.queue(box.next_seq, fake_segment(box.recording_id, box.next_seq, os.urandom(2000)), 1.0)
    time.sleep(0.05)  # 40 segments over 2 s or more: the kills (0.8-2 s after start) land inside
uploader.stop(drain_seconds=30)
box.close()
print("done", flush=True)
"""


def test_kill_9_at_any_moment_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    total, kills, rng = 40, 0, random.Random(7)
    with fake_server({"dev-1": key.public_key()}) as server:
        server.state["recording"] = True
        for attempt in range(8):
            child = subprocess.Popen(
                [sys.executable, str(script), str(tmp_path / "out"), server.url, pem, str(total)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:  # killed at a random moment the first six times, then left to finish
                child.wait(timeout=0.8 + rng.random() * 1.2 if attempt < 6 else 120)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                child.wait()
                kills += 1
                continue
            assert child.stdout is not None and child.stdout.read().strip() == b"done"
            break
        else:
            pytest.fail("the child never finished")
    assert kills >= 2, "the test must interrupt the child"
    assert 409 not in server.answers and 422 not in server.answers
    seqs = sorted(seq for (_dev, _rec, seq) in server.stored)
    assert seqs == list(range(total))  # none lost, none stored twice under two numbers
    assert len({rec for (_dev, rec, _seq) in server.stored}) == 1  # one recording, continued
    assert Outbox(tmp_path / "out").pending() == []


def test_one_agent_per_outbox(tmp_path: Path) -> None:
    from veil.exceptions import OutputError

    first = Outbox(tmp_path)
    first.lock()
    with pytest.raises(OutputError, match="another veil record"):
        Outbox(tmp_path).lock()
    first.unlock()
    Outbox(tmp_path).lock()  # free again
