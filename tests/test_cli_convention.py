"""One convention for every command: --version, -q/--quiet, -v/--verbose, -o/--output, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command

from veil import __version__
from veil.__main__ import main
from veil.cli import app

from .test_cli import text_image


@pytest.fixture(autouse=True)
def veil_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"veil {__version__}"


def test_quiet_redact_prints_nothing_but_writes_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = text_image(tmp_path / "shot.png", "Phone 010-1234-5678")
    assert main(["redact", str(src), "-q", "-o", str(tmp_path / "out.png")]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert (tmp_path / "out.png").exists() and (tmp_path / "out.report.json").exists()


@pytest.mark.slow
def test_quiet_demo_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "-q", "-o", str(tmp_path / "demo")])
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert (tmp_path / "demo" / "after.png").exists()


def test_quiet_and_verbose_exclude_each_other(tmp_path: Path) -> None:
    src = text_image(tmp_path / "shot.png", "Quarterly report")
    assert main(["redact", str(src), "-q", "-v"]) == 2
    assert not (tmp_path / "shot_redacted.png").exists()


def _options(command: str) -> set[str]:
    group = get_command(app)
    cmd = group.get_command(None, command)  # type: ignore[attr-defined]
    assert cmd is not None, command
    return {name for param in cmd.params for name in getattr(param, "opts", [])}


@pytest.mark.parametrize("command", ["redact", "mine", "analyze", "demo"])
def test_every_command_that_writes_takes_output_quiet_and_verbose(command: str) -> None:
    assert {"-o", "--output", "-q", "--quiet", "-v", "--verbose"} <= _options(command)


@pytest.mark.parametrize("command", ["redact", "mine", "analyze", "demo"])
def test_every_command_with_a_summary_takes_json(command: str) -> None:
    assert "--json" in _options(command)


def test_mine_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.csv"
    rows = ["timeStamp,userID,targetApp,eventType,target.name"]
    for i in range(40):
        rows.append(f"2020-01-01T09:{i:02d}:00,u1,Excel,{'copyCell' if i % 2 else 'paste'},cell{i % 4}")
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["mine", str(log), "-o", str(tmp_path / "out"), "--json", "--no-xes"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["events"] == 40 and Path(summary["report"]).exists()
