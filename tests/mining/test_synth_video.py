"""The generated spreadsheet-to-form recording: frames, window sidecar and truth agree."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av

from veil.mining.synth_video import TASKS, video_recording


def test_recording_sidecar_and_truth_agree(tmp_path: Path) -> None:
    path = tmp_path / "work.mp4"
    truth = video_recording(path, seconds=120, seed=3)
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == len(truth) == 120
    windows = [json.loads(line) for line in (tmp_path / "work.mp4.windows.jsonl").read_text().splitlines()]
    assert windows[0]["t"] == 0.0 and {w["app"] for w in windows} == {"Excel", "Chrome"}
    assert all(a["t"] < b["t"] for a, b in itertools.pairwise(windows))
    tasks = {t.split("#")[0] for t in truth if t}
    assert tasks <= {t.name for t in TASKS} and len(tasks) >= 2  # interleaved task types
    # Each instance is on screen in one or more stretches: interleaving leaves forms half done.
    stretches = 1 + sum(1 for a, b in itertools.pairwise(truth) if a != b)
    assert stretches > len(set(truth))
