"""The real capture agent (`veil record`'s Recorder, with a scripted screen and engines that read
nothing) against the real server over HTTP: segments arrive signed and are stored once, and a pause
from the employee portal stops the capture within a poll."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.agent.fakes import ScriptedScreen, ScriptedWindows, fast_step
from tests.server.conftest import complete_gate, csrf_of, login, running
from veil.agent.client import ServerClient
from veil.agent.outbox import Outbox
from veil.agent.recorder import Recorder, RecordOptions, Status
from veil.options import Policy
from veil.server import queries
from veil.server.agent_api import register_device
from veil.server.context import Context
from veil.server.db import RecordingRow, SegmentRow, utc

POLL = 0.5  # seconds between the agent's state polls


def _policy() -> Policy:
    agent = {"fps_cap": 10.0, "segment_seconds": 2.0, "heartbeat_seconds": 30.0, "poll_seconds": POLL}
    return Policy.model_validate({"agent": agent})


def _agent(ctx: Context, url: str) -> ServerClient:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return ServerClient(url, register_device(ctx, "emp.one", pem, "test"), key, timeout=5.0)


def _record(tmp_path: Path, client: ServerClient, seconds: float) -> tuple[Status, Outbox]:
    options = RecordOptions(tmp_path / "agent", _policy(), duration=seconds)
    recorder = Recorder(options, ScriptedScreen(), ScriptedWindows(), client=client, step_factory=fast_step)
    return recorder.run(), Outbox(options.folder / "outbox")


def test_agent_segments_are_stored_once_by_the_server(tmp_path: Path, app: FastAPI, ctx: Context) -> None:
    complete_gate(ctx)
    with running(app) as url:
        status, box = _record(tmp_path, _agent(ctx, url), 4.5)
    assert status.segments >= 2, status
    assert box.pending() == []  # every segment acknowledged (201) and removed from the outbox
    with ctx.session() as s:
        rows = s.query(SegmentRow).all()
        assert sorted(r.seq for r in rows) == list(range(status.segments))
        rec = s.get(RecordingRow, status.recording_id)
        assert rec is not None and rec.owner == "emp.one" and rec.segments == status.segments


def test_pause_in_the_portal_stops_the_real_agent(
    tmp_path: Path, app: FastAPI, ctx: Context, client: TestClient
) -> None:
    complete_gate(ctx)
    login(client, "emp.one")
    paused_at: list[datetime] = []
    with running(app) as url:
        agent = _agent(ctx, url)

        def pause_after(seconds: float) -> None:
            time.sleep(seconds)
            client.post("/me/pause", data={"csrf": csrf_of(client, "/me")})
            paused_at.append(datetime.now(UTC))

        pauser = threading.Thread(target=pause_after, args=(2.5,))
        pauser.start()
        status, _ = _record(tmp_path, agent, 6.0)
        pauser.join()
        assert agent.state().reason == "paused-by-employee"
    assert status.segments >= 1, status  # it did record before the pause
    last = max(_frame_times(ctx))
    # No frame captured later than one poll (and slack for a loaded machine) after the pause;
    # without the pause the agent would go on for 3.5 s more.
    assert last <= paused_at[0] + timedelta(seconds=POLL + 1.5), (last, paused_at)


def _frame_times(ctx: Context) -> list[datetime]:
    """Each stored frame's capture time, from the segments' text layers (read as an analyst)."""
    times = []
    with ctx.session() as s:
        rows = [(r.recording_id, r.seq, utc(r.started_at)) for r in s.query(SegmentRow).all()]
    for recording_id, seq, started in rows:
        layer = queries.segment_member(ctx, recording_id, seq, "textlayer.jsonl", "ana.one")
        times += [started + timedelta(seconds=json.loads(line)["t"]) for line in layer.splitlines()]
    return times
