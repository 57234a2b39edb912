"""Generated recordings: frame count, per-frame truth, and cheap enough for tests and the demo."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from veil.exceptions import VeilError
from veil.synth.recording import demo_recording, make_recording


def test_demo_recording(tmp_path: Path) -> None:
    started = time.perf_counter()
    truth = demo_recording(tmp_path / "demo.mp4")
    assert time.perf_counter() - started < 10
    assert truth.frame_count == 8 and truth.fps == 2 and truth.size == (1280, 720)
    assert {s.split("/")[1] for s in truth.scenes} == {"ko", "ja", "fr", "en"}
    with av.open(str(truth.path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == truth.frame_count and frames[0].shape == (720, 1280, 3)
    for index, frame in enumerate(frames):
        items = truth.items(index)
        assert items and all(i.language in ("ko", "ja", "fr", "en") for i in items)
        for item in items[:5]:
            region = frame[item.box.y : item.box.y2, item.box.x : item.box.x2].astype(int)
            assert np.ptp(region) > 60  # ink survives the near-lossless encode


def test_typing_and_scrolling_change_the_truth(tmp_path: Path) -> None:
    truth = make_recording(tmp_path / "r.mp4", seed=3, seconds=3, fps=4, size=(1280, 720),
                           languages=("ko", "en"), kinds=("form", "table"))  # fmt: skip
    assert truth.frame_count == 12
    form = [truth.items(i) for i in range(6)]
    assert len(form[0]) < len(form[-1])  # the typed value appears once complete
    table = [truth.items(i) for i in range(6, 12)]
    boxes = [sorted((i.box.y, i.value) for i in t) for t in table]
    assert boxes[-1] != boxes[0]  # rows scrolled


def test_too_few_frames_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VeilError):
        make_recording(tmp_path / "x.mp4", seed=1, seconds=1, fps=2)
