"""Fixtures for the capture tests; the media generators live in capture_media.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from veil.models import Pixels

from .synthetic import write_video


@pytest.fixture(scope="session")
def vfr_mp4(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Pixels]]:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    return path, write_video(path)
