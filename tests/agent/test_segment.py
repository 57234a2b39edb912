"""A segment is packed only when every frame was cleared by the verifier or masked whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from veil.agent.segment import Gap, SegmentBuilder, SegmentRefused, read_segment
from veil.framestep import FrameDone
from veil.models import Box, Finding, FrameResult, MaskReason
from veil.options import VideoOptions

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
LAYER = json.dumps({"frame": 0, "t": 0.0, "user": None, "window": None, "lines": [], "changed": []})


def done(index: int, *, verified: bool = True, masked: bool = False) -> FrameDone:
    pixels = np.full((64, 96, 3), 40 * index % 255, np.uint8)
    email = Finding("email", (Box(1, 1, 10, 5),), "email", 1.0, "", index)
    reason = MaskReason.VERIFIER_FOUND if masked else None
    result = FrameResult(index, index * 0.5, (email,), masked, reason, verified=verified)
    return FrameDone(pixels, result, LAYER)


def builder(tmp_path: Path) -> SegmentBuilder:
    return SegmentBuilder("a" * 32, 3, T0, "7", 2.0, VideoOptions(), tmp_path)


def test_a_cleared_segment_holds_video_layer_and_manifest(tmp_path: Path) -> None:
    seg = builder(tmp_path)
    for i in range(3):
        seg.add(T0 + timedelta(seconds=i / 2), i, done(i, masked=i == 2, verified=i != 2))
    seg.gaps.append(Gap(T0, T0 + timedelta(seconds=1), "paused: confidential window"))
    manifest, members = read_segment(seg.finish(T0 + timedelta(seconds=2)))
    assert manifest["seq"] == 3 and manifest["frames"] == 3 and manifest["verifier"] == "cleared"
    assert manifest["counts"] == {"email": 3} and manifest["frames_masked_whole"] == 1
    assert manifest["gaps"] == [{"start": "2026-12-06T09:00:00.000Z", "end": "2026-12-06T09:00:01.000Z",
                                 "reason": "paused: confidential window"}]  # fmt: skip
    assert [json.loads(x)["t"] for x in members["textlayer.jsonl"].splitlines()] == [0.0, 0.5, 1.0]
    assert members["redacted.mp4"][4:8] == b"ftyp"
    assert list(tmp_path.iterdir()) == []  # its work folder went


def test_one_frame_not_cleared_refuses_the_whole_segment(tmp_path: Path) -> None:
    seg = builder(tmp_path)
    seg.add(T0, 0, done(0))
    seg.add(T0 + timedelta(seconds=1), 1, done(1, verified=False))
    with pytest.raises(SegmentRefused, match="not cleared"):
        seg.finish(T0 + timedelta(seconds=2))
    assert list(tmp_path.iterdir()) == []


def test_an_empty_segment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SegmentRefused):
        builder(tmp_path).finish(T0)


def test_a_member_changed_after_packing_is_detected(tmp_path: Path) -> None:
    import io
    import zipfile

    seg = builder(tmp_path)
    seg.add(T0, 0, done(0))
    body = seg.finish(T0 + timedelta(seconds=1))
    flipped = bytearray(body)
    at = flipped.find(b'"frame"')
    flipped[at + 1 : at + 6] = b"FRAME"
    with pytest.raises(ValueError, match="not a segment"):  # the zip's own CRC
        read_segment(bytes(flipped))
    out = io.BytesIO()  # re-zipped with a changed layer under the original manifest
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(b'"frame"', b'"FRAME"') if name == "textlayer.jsonl" else data)
    with pytest.raises(ValueError, match=r"textlayer\.jsonl does not match"):
        read_segment(out.getvalue())
