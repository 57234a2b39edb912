"""`redact_file(engine="ray")` with the real engines on a generated recording: the output is
pixel-identical to the local pool's, a value visible across a segment cut is masked on both sides,
and an actor killed mid-segment (`veil.faults` kill-once, SIGKILL) leaves the same output and
exactly one ledger record of the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from veil.api import RunOptions, redact_file
from veil.audit.record import ledger_key_dir
from veil.audit.store import Ledger, default_ledger_url
from veil.capture.open import open_source
from veil.models import Box
from veil.options import Policy, VideoOptions
from veil.synth.fakedata import STRUCTURED_TYPES
from veil.synth.recording import RecordingTruth, make_recording

pytestmark = pytest.mark.slow
SEGMENT = 2  # cuts between frames 1|2 and 3|4 of the six
POLICY = Policy()
POLICY = POLICY.model_copy(update={"ocr": POLICY.ocr.model_copy(update={"threads": 1})})


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> RecordingTruth:
    return make_recording(
        tmp_path_factory.mktemp("rec") / "rec.mp4", seed=3, seconds=3, fps=2, size=(640, 360),
        languages=("en", "fr"), kinds=("form", "email"),
    )  # fmt: skip


def redact(
    truth: RecordingTruth, out: Path, engine: str, workers: int = 2, segment: int = SEGMENT
) -> tuple[dict[str, Any], str, list[Any]]:
    redact_file(
        truth.path, RunOptions(POLICY, output=out, workers=workers, segment_frames=segment, engine=engine)
    )
    report = json.loads(out.with_suffix(".report.json").read_text(encoding="utf-8"))
    layer = out.with_suffix(".textlayer.jsonl").read_text(encoding="utf-8")
    return report, layer, [f.pixels for f in open_source(out, VideoOptions()).frames()]


def masked(report: dict[str, Any], index: int, box: Box) -> bool:
    frame = report["frames"][index]
    boxes = [Box(*b) for f in frame["findings"] for b in f["boxes"]]
    return bool(frame.get("masked_whole")) or any(b.intersection_area(box) for b in boxes)


def across_cuts(truth: RecordingTruth) -> list[tuple[int, Any]]:
    """(cut, item): personal values drawn at the same place on both sides of a segment cut."""
    out = []
    for cut in range(SEGMENT, truth.frame_count, SEGMENT):
        before = {(i.box, i.type) for i in truth.items(cut - 1) if not i.decoy}
        for item in truth.items(cut):
            if not item.decoy and item.type in STRUCTURED_TYPES and (item.box, item.type) in before:
                out.append((cut, item))
    return out


def test_killed_actor_same_output_as_local_one_ledger_record_masks_across_cuts(
    ray: Any, truth: RecordingTruth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = redact(truth, tmp_path / "local.mp4", "local")
    marker = tmp_path / "killed"
    # The first actor to reach frame 3 (second segment, after its full read) dies as `kill -9`.
    monkeypatch.setenv("VEIL_FAULT_INJECTION", f"kill-once:segment-frame-3:{marker}")
    url, keys = default_ledger_url(), ledger_key_dir(POLICY)
    with Ledger.open(url, keys) as ledger:
        before = ledger.size()
    remote = redact(truth, tmp_path / "ray.mp4", "ray")
    assert marker.exists()  # the actor was killed
    with Ledger.open(url, keys) as ledger:
        assert ledger.size() - before == 2  # capture + redaction summary: once, not per attempt
    (r1, l1, p1), (r2, l2, p2) = local, remote
    assert r2["summary"]["change_tracking"]["workers"] == 2
    assert r2["summary"]["change_tracking"]["workers_lost"] == 1
    assert r1["frames"] == r2["frames"] and len(r1["frames"]) == truth.frame_count
    assert l1 == l2
    assert all(np.array_equal(a, b) for a, b in zip(p1, p2, strict=True))
    # The same recording in one segment (no cut): every value it masks on either side of a cut,
    # the cut run masks on both sides; the cut loses no mask.
    uncut = redact(truth, tmp_path / "uncut.mp4", "local", workers=1, segment=truth.frame_count)[0]
    crossing = [(cut, item) for cut, item in across_cuts(truth)
                if masked(uncut, cut - 1, item.box) or masked(uncut, cut, item.box)]  # fmt: skip
    assert crossing  # the recording does show masked values across the cuts
    for cut, item in crossing:
        for index in (cut - 1, cut):  # the last frame of a segment and the first of the next
            assert masked(r2, index, item.box), (index, item.type)
