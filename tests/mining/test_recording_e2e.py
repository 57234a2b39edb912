"""Record -> redact -> mine, end to end: a generated recording of three interleaved
spreadsheet-to-form tasks, redacted by Veil, mined from its text layer alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score

from veil.api import RunOptions, redact_file
from veil.mining.cli import MineOptions, mine
from veil.mining.segment import segment
from veil.mining.synth_video import video_recording
from veil.mining.textlayer import derive_events, read_text_layer
from veil.options import Policy

pytestmark = pytest.mark.slow
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}")  # as the generator writes them
LABEL = re.compile(r"<[a-z_]+:[0-9a-f]{8}>")


def test_instances_are_found_in_a_redacted_recording(tmp_path: Path) -> None:
    video = tmp_path / "work.mp4"
    truth = video_recording(video, seconds=100, seed=8)
    redact_file(video, RunOptions(Policy(), output=tmp_path / "work_redacted.mp4", workers=1))
    layer = tmp_path / "work_redacted.textlayer.jsonl"
    assert LABEL.search(layer.read_text(encoding="utf-8"))  # values are labelled, not shown
    events = derive_events(read_text_layer(layer), source=layer.name)
    assert {e.action.value for e in events} >= {"copy", "paste", "switch"}
    seg = segment(events)
    frames = [int(e.extra_value("frame") or 0) for e in events]
    scored = [k for k, f in enumerate(frames) if truth[f]]
    ari = adjusted_rand_score([truth[frames[k]] for k in scored], [seg.cases[k] or f"-{k}" for k in scored])
    assert (
        ari >= 0.8
    )  # a short clip: 8 instances, two cut by its ends; bench.mining_recording measures 15 minutes
    summary = mine([tmp_path / "work_redacted.mp4"], tmp_path / "mined", MineOptions(xes=False))
    assert summary.candidates and summary.events == len(events)
    for path in (tmp_path / "mined").iterdir():
        text = path.read_text(encoding="utf-8")
        assert not EMAIL.search(text) and not LABEL.search(text), path.name
        assert not PHONE.search(text), path.name
