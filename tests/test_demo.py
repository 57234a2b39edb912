"""`veil demo` end to end at DEBUG level: it prints its summary and the picture paths, and no
generated personal value appears in anything it printed, logged or wrote as text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from veil.__main__ import main
from veil.synth.recording import demo_recording

pytestmark = pytest.mark.slow


def test_demo_at_debug_leaks_no_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    out = tmp_path / "demo"
    try:
        code = main(["demo", "--out", str(out), "-vv"])
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_veil", False):
                logging.getLogger().removeHandler(handler)
    printed = capsys.readouterr()
    assert code in (0, 5)
    assert "before:" in printed.out and (out / "before.png").exists() and (out / "after.png").exists()
    truth = demo_recording(tmp_path / "again.mp4", seed=7)  # the same seed: the same values
    values = {i.value for frame in truth.frames for i in frame if not i.decoy and len(i.value) >= 6}
    assert values
    written = [p.read_text(encoding="utf-8") for p in out.iterdir() if p.suffix in {".json", ".jsonl"}]
    for value in values:
        assert value not in printed.out and value not in printed.err
        assert all(value not in text for text in written)
