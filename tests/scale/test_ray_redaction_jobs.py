"""`veil serve --engine ray` (#17): a batch redaction job runs its recording's segments on Ray
actors and stores the same output as the server's local run of the same upload."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.server.conftest import gated_server, login
from tests.server.test_redaction_jobs_e2e import hand_in
from veil.server.db import SegmentRow
from veil.synth.recording import make_recording

pytestmark = pytest.mark.slow

LABEL = re.compile(r"<([a-z_]+):([0-9a-f]{8})>")


def same_but_labels(ours: str, theirs: str) -> bool:
    """Equal text layers up to the value labels, which are keyed by each server's host key (two
    servers here, two Veil homes): the same placeholders, the same values linked (one label for
    one label, both ways)."""
    if LABEL.sub(r"<\1>", ours) != LABEL.sub(r"<\1>", theirs):
        return False
    pairs = set(zip(LABEL.findall(ours), LABEL.findall(theirs), strict=True))
    return len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs}) and bool(pairs)


def _redact_on_a_server(folder: Path, recording: Path, engine: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with gated_server(folder, engine=engine, watch_alarms=False, retention_sweep_seconds=0) as (ctx, client):
        login(client, "dpo.one")
        job = hand_in(client, recording)
        with ctx.session() as s:
            (object_id,) = s.scalars(select(SegmentRow.object_id)).all()
        with zipfile.ZipFile(io.BytesIO(ctx.sink.get(object_id, actor="ana.one"))) as archive:
            members: dict[str, Any] = {n: archive.read(n) for n in ("redacted.mp4", "textlayer.jsonl")}
            members["report"] = json.loads(archive.read("report.json"))
            return job, members


def test_a_redaction_job_on_ray_stores_what_the_local_run_stores(ray: Any, tmp_path: Path) -> None:
    truth = make_recording(
        tmp_path / "rec.mp4", seed=5, seconds=1, fps=2, size=(640, 360), languages=("en",), kinds=("form",)
    )
    local, ours = _redact_on_a_server(tmp_path / "local", truth.path, "local")
    remote, theirs = _redact_on_a_server(tmp_path / "ray", truth.path, "ray")
    assert local["status"] == remote["status"] == "done", (local, remote)
    assert remote["engine"] == "ray" and remote["frames"] == local["frames"] == truth.frame_count
    # Ray actors did the work (their peak memory is reported), and the output is the local one's.
    assert "actor_peak_rss_mb" in theirs["report"]["summary"]["change_tracking"]
    assert "actor_peak_rss_mb" not in ours["report"]["summary"]["change_tracking"]
    assert ours["redacted.mp4"] == theirs["redacted.mp4"]
    assert same_but_labels(ours["textlayer.jsonl"].decode(), theirs["textlayer.jsonl"].decode())
