"""`veil mine` end to end: outputs exist, hold no raw value and no per-person figure."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from veil.exceptions import InputError
from veil.mining import cli as mining_cli
from veil.mining.cli import MineOptions, mine, mine_command
from veil.mining.synth_recording import generate_recording
from veil.mining.xes import pm4py_available, read_xes

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+\d{1,3} \d|\b0\d{1,2}-\d{2,4}-\d{2,4}")
needs_pm4py = pytest.mark.skipif(not pm4py_available(), reason="pm4py (extra 'mining') not installed")


def _outputs(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file()}


def test_outputs_hold_no_raw_value_and_no_person(
    tmp_path: Path, small_log: tuple[Path, list[dict[str, str]]]
) -> None:
    path, rows = small_log
    summary = mine([path], tmp_path / "out", MineOptions(xes=pm4py_available()))
    files = _outputs(tmp_path / "out")
    assert {"report.html", "events.csv"} <= set(files)
    raw_values = {r["content"] for r in rows if r["content"]}
    logins = {r["userID"] for r in rows}
    assert len(raw_values) > 50
    for name, text in files.items():
        assert not EMAIL.search(text), name
        assert not PHONE.search(text), name
        leaked = [v for v in raw_values | logins if v in text]
        assert leaked == [], name
    html = files["report.html"]
    # No per-person figure: user ids appear nowhere in the report.
    users = {row["user"] for row in csv.DictReader(io.StringIO(files["events.csv"]))}
    assert users and not any(u in html for u in users)
    assert html.lower().count("idle") == 1  # only the statement that idle time is not scored
    assert summary.candidates and summary.candidates[0].name in html
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_recording_routine_repeated_five_times_is_listed_first(tmp_path: Path) -> None:
    layer = tmp_path / "rec.textlayer.jsonl"
    truth = generate_recording(layer, repeats=5, seed=11)
    assert len(truth) >= 120  # a multi-minute recording at 1 fps
    video = tmp_path / "rec.mp4"
    video.write_bytes(b"")  # a recording is read through the text layer beside it
    summary = mine([video], tmp_path / "out", MineOptions(xes=False))
    top = summary.candidates[0]
    assert top.instances == 5
    targets = [s.target for s in top.steps]
    for step in ("Order admin", "Copy e-mail", "Orders.xlsx", "E-mail", "Save"):
        assert step in targets
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Example sanitized frames" in html and "&lt;email&gt;" in html


@needs_pm4py
def test_xes_round_trip(tmp_path: Path, small_log: tuple[Path, list[dict[str, str]]]) -> None:
    path, _rows = small_log
    summary = mine([path], tmp_path / "out", MineOptions(xes=True))
    xes = tmp_path / "out" / "events.xes"
    assert xes in summary.exports
    events = read_xes(xes)
    exported = [
        line for line in (tmp_path / "out" / "events.csv").read_text().splitlines()[1:] if line.split(",")[0]
    ]
    assert len(events) == len(exported)
    again = mine([xes], tmp_path / "again", MineOptions(xes=False))
    assert {c.instances for c in again.candidates} & {c.instances for c in summary.candidates}


def test_xes_without_the_extra_names_it(
    tmp_path: Path, small_log: tuple[Path, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mining_cli, "pm4py_available", lambda: False)
    with pytest.raises(InputError, match="mining"):
        mine([small_log[0]], tmp_path / "out", MineOptions(xes=True))
    summary = mine([small_log[0]], tmp_path / "out", MineOptions(xes=None))
    assert [p.name for p in summary.exports] == ["events.csv"]
    assert "No XES export" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rec.mp4", b"", "veil redact"),
        ("notes.txt", b"x", "unknown input"),
        ("report.json", b'{"text_layer": "missing.jsonl"}', "not found"),
    ],
)
def test_bad_inputs(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        mine([path], tmp_path / "out")


def test_typer_command(tmp_path: Path, small_log: tuple[Path, list[dict[str, str]]]) -> None:
    app = typer.Typer()
    app.command("mine")(mine_command)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(
        app, ["mine", str(small_log[0]), "-o", str(tmp_path / "o"), "--no-xes", "--top", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "1. " in result.output


def test_a_large_csv_gets_no_xes_by_default_and_is_mined_in_bounded_memory(
    tmp_path: Path, small_log: tuple[Path, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pm4py builds XES from a table of the whole log: by default a log over the limit is mined on
    the bounded path without it (the report says why and how to ask), `--xes` still writes it."""
    monkeypatch.setattr(mining_cli, "pm4py_available", lambda: True)
    monkeypatch.setattr(mining_cli, "XES_DEFAULT_MAX_BYTES", small_log[0].stat().st_size - 1)
    taken: list[bool] = []
    bounded = mining_cli._mine_bounded
    monkeypatch.setattr(mining_cli, "_mine_bounded", lambda *a: taken.append(True) or bounded(*a))
    summary = mine([small_log[0]], tmp_path / "big", MineOptions(xes=None))
    assert taken and [p.name for p in summary.exports] == ["events.csv"]
    assert "--xes writes it" in (tmp_path / "big" / "report.html").read_text(encoding="utf-8")
    monkeypatch.setattr(mining_cli, "XES_DEFAULT_MAX_BYTES", small_log[0].stat().st_size)
    assert mining_cli.xes_choice([("csv", small_log[0])], None) == (True, None)
