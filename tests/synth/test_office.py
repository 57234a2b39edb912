"""Office-work recordings: the script switches windows, types, scrolls, idles; the truth follows the
pixels; a shorter recording is a prefix of a longer one."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from veil.exceptions import VeilError
from veil.synth.fakedata import STRUCTURED_TYPES
from veil.synth.office import OfficeScript, office_recording, table_recording
from veil.synth.recording import RecordingTruth

FAST = OfficeScript(switch_seconds=(3.0, 5.0), message_seconds=(2.0, 4.0))
SIZE = (1280, 720)


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> RecordingTruth:
    path = tmp_path_factory.mktemp("office") / "office.mp4"
    return office_recording(path, seed=5, seconds=12, fps=4, size=SIZE, language="en", script=FAST)


def test_frame_count_and_windows(clip: RecordingTruth) -> None:
    assert clip.frame_count == 48 and clip.size == SIZE and clip.fps == 4
    windows = Counter(s.split("/")[0] for s in clip.scenes)
    assert len(windows) >= 2  # switched at least once in 12 s with 3-5 s per window
    assert set(windows) <= {"form", "table", "chat"}
    assert {s.split("/")[1] for s in clip.scenes} == {"en"}


@pytest.fixture(scope="module")
def frames(clip: RecordingTruth) -> list[np.ndarray]:
    return _decode(clip.path)


def test_truth_boxes_hold_ink_in_the_decoded_video(clip: RecordingTruth, frames: list[np.ndarray]) -> None:
    assert len(frames) == clip.frame_count and frames[0].shape == (720, 1280, 3)
    checked = 0
    for index in range(0, clip.frame_count, 5):
        for item in clip.items(index):
            b = item.box
            assert b.x >= 0 and b.y >= 0 and b.x2 <= SIZE[0] and b.y2 <= SIZE[1]
            assert np.ptp(frames[index][b.y : b.y2, b.x : b.x2].astype(int)) > 60
            checked += 1
    assert checked > 20


def test_idle_frames_repeat_and_activity_changes_frames(frames: list[np.ndarray]) -> None:
    same = sum(1 for a, b in itertools.pairwise(frames) if int(cv2.absdiff(a, b).max()) <= 6)
    changed = len(frames) - 1 - same
    assert same >= 8  # idle periods and pauses between actions
    assert changed >= 8  # typing, scrolling, messages, switches


def test_structured_values_are_visible(clip: RecordingTruth) -> None:
    structured = [i for items in clip.frames for i in items if i.type in STRUCTURED_TYPES and not i.decoy]
    assert len({i.value for i in structured}) >= 5


def test_shorter_recording_is_a_prefix(tmp_path: Path, clip: RecordingTruth) -> None:
    short = office_recording(
        tmp_path / "s.mp4", seed=5, seconds=3, fps=4, size=SIZE, language="en", script=FAST
    )
    assert short.frames == clip.frames[: short.frame_count]
    assert short.scenes == clip.scenes[: short.frame_count]


def test_typing_completes_values_in_the_form(tmp_path: Path) -> None:
    only_form = OfficeScript(windows=("form",))
    truth = office_recording(tmp_path / "f.mp4", seed=2, seconds=14, fps=2, size=SIZE, script=only_form)
    counts = [len(items) for items in truth.frames]
    # A typed value enters the truth only once complete: the count grows in steps over the clip.
    assert max(counts) > counts[0]
    assert len(set(counts)) >= 2


def _unique_rows(truth: RecordingTruth, index: int) -> dict[str, int]:
    """Value -> top of its box, for structured values (names and prices repeat across rows)."""
    return {i.value: i.box.y for i in truth.frames[index] if i.type in STRUCTURED_TYPES}


@pytest.mark.parametrize(("rows", "ok"), [((0, 1, 1, 4), True), ((0, -1), False), ((0, 100000), False)])
def test_table_recording_rows(tmp_path: Path, rows: tuple[int, ...], ok: bool) -> None:
    if not ok:
        with pytest.raises(VeilError):
            table_recording(tmp_path / "t.mp4", seed=1, rows=rows)
        return
    truth = table_recording(tmp_path / "t.mp4", seed=1, rows=rows, fps=2)
    assert truth.frame_count == len(rows)
    assert truth.frames[1] == truth.frames[2]  # same scroll position, same truth
    first, moved = _unique_rows(truth, 1), _unique_rows(truth, 3)
    common = set(first) & set(moved)
    assert common and all(moved[v] < first[v] for v in common)  # scrolled down: content moved up


def test_unknown_window_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VeilError):
        office_recording(tmp_path / "x.mp4", seed=1, seconds=1, fps=2, size=SIZE,
                         script=OfficeScript(windows=("mail",)))  # fmt: skip
