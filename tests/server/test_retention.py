"""Retention inside `veil serve` (#16): recordings past the deletion date the portal shows are
crypto-shredded and dropped from every list without anyone running `veil store expire`; one
deletion entry per object in the ledger; nothing before its date is touched."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.server.conftest import (
    PASSWORD,
    USERS,
    Device,
    complete_gate,
    make_device,
    segment_zip,
    settings_for,
    upload,
)
from veil.exceptions import StoreError
from veil.server import queries, retention
from veil.server.app import create_app
from veil.server.context import Context
from veil.server.db import RecordingRow, SegmentRow


def _objects(ctx: Context, recording_id: str) -> list[str]:
    with ctx.session() as s:
        return list(s.scalars(select(SegmentRow.object_id).where(SegmentRow.recording_id == recording_id)))


def test_a_sweep_shreds_what_is_due_and_only_that(client: TestClient, ctx: Context, device: Device) -> None:
    complete_gate(ctx)
    for seq in (0, 1):
        body = segment_zip("rec-old", seq)
        assert upload(client, device, body, recording_id="rec-old", seq=seq).status_code == 201
    assert upload(client, device, segment_zip("rec-new"), recording_id="rec-new").status_code == 201
    old, new = _objects(ctx, "rec-old"), _objects(ctx, "rec-new")
    with ctx.session() as s:  # rec-old was stored long ago: its date has come
        row = s.get(RecordingRow, "rec-old")
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)

    swept = retention.sweep(ctx)
    assert swept.recordings == 1 and swept.objects == 2
    for object_id in old:  # the data key is gone: not even the store's owner reads it back
        with pytest.raises(StoreError):
            ctx.sink.get(object_id, actor="ana.one")
    assert ctx.sink.get(new[0], actor="ana.one")  # not due: untouched
    deletions, _ = queries.ledger_entries(ctx, ("deletion",))
    assert sorted(e.event["recording_id"] for e in deletions) == ["rec-old", "rec-old"]
    listed, total = queries.recordings(ctx)
    assert [r.recording_id for r in listed] == ["rec-new"] and total == 1
    assert _objects(ctx, "rec-old") == []
    assert retention.sweep(ctx) == (0, 0)  # a second pass finds nothing more


def test_the_server_sweeps_on_its_own(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, retention_days=0, retention_sweep_seconds=0.2, watch_alarms=False)
    app = create_app(settings)
    ctx: Context = app.state.ctx
    for name, role in USERS.items():
        ctx.directory.add_user(name, role, password=PASSWORD, by="test")
    complete_gate(ctx)
    try:
        with TestClient(app, follow_redirects=False) as client:  # runs the lifespan: the sweeper starts
            device = make_device(ctx)
            assert upload(client, device, segment_zip("rec-1"), recording_id="rec-1").status_code == 201
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and queries.recordings(ctx)[1]:
                time.sleep(0.1)
            assert queries.recordings(ctx)[1] == 0
            deletions, _ = queries.ledger_entries(ctx, ("deletion",))
            assert [e.event["recording_id"] for e in deletions] == ["rec-1"]
    finally:
        ctx.close()
