"""End to end on a generated recording: every structured value is covered in every frame, an
independent re-scan of the output finds nothing, no value reaches the logs or any written file,
and the incremental path masks everything the full path masks."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from veil import logs
from veil.api import RunOptions, redact_file
from veil.capture.open import open_source
from veil.detect.registry import default_analyzer
from veil.mining.cli import MineOptions, mine
from veil.models import Box
from veil.ocr.registry import make_verifier_engine
from veil.options import Policy
from veil.report import RunReport
from veil.synth.fakedata import STRUCTURED_TYPES
from veil.synth.recording import RecordingTruth, make_recording
from veil.synth.score import boxes_mask
from veil.verify.rescan import RescanVerifier

pytestmark = pytest.mark.slow
POLICY = Policy()


@dataclass
class Run:
    truth: RecordingTruth
    incremental: RunReport
    full: RunReport
    output: Path
    logs: str
    files: list[Path]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("e2e")
    truth = make_recording(
        tmp / "rec.mp4", seed=11, seconds=4, fps=2, size=(1280, 720),
        languages=("ko", "ja", "fr", "en"), kinds=("table", "form", "email", "chat"),
    )  # fmt: skip
    stream = io.StringIO()
    handler = logs.configure(logging.DEBUG, stream)
    try:
        incremental = redact_file(truth.path, RunOptions(POLICY, output=tmp / "inc.mp4"))
        full = redact_file(truth.path, RunOptions(POLICY, output=tmp / "full.mp4", full=True))
    finally:
        logging.getLogger().removeHandler(handler)
    files = [p for p in tmp.iterdir() if p.suffix in {".json", ".jsonl"}]
    yield Run(truth, incremental, full, tmp / "inc.mp4", stream.getvalue(), files)


def covered(report: RunReport, index: int, size: tuple[int, int]) -> Box | list[Box]:
    result = report.frames[index]
    if result.masked_whole:
        return [Box(0, 0, *size)]
    return [b.grow(POLICY.redact.margin_px) for f in result.findings for b in f.boxes]


def uncovered(report: RunReport, truth: RecordingTruth) -> list[tuple[int, str, str]]:
    missed = []
    for index, items in enumerate(truth.frames):
        mask = boxes_mask(covered(report, index, truth.size), truth.size)  # type: ignore[arg-type]
        for item in items:
            b = item.box
            if item.type in STRUCTURED_TYPES and not item.decoy and not mask[b.y : b.y2, b.x : b.x2].all():
                missed.append((index, item.language, item.type))
    return missed


def test_output_keeps_frame_count_and_timestamps(run: Run) -> None:
    source = [f.pts for f in open_source(run.truth.path, POLICY.video).frames()]
    output = [f.pts for f in open_source(run.output, POLICY.video).frames()]
    assert len(output) == run.truth.frame_count == len(source)
    assert output == source


def test_every_structured_value_is_covered_in_every_frame(run: Run) -> None:
    assert uncovered(run.incremental, run.truth) == []


def test_incremental_masks_everything_the_full_path_masks(run: Run) -> None:
    assert uncovered(run.full, run.truth) == []
    full_only = set(uncovered(run.incremental, run.truth)) - set(uncovered(run.full, run.truth))
    assert full_only == set()


def test_independent_rescan_of_the_output_finds_nothing(run: Run) -> None:
    # As the gateway and an auditor re-scan: the decoded output alone, masks not known.
    verifier = RescanVerifier(make_verifier_engine(POLICY.ocr), default_analyzer(), b"k" * 32)
    residual = []
    for frame in open_source(run.output, POLICY.video).frames():
        residual += [(frame.index, f.type) for f in verifier.check(frame.pixels, frame.index).findings]
    assert residual == []


def test_no_value_in_logs_reports_or_text_layer(run: Run) -> None:
    values = {item.value for items in run.truth.frames for item in items if item.type in STRUCTURED_TYPES}
    assert values
    written = [p.read_text(encoding="utf-8") for p in run.files]
    summary = json.dumps(run.incremental.summary(), ensure_ascii=False)
    for value in values:
        assert value not in run.logs
        assert value not in summary
        for text in written:
            assert value not in text


def test_report_has_types_and_boxes_but_no_hashes(run: Run) -> None:
    report = json.loads((run.output.with_name("inc.report.json")).read_text(encoding="utf-8"))
    assert report["summary"]["frames"] == run.truth.frame_count
    finding = next(f for frame in report["frames"] for f in frame["findings"])
    assert set(finding) == {"type", "boxes", "recognizer", "score"}


LABELLED = re.compile(r"<([a-z_]+):([0-9a-f]{8})>")


def _labels(layer: Path) -> dict[tuple[int, tuple[int, ...]], str]:
    out = {}
    for line in layer.read_text(encoding="utf-8").splitlines():
        frame = json.loads(line)
        for ln in frame["lines"]:
            for m in LABELLED.finditer(ln["text"]):
                out[(frame["frame"], tuple(ln["box"]))] = m.group(0)
    return out


def test_masked_values_carry_per_recording_labels(run: Run) -> None:
    inc = _labels(run.output.with_name("inc.textlayer.jsonl"))
    full = _labels(run.output.with_name("full.textlayer.jsonl"))
    assert len(inc) > 20
    # One value, one label: the same screen shown on two frames keeps its labels.
    frames_of: dict[str, set[int]] = {}
    for (frame, _box), label in inc.items():
        frames_of.setdefault(label, set()).add(frame)
    assert sum(1 for f in frames_of.values() if len(f) >= 2) >= 10
    types = {label: LABELLED.match(label).group(1) for label in inc.values()}  # type: ignore[union-attr]
    assert len(set(types)) > len(set(types.values()))  # several values per type, told apart
    # The full path labels the values it masks where the incremental one does the same.
    same_place = [key for key in inc if key in full]
    assert same_place and all(inc[k] == full[k] for k in same_place)


def test_mining_a_recording_shows_no_label(run: Run, tmp_path: Path) -> None:
    mine([run.output], tmp_path / "mined", MineOptions(xes=False))
    for path in (tmp_path / "mined").iterdir():
        text = path.read_text(encoding="utf-8")
        assert not LABELLED.search(text), path.name
        assert not re.search(r":[0-9a-f]{8}\b", text), path.name
