"""Shared fixtures: generated UI logs (synthetic people and values only)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from veil.mining.synth import LogSpec, generate_log, write_log

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/ holds the scoring shared with the tests


@pytest.fixture(scope="session")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    rows = generate_log(LogSpec(users=6, instances_per_user=12, seed=3))
    return write_log(rows, tmp_path_factory.mktemp("log") / "ui.csv"), rows
