"""The mining report renders in a real browser (Debian's headless Chromium) into a page with
content: charts, tables and the process map take real space on the screenshot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veil.mining.cli import mine
from veil.mining.synth_recording import generate_recording

pytestmark = pytest.mark.slow


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is installed by scripts/setup.sh"
    layer = tmp_path / "rec.textlayer.jsonl"
    generate_recording(layer)
    mine([layer], tmp_path / "out")
    report = tmp_path / "out" / "report.html"
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,1600",
         report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pixels = np.asarray(Image.open(shot).convert("L"))
    ink = (pixels < 200).mean()
    assert pixels.shape == (1600, 1280)
    assert ink > 0.03  # text, bars and the process map, not a blank or error page
