"""onnxruntime's telemetry stays off: running Veil's OCR and face models writes no device id and no
telemetry database under the user's cache (it does without Veil: the control run proves the check)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TELEMETRY_DIR = Path(".cache") / "Microsoft" / "DeveloperTools"
CI_VARIABLES = (
    "CI",
    "CONTINUOUS_INTEGRATION",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "TF_BUILD",
    "BUILD_NUMBER",
    "JENKINS_URL",
)

RUN_VEIL = """
import sys
from pathlib import Path
from PIL import Image, ImageDraw
from veil.api import RunOptions, redact_file
from veil.options import Policy
folder = Path(sys.argv[1])
image = Image.new("RGB", (320, 120), "white")
ImageDraw.Draw(image).text((10, 40), "Phone 010-1234-5678", fill="black")
image.save(folder / "in.png")
redact_file(folder / "in.png", RunOptions(Policy(), output=folder / "out.png"))
"""


def _run(code: str, home: Path) -> None:
    # onnxruntime stays silent under CI (the CI variable set): both runs must look like a desktop.
    dropped = {"XDG_CACHE_HOME", "ORT_DISABLE_TELEMETRY", *CI_VARIABLES}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env |= {"HOME": str(home), "VEIL_HOME": str(home / "veil")}
    subprocess.run([sys.executable, "-c", code, str(home)], env=env, check=True, timeout=600)


def _files(home: Path) -> list[Path]:
    return [p for p in (home / TELEMETRY_DIR).rglob("*") if p.is_file()]


@pytest.mark.slow
def test_veil_writes_no_onnxruntime_telemetry(tmp_path: Path) -> None:
    _run(RUN_VEIL, tmp_path)
    assert _files(tmp_path) == []


def test_control_onnxruntime_alone_writes_telemetry(tmp_path: Path) -> None:
    _run("import onnxruntime", tmp_path)
    assert _files(tmp_path), "onnxruntime no longer writes telemetry: the test above proves nothing"
