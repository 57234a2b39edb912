"""The incremental path is exactly as safe as the full path (issue 4).

(a) On a generated office clip (typing, scrolling, chat messages, window switches, idle), every
    structured value the full path (`--full`) covers in a frame is covered by the incremental path
    in that frame.
(b) No one-frame leak: a row that scrolls into a table, stays 10 frames, scrolls up and then out of
    view is masked in every frame it is visible in.
A value counts as covered when its whole ink box lies under the report's finding boxes grown by the
policy's margin, or the frame was masked whole (as in tests/test_end_to_end.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from veil.api import RunOptions, redact_file
from veil.models import Box
from veil.options import LedgerOptions, Policy
from veil.report import RunReport
from veil.synth.fakedata import STRUCTURED_TYPES
from veil.synth.office import OfficeScript, office_recording, table_recording
from veil.synth.recording import RecordingTruth
from veil.synth.score import boxes_mask

pytestmark = pytest.mark.slow
POLICY = Policy(ledger=LedgerOptions(enabled=False))
SIZE = (1280, 720)
# Windows switch every 3-5 s so that an 8 s clip shows typing, scrolling or messages, and a switch.
SCRIPT = OfficeScript(switch_seconds=(3.0, 5.0), message_seconds=(2.0, 4.0))


@pytest.fixture(scope="module", autouse=True)
def veil_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VEIL_HOME", str(tmp_path_factory.mktemp("home")))
        yield


def covered(report: RunReport, truth: RecordingTruth) -> set[tuple[int, str, Box]]:
    """(frame, value, box) of every structured value whose whole box the report's masks cover."""
    hit = set()
    for index, items in enumerate(truth.frames):
        result = report.frames[index]
        if result.masked_whole:
            boxes = [Box(0, 0, *truth.size)]
        else:
            boxes = [b.grow(POLICY.redact.margin_px) for f in result.findings for b in f.boxes]
        mask = boxes_mask(boxes, truth.size)
        for item in items:
            b = item.box
            if item.type in STRUCTURED_TYPES and not item.decoy and mask[b.y : b.y2, b.x : b.x2].all():
                hit.add((index, item.value, b))
    return hit


@dataclass
class Pair:
    truth: RecordingTruth
    incremental: RunReport
    full: RunReport


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    tmp = tmp_path_factory.mktemp("office")
    truth = office_recording(tmp / "office.mp4", seed=4, seconds=8, fps=2, size=SIZE, language="en",
                             script=SCRIPT)  # fmt: skip
    incremental = redact_file(truth.path, RunOptions(POLICY, output=tmp / "inc.mp4"))
    full = redact_file(truth.path, RunOptions(POLICY, output=tmp / "full.mp4", full=True))
    return Pair(truth, incremental, full)


def test_the_office_clip_exercises_the_incremental_path(office: Pair) -> None:
    stats = office.incremental.stats
    assert len({s.split("/")[0] for s in office.truth.scenes}) >= 2
    assert stats["frames_incremental"] + stats["frames_still"] >= office.truth.frame_count // 3
    assert stats["ocr_pixels"] < stats["pixels"]


def test_incremental_covers_every_value_the_full_path_covers(office: Pair) -> None:
    full = covered(office.full, office.truth)
    incremental = covered(office.incremental, office.truth)
    assert len(full) >= 10  # the comparison is not vacuous
    only_full = sorted((index, box.as_list()) for index, _, box in full - incremental)
    assert only_full == []


# Frame 0: rows 0..; frame 1 scrolls one row, so the next row enters at the bottom and stays for
# 10 frames; then it moves up by 2, 2 and 3 rows; then a jump of a whole page hides it.
def _rows(page: int) -> tuple[int, ...]:
    return (0, *([1] * 10), 3, 5, 8, 8 + page)


@dataclass
class TableRun:
    truth: RecordingTruth
    report: RunReport
    entering: dict[str, str]  # value -> type, for the structured values of the row that enters
    shown: dict[str, list[int]]  # value -> frames it is visible in


@pytest.fixture(scope="module")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> TableRun:
    tmp = tmp_path_factory.mktemp("table")
    probe = table_recording(tmp / "probe.mp4", seed=2, rows=(0,), size=SIZE, language="en")
    rows_on_page = len({i.box.y for i in probe.frames[0] if i.type == "email"})
    truth = table_recording(tmp / "t.mp4", seed=2, rows=_rows(rows_on_page), size=SIZE, language="en")
    before = {i.value for i in truth.frames[0]}
    entering = {
        i.value: i.type
        for i in truth.frames[1]
        if i.type in STRUCTURED_TYPES and not i.decoy and i.value not in before
    }
    shown = {
        v: [n for n, items in enumerate(truth.frames) if v in {i.value for i in items}] for v in entering
    }
    report = redact_file(truth.path, RunOptions(POLICY, output=tmp / "t_redacted.mp4"))
    return TableRun(truth, report, entering, shown)


def test_the_script_shows_a_row_for_ten_frames_then_scrolls_it_out(table_run: TableRun) -> None:
    assert "phone" in table_run.entering.values()
    for frames in table_run.shown.values():
        assert frames == list(range(1, 14))


def test_no_one_frame_leak(table_run: TableRun) -> None:
    hit = {(index, value) for index, value, _ in covered(table_run.report, table_run.truth)}
    # Reported by frame and type only: never a value, not even a synthetic one.
    leaks = sorted(
        (n, t)
        for value, t in table_run.entering.items()
        for n in table_run.shown[value]
        if (n, value) not in hit
    )
    assert leaks == []


def test_still_frames_are_not_reread_and_scrolls_are_shifted(table_run: TableRun) -> None:
    stats = table_run.report.stats
    assert stats["frames_still"] >= 9  # frames 2-10 repeat frame 1
    # Frames 1, 11, 12 and 13 scroll the table by 1-3 rows: their content should be shifted, not re-read.
    assert stats["frames_scrolled"] >= 4


def test_boxes_mask_marks_the_covered_pixels() -> None:
    # The coverage helper the assertions rest on: a box grown by the margin covers its inside only.
    mask = boxes_mask([Box(10, 10, 5, 5).grow(2)], (40, 30))
    assert mask.shape == (30, 40) and int(np.count_nonzero(mask)) == 81 and mask[8, 8] and not mask[7, 8]
