"""`veil redact --engine ray`: the same output as the local pool, in frame order; an actor killed
mid-segment (by pid or by `ray.kill`) or stalled costs a retry, not a frame; a segment that fails
every time is masked whole; memory stays flat over a long input (a bounded window of segments).

One local Ray for the module (2 CPUs); fast tests use the local pool's fake pipeline
(`tests.track.test_pool.fake_step`: an engine that reads one e-mail line on every frame).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.capture.synthetic import index_of, write_video
from tests.track.test_pool import FRAMES, POLICY, SEGMENT, SIZE, fake_step, frames, run
from veil.exceptions import EngineError
from veil.framestep import FrameDone, FrameStep
from veil.models import Frame, MaskReason
from veil.options import Policy
from veil.scale.work import RayWork, open_ray_work
from veil.workers import PoolConfig

PAUSE_AT = 9  # inside the third segment (8..11)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ray") / "rec.mp4"
    write_video(path, pts=[i * 3000 for i in range(FRAMES)], size=SIZE)
    return path


@pytest.fixture
def own_video(video: Path, tmp_path: Path) -> Path:
    """A copy of the recording in a folder of its own: the fault steps keep their marker there."""
    return Path(shutil.copy(video, tmp_path / "rec.mp4"))


def marker(source: Path) -> Path:
    return source.parent / "paused.pid"


class _PausingOnce(FrameStep):
    """At PAUSE_AT, the first attempt writes its pid and waits to be killed; a retry passes."""

    def __init__(self, base: FrameStep, source: Path) -> None:
        super().__init__(base.full, base.incremental, base.timeline, base.segment_frames)
        self.source = source

    def __call__(self, frame: Frame) -> FrameDone:
        if frame.index == PAUSE_AT and not marker(self.source).exists():
            marker(self.source).write_text(str(os.getpid()), encoding="ascii")
            time.sleep(120)
        return super().__call__(frame)


class _CrashingAlways(FrameStep):
    def __call__(self, frame: Frame) -> FrameDone:
        if frame.index == PAUSE_AT:
            os._exit(7)
        return super().__call__(frame)


def pausing_step(policy: Policy, full: bool, source: Path, segment_frames: int) -> FrameStep:
    return _PausingOnce(fake_step(policy, full, source, segment_frames), source)


def crashing_step(policy: Policy, full: bool, source: Path, segment_frames: int) -> FrameStep:
    base = fake_step(policy, full, source, segment_frames)
    return _CrashingAlways(base.full, base.incremental, base.timeline, segment_frames)


def ray_work(source: Path, factory: object = fake_step, **kwargs: Any) -> RayWork:
    config = PoolConfig(source, POLICY, False, SEGMENT, source.parent, factory)  # type: ignore[arg-type]
    return RayWork(config, 2, None, **kwargs)


def run_ray(work: RayWork, source: Path) -> list[FrameDone]:
    with work:
        return [work.process(f) for f in frames(source)]


def assert_same(local: list[FrameDone], remote: list[FrameDone]) -> None:
    assert [d.result.index for d in remote] == list(range(FRAMES))
    assert [d.layer for d in remote] == [d.layer for d in local]
    for a, b in zip(local, remote, strict=True):
        assert np.array_equal(a.pixels, b.pixels)
        assert [replace(f, value_hmac="") for f in a.result.findings] == list(b.result.findings)
        assert not b.result.masked_whole and b.result.findings[0].type == "email"


@pytest.fixture(scope="module")
def local(video: Path, tmp_path_factory: pytest.TempPathFactory) -> list[FrameDone]:
    return run(video, 2, tmp_path_factory.mktemp("pool"))


def test_ray_equals_local_pool(ray: Any, video: Path, local: list[FrameDone]) -> None:
    work = open_ray_work(video, POLICY, False, 2, SEGMENT, FRAMES, fake_step)
    assert_same(local, run_ray(work, video))
    assert work.stats["workers"] == 2 and work.stats["segments"] == -(-FRAMES // SEGMENT)


def _kill_when_paused(source: Path, kill: Any) -> threading.Thread:
    def watch() -> None:
        deadline = time.monotonic() + 120
        while not marker(source).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the pid is written before the pause begins
        kill(int(marker(source).read_text(encoding="ascii")))

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_actor_process_killed_by_pid_mid_segment(
    ray: Any, own_video: Path, local: list[FrameDone], capsys: pytest.CaptureFixture[str]
) -> None:
    work = ray_work(own_video, pausing_step)
    thread = _kill_when_paused(own_video, lambda pid: os.kill(pid, signal.SIGKILL))
    done = run_ray(work, own_video)
    thread.join(5)
    time.sleep(1)  # Ray's notice of the dead worker arrives asynchronously
    assert capsys.readouterr().out == ""  # stdout carries `--json` results: Ray's notice is logged
    assert marker(own_video).exists()  # the fault did happen
    assert_same(local, done)  # retried: the same output, nothing masked
    assert work.stats["workers_lost"] == 1 and work.stats["segments_retried"] >= 1


def test_actor_killed_by_ray_mid_segment(ray: Any, own_video: Path, local: list[FrameDone]) -> None:
    work = ray_work(own_video, pausing_step)
    with work:
        by_pid = {ray.get(h.pid.remote()): h for h in work.actors()}
        thread = _kill_when_paused(own_video, lambda pid: ray.kill(by_pid[pid], no_restart=True))
        done = [work.process(f) for f in frames(own_video)]
    thread.join(5)
    assert_same(local, done)
    assert work.stats["workers_lost"] == 1


def test_stalled_actor_is_replaced_and_its_segment_retried(
    ray: Any, own_video: Path, local: list[FrameDone]
) -> None:
    # 12 s: long enough that the replacement actor's own start (a Ray worker process importing
    # Veil on a loaded 2-core machine) is not taken for a second stall; the pause lasts 120 s.
    work = ray_work(own_video, pausing_step, stall_seconds=12)
    assert_same(local, run_ray(work, own_video))
    assert work.stats["workers_lost"] == 1


def test_segment_failing_every_time_is_masked_whole(ray: Any, own_video: Path) -> None:
    work = ray_work(own_video, crashing_step, retries=1)
    done = run_ray(work, own_video)
    assert [d.result.index for d in done] == list(range(FRAMES))
    masked = {d.result.index: d.result.mask_reason for d in done if d.result.masked_whole}
    start = PAUSE_AT - PAUSE_AT % SEGMENT
    assert masked == dict.fromkeys(range(start, start + SEGMENT), MaskReason.WORKER_FAILED)
    for index in masked:  # black: nothing of those frames was written unread
        assert not done[index].pixels.any()
        assert [ln["text"] for ln in json.loads(done[index].layer)["lines"]] == ["<masked>"]
    assert all(index_of(d.pixels) == d.result.index for d in done if not d.result.masked_whole)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_memory_flat_and_segments_bounded_over_a_long_input(ray: Any, tmp_path: Path) -> None:
    count, segment = 2400, 40
    path = tmp_path / "long.mp4"
    write_video(path, pts=[i * 3000 for i in range(count)], size=(64, 48))
    config = PoolConfig(path, POLICY, False, segment, tmp_path, fake_step)
    work = RayWork(config, 2, count, window=3)
    rss: list[float] = []
    with work:
        for frame in frames(path):
            done = work.process(frame)
            assert done.result.index == frame.index and not done.result.masked_whole
            assert len(work._segments) <= 3  # the window: segments planned, in flight or unwritten
            if frame.index % 300 == 299:
                rss.append(_rss_mb())
    assert work.stats["segments"] == count // segment
    # After warm-up, the driver's memory does not grow with the input (a leak of one frame's
    # result per frame would add tens of MB over 2,400 frames).
    assert max(rss[2:]) - rss[1] < 15, rss


def broken_step(policy: Policy, full: bool, source: Path, segment_frames: int) -> FrameStep:
    raise EngineError("injected: a model that cannot load")


def test_actor_that_cannot_build_its_pipeline_stops_the_run(ray: Any, video: Path) -> None:
    with pytest.raises(EngineError, match="could not build its pipeline"), ray_work(video, broken_step):
        pytest.fail("the run must not start")
