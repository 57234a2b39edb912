"""The run report streams: per-frame records go to a spool file, only counters stay in memory, and
the written JSON still lists every frame, in order, with the same schema."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from veil.exceptions import OutputError
from veil.models import Box, Finding, FrameResult, MaskReason
from veil.report import RunReport


def result(index: int) -> FrameResult:
    """Frame `index`: an e-mail finding; every 7th frame masked whole, every 5th a phone too."""
    findings = [Finding("email", (Box(10, 20 + index, 80, 12),), "email", 0.9, "hmac-secret", index)]
    if index % 5 == 0:
        findings.append(Finding("phone", (Box(5, 5, 40, 10),), "phone", 0.75, "hmac-secret", index))
    masked = index % 7 == 3
    return FrameResult(
        index,
        index / 5,
        tuple(findings),
        masked_whole=masked,
        mask_reason=MaskReason.VERIFIER_FOUND if masked else None,
        verified=not masked,
    )


def filled(tmp_path: Path, n: int) -> RunReport:
    report = RunReport(input="rec.mp4", output="out.mp4", kind="video", spool_dir=tmp_path)
    for i in range(n):
        report.add(result(i))
    return report


def test_no_per_frame_list_in_memory(tmp_path: Path) -> None:
    n = 300
    report = filled(tmp_path, n)
    sized = [v for v in vars(report).values() if isinstance(v, list | tuple | dict | set)]
    assert all(len(v) < n for v in sized)
    assert report.frame_count == n == len(report.frames)


def test_memory_does_not_grow_with_frames(tmp_path: Path) -> None:
    report = filled(tmp_path, 50)
    tracemalloc.start()
    try:
        for i in range(50, 250):
            report.add(result(i))
        first, _ = tracemalloc.get_traced_memory()
        for i in range(250, 2250):
            report.add(result(i))
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 2000 more frames (each record ~300 bytes) and no more than a few KB more held in memory.
    assert second - first < 16_000


def test_written_json_lists_every_frame_in_order(tmp_path: Path) -> None:
    n = 40
    report = filled(tmp_path, n)
    path = tmp_path / "out" / "r.report.json"
    report.write(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [f["index"] for f in data["frames"]] == list(range(n))
    summary = data["summary"]
    assert summary["frames"] == n
    assert summary["findings_by_type"] == {"email": n, "phone": len(range(0, n, 5))}
    masked = [i for i in range(n) if i % 7 == 3]
    assert summary["frames_masked_whole"] == len(masked)
    assert summary["mask_reasons"] == {"verifier-found-residual": len(masked)}
    assert summary["verifier_clean_frames"] == n - len(masked)
    assert [f["index"] for f in data["frames"] if f["masked_whole"]] == masked
    assert data["frames"][2]["findings"][0] == {
        "type": "email",
        "boxes": [[10, 22, 80, 12]],
        "recognizer": "email",
        "score": 0.9,
    }
    assert "hmac-secret" not in path.read_text(encoding="utf-8")
    assert list(tmp_path.glob(".*")) == [] and list((tmp_path / "out").glob(".*")) == []  # spool gone


@pytest.mark.parametrize("written", [False, True])
def test_frames_read_back_from_disk(tmp_path: Path, written: bool) -> None:
    report = filled(tmp_path, 30)
    if written:
        report.write(tmp_path / "r.json")
    frames = report.frames
    assert [r.index for r in frames] == list(range(30))
    assert frames[17].findings[0].boxes == (Box(10, 37, 80, 12),)
    assert frames[3].masked_whole and frames[3].mask_reason == MaskReason.VERIFIER_FOUND
    assert frames[-1].index == 29 and frames[0].index == 0
    assert [frames[i].index for i in (4, 5, 9, 2)] == [4, 5, 9, 2]  # forward and back
    assert all(f.value_hmac == "" for r in frames for f in r.findings)  # the report has no hashes
    with pytest.raises(IndexError):
        frames[30]
    assert report.duration_seconds == pytest.approx(29 / 5)


def test_empty_report_is_valid_json(tmp_path: Path) -> None:
    report = RunReport(input="x.png", spool_dir=tmp_path)
    report.write(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["frames"] == [] and data["summary"]["frames"] == 0
    assert list(report.frames) == []


def test_discard_removes_the_spool(tmp_path: Path) -> None:
    report = filled(tmp_path, 3)
    assert len(list(tmp_path.glob(".veil-report-*"))) == 1
    report.discard()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_report_raises_and_keeps_nothing(tmp_path: Path) -> None:
    report = filled(tmp_path, 3)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError):
        report.write(blocker / "r.json")  # its folder is a file
    report.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_values_only_the_verifier_caught_are_counted_on_frames_it_cleared(tmp_path: Path) -> None:
    hit = Finding("phone", (Box(5, 5, 40, 10),), "phone", 0.9, "h", 0)
    report = RunReport(input="rec.mp4", output="out.mp4", kind="video", spool_dir=tmp_path)
    report.add(FrameResult(0, 0.0, (hit,), verifier_findings=(hit,), verified=True))
    masked = MaskReason.VERIFIER_FOUND
    report.add(FrameResult(1, 0.2, (), masked_whole=True, mask_reason=masked, verifier_findings=(hit, hit)))
    summary = report.summary()
    assert summary["caught_by_verifier_by_type"] == {"phone": 1}  # the masked-whole frame's are not
    assert summary["frames_masked_whole"] == 1
