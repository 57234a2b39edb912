"""A video that turns out corrupt midway: what was processed is kept under a `.partial` name, the
report says what happened, and the run ends with the bad-input exit code."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from veil.__main__ import main
from veil.capture.open import open_source
from veil.options import VideoOptions


def make_mkv(path: Path, frames: int = 40) -> Path:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv444p"
        rng = np.random.default_rng(0)
        for _ in range(frames):
            pixels = rng.integers(0, 255, (96, 160, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def test_truncated_video_keeps_the_processed_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    video = make_mkv(tmp_path / "rec.mkv")
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    policy = tmp_path / "p.yaml"
    policy.write_text("detect:\n  faces: false\n", encoding="utf-8")  # speed: noise frames
    code = main(["redact", str(video), "--policy", str(policy)])
    assert code == 3
    assert not (tmp_path / "rec_redacted.mkv").exists()  # nothing incomplete under the final name
    partial = tmp_path / "rec_redacted.partial.mkv"
    assert partial.exists()
    kept = sum(1 for _ in open_source(partial, VideoOptions()).frames())
    report = json.loads((tmp_path / "rec_redacted.report.json").read_text(encoding="utf-8"))
    assert report["summary"]["error"]
    assert 0 < kept == report["summary"]["frames"] < 40


def leftovers(folder: Path) -> list[str]:
    """Temporary files a run may leave: report spools, pool spools, `.tmp` outputs."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_truncated_video_leaves_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    video = make_mkv(tmp_path / "rec.mkv", frames=12)
    video.write_bytes(video.read_bytes()[:200])  # corrupt before any frame: nothing to keep
    policy = tmp_path / "p.yaml"
    policy.write_text("detect:\n  faces: false\n", encoding="utf-8")
    assert main(["redact", str(video), "--policy", str(policy)]) == 3
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "rec_redacted.report.json").exists()


@pytest.mark.slow
def test_truncated_video_with_a_pool_keeps_the_processed_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from veil.api import RunOptions, redact_file
    from veil.exceptions import InputError
    from veil.options import DetectOptions, LedgerOptions, Policy

    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    video = make_mkv(tmp_path / "rec.mkv")
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    policy = Policy(detect=DetectOptions(faces=False), ledger=LedgerOptions(enabled=False))
    with pytest.raises(InputError):
        redact_file(video, RunOptions(policy, workers=2, segment_frames=6))
    kept = sum(1 for _ in open_source(tmp_path / "rec_redacted.partial.mkv", VideoOptions()).frames())
    report = json.loads((tmp_path / "rec_redacted.report.json").read_text(encoding="utf-8"))
    assert 6 < kept == report["summary"]["frames"] < 40  # past the first segment: the pool was used
    assert report["summary"]["change_tracking"]["workers"] == 2
    assert [f["index"] for f in report["frames"]] == list(range(kept))
    assert leftovers(tmp_path) == []
