"""The text layer's value labels (`<type:label>`) are keyed on the recording's content: the same
recording gets the same labels wherever its file lies (a server job's input and `veil redact`'s
copy), and two recordings never share a key, even when both are read through links whose target
resolves to the same name (a batch job's input is a link to an anonymous memory file)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from veil.framestep import FrameStep
from veil.models import Box, Finding
from veil.options import Policy
from veil.pipeline import LayerLine
from veil.workers import build_step

BOX = Box(10, 10, 80, 12)
FINDING = Finding("person_name", (BOX,), "test", 1.0, "0f" * 16)


def label(step: FrameStep) -> str:
    assert step.links is not None
    (line,) = step.links.relabel([LayerLine(BOX, "<person_name>")], [FINDING])
    return line.text


def step_for(path: Path) -> FrameStep:
    return build_step(Policy(), False, path, 150)


@contextmanager
def memory_link(folder: Path, data: bytes) -> Iterator[Path]:
    fd = os.memfd_create("veil-redaction-input")
    os.write(fd, data)
    link = folder / "input.mp4"
    link.symlink_to(f"/proc/{os.getpid()}/fd/{fd}")
    try:
        yield link
    finally:
        link.unlink()
        os.close(fd)


def test_the_same_recording_has_the_same_labels_at_any_path(tmp_path: Path) -> None:
    first = tmp_path / "a" / "rec.mp4"
    first.parent.mkdir()
    first.write_bytes(b"recording one" * 100)
    second = tmp_path / "b" / "elsewhere.mp4"
    second.parent.mkdir()
    shutil.copy(first, second)
    assert label(step_for(first)) == label(step_for(second))
    assert label(step_for(first)).startswith("<person_name:")


def test_two_recordings_behind_memory_file_links_do_not_share_labels(tmp_path: Path) -> None:
    (tmp_path / "job1").mkdir()
    (tmp_path / "job2").mkdir()
    with (
        memory_link(tmp_path / "job1", b"recording one") as one,
        memory_link(tmp_path / "job2", b"recording two") as two,
    ):
        assert one.resolve() == two.resolve() or one.resolve().name == two.resolve().name
        assert label(step_for(one)) != label(step_for(two))
