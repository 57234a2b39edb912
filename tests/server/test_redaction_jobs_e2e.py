"""Batch redaction jobs with the real pipeline on a generated two-frame recording: the job's stored
output is `veil redact`'s, byte for byte, with the same policy; no planted value is readable in the
stored video or text layer; the recording is listed for the analyst and the employee; the ledger
verifies and holds the raw upload, the run, the stored object, the outcome and the upload's
deletion. A job that fails (a full disk mid-run, a store that fails after taking the object)
leaves no upload and no output anywhere, and the same recording then goes through."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server.conftest import complete_gate, csrf_of, login
from tests.server.test_redaction_jobs import API, job_folders
from veil.capture.open import open_source
from veil.exceptions import StoreError
from veil.ocr.registry import make_verifier_engine
from veil.options import Policy, VideoOptions
from veil.server import policy, queries
from veil.server.context import Context
from veil.server.db import RecordingRow, RedactionJobRow, SegmentRow
from veil.server.sink import SegmentSink
from veil.synth.recording import RecordingTruth, make_recording

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> RecordingTruth:
    return make_recording(
        tmp_path_factory.mktemp("rec") / "rec.mp4", seed=5, seconds=1, fps=2, size=(640, 360),
        languages=("en",), kinds=("form",),
    )  # fmt: skip


def hand_in(client: TestClient, path: Path) -> dict[str, Any]:
    """Submit as the privacy officer; the TestClient runs the job before it returns."""
    data = {"csrf": csrf_of(client, "/policy"), "owner": "emp.one", "reason": "legacy recordings"}
    with path.open("rb") as fh:
        answer = client.post(API, data=data, files={"recording": ("rec.mp4", fh, "video/mp4")})
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = client.get(f"{API}/{answer.json()['job']['id']}").json()["job"]
    return job


def veil_redact(source: Path, policy_text: str, out: Path) -> None:
    """The command line, on the same input with the same policy."""
    from veil.cli import app

    policy_file = out.parent / "policy.yaml"
    policy_file.write_text(policy_text, encoding="utf-8")
    args = ["redact", str(source), "-o", str(out), "--policy", str(policy_file), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 5), result.output


def stored(ctx: Context, recording_id: str, member: str) -> bytes:
    with ctx.session() as s:
        (object_id,) = s.query(SegmentRow.object_id).filter_by(recording_id=recording_id).one()
    body = ctx.sink.get(object_id, actor="ana.one")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return archive.read(member)


def read_text(video: bytes, folder: Path) -> str:
    """Everything an OCR engine reads on the frames of `video`."""
    path = folder / "stored.mp4"
    path.write_bytes(video)
    engine = make_verifier_engine(Policy().ocr)
    frames = open_source(path, VideoOptions()).frames()
    return "\n".join(line.text for f in frames for line in engine.read(f.pixels))


def test_a_job_stores_what_veil_redact_writes_and_no_planted_value(
    client: TestClient, ctx: Context, truth: RecordingTruth, tmp_path: Path
) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    job = hand_in(client, truth.path)
    assert job["status"] == "done" and job["error"] is None, job
    assert job["frames"] == truth.frame_count and job["engine"] == "local"
    assert job_folders(ctx) == []  # the upload and the run's files are gone
    rid = job["recording_id"]
    # The same as `veil redact` with the same policy, byte for byte.
    veil_redact(truth.path, policy.current(ctx)[1], tmp_path / "cli.mp4")
    video = stored(ctx, rid, "redacted.mp4")
    assert hashlib.sha256(video).digest() == hashlib.sha256((tmp_path / "cli.mp4").read_bytes()).digest()
    layer = stored(ctx, rid, "textlayer.jsonl")
    assert layer == (tmp_path / "cli.textlayer.jsonl").read_bytes()  # value labels keyed on the content
    assert re.search(rb"<[a-z_]+:[0-9a-f]{8}>", layer)
    # No planted value readable: not in the text layer, not by an OCR engine on the stored frames.
    values = {i.value for f in truth.frames for i in f if not i.decoy}
    assert len(values) >= 4
    squeezed = "".join(read_text(video, tmp_path).split())
    raw = "".join(read_text(truth.path.read_bytes(), tmp_path).split())
    assert sum("".join(v.split()) in raw for v in values) >= 3  # the same reading finds them unredacted
    for value in values:
        assert value not in layer.decode("utf-8") and "".join(value.split()) not in squeezed, value
    # A recording like an agent's: the analyst's list and media, the employee's portal.
    login(client, "ana.one")
    assert rid in {r["recording_id"] for r in client.get("/api/v1/recordings").json()["recordings"]}
    assert client.get(f"/recordings/{rid}/0/redacted.mp4").content == video
    assert [r.recording_id for r in queries.recordings(ctx, owner="emp.one")[0]] == [rid]
    # The ledger: verified, with each step of the job.
    assert ctx.ledger.verify().ok
    kinds = ("raw-upload", "capture", "redaction-summary", "object-stored", "redaction-job", "deletion")
    events = {k: [e.event for e in ctx.ledger.entries([k]) if e.event["recording_id"] == rid] for k in kinds}
    assert {kind: len(found) for kind, found in events.items()} == dict.fromkeys(kinds, 1)
    assert events["redaction-summary"][0]["outputs"]["output"] == hashlib.sha256(video).hexdigest()
    assert events["redaction-job"][0]["outcome"] == "done" and events["deletion"][0]["what"] == "raw-upload"
    assert events["deletion"][0]["method"] == "crypto-shred"
    with ctx.session() as s:
        segment = s.query(SegmentRow).filter_by(recording_id=rid).one()
        assert events["redaction-job"][0]["outputs"]["segment"] == segment.body_sha256
        assert segment.device_id == "batch" and segment.ledger_seq is not None
        job_row = s.get(RedactionJobRow, job["id"])
        assert job_row is not None and job_row.wrapped_key is None  # the upload's key is destroyed


class _StoreFailsAfterTaking:
    """A store that takes the object, then fails (its catalog gone): the fault-injection twin of
    the recording store for the step between the object and the server's rows."""

    def __init__(self, real: SegmentSink) -> None:
        self.real = real

    def put(self, data: bytes | BinaryIO, **keys: Any) -> str:
        self.real.put(data, **keys)
        raise StoreError("injected: the catalog went away after the object was stored")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_failed_job_keeps_no_upload_and_no_output_and_the_recording_then_goes_through(
    client: TestClient, ctx: Context, truth: RecordingTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    monkeypatch.setenv("VEIL_FAULT_INJECTION", "enospc:1")  # the disk fills after the first frame
    job = hand_in(client, truth.path)
    monkeypatch.delenv("VEIL_FAULT_INJECTION")
    assert job["status"] == "failed" and "disk full" in job["error"], job
    assert "redaction-jobs" not in job["error"]  # the server's folders are not in the message
    rid = job["recording_id"]
    real = ctx.sink
    ctx.sink = _StoreFailsAfterTaking(real)  # type: ignore[assignment]
    job2 = hand_in(client, truth.path)
    ctx.sink = real
    assert job2["status"] == "failed" and "catalog went away" in job2["error"], job2
    for _ in (job, job2):  # nothing kept: no upload, no run files, no recording, no live object
        assert job_folders(ctx) == []
        with ctx.session() as s:
            assert s.get(RecordingRow, rid) is None and s.query(SegmentRow).count() == 0
        assert ctx.sink.store.list(recording_id=rid)  # type: ignore[attr-defined]
        assert all(o.shredded for o in ctx.sink.store.list(recording_id=rid))  # type: ignore[attr-defined]
    ends = [e.event for e in ctx.ledger.entries(["redaction-job"])]
    outcomes = [(e["job_id"], e["outcome"], e["error"]) for e in ends]
    assert outcomes == [(job["id"], "failed", "OutputError"), (job2["id"], "failed", "StoreError")]
    deleted = [e.event["what"] for e in ctx.ledger.entries(["deletion"])]
    assert deleted.count("raw-upload") == 2 and any(w.startswith("redacted-object") for w in deleted)
    third = hand_in(client, truth.path)  # a retry: nothing of the failed attempts is in the way
    assert third["status"] == "done", third
    login(client, "ana.one")
    assert client.get(f"/recordings/{rid}/0/redacted.mp4").status_code == 200
    assert ctx.ledger.verify().ok
