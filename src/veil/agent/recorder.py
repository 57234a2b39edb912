"""The capture agent's loop: look, gate, keep on change, redact and verify here, queue, upload.

    capture thread   every 1/fps s: may I record (employee's switch, server state, daily cap)?
                     window in front -> deny-list -> grab -> window again (unchanged, allowed?)
                     -> changed since the last kept frame, not a caret's blink, settled (or
                     heartbeat due)? -> queue (bounded)
    process thread   FrameStep (the incremental pipeline with its verifier, as `veil redact` runs
                     it) -> segment (video + text layer + manifest) -> outbox when cleared;
                     rests after a frame to stay within the policy's share of a CPU core
    upload thread    outbox -> server (signed PUT), removed after 200/201
    poll thread      GET state; no fresh `recording: true` stops capture (fail closed)

A grab taken while a confidential window is in front (before or after the grab) is dropped at once,
never queued; the time is a gap "paused: confidential window", with no window named. One kept frame
waits at most: when the process thread is behind (or resting within its CPU share), a newer frame
takes the waiting one's place (the rate adapts to the CPU, the lag stays one frame).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from veil.agent.client import ServerClient
from veil.agent.control import Control, Mode
from veil.agent.outbox import Outbox
from veil.agent.screen import ChangeTest, Screen
from veil.agent.segment import Gap, SegmentBuilder, SegmentRefused
from veil.agent.uploader import StatePoller, Uploader
from veil.agent.window import BROWSERS, WindowReader, WindowUnknown
from veil.capture.windows import WindowEvent, WindowGate, WindowTimeline
from veil.exceptions import PolicyError

if TYPE_CHECKING:
    from veil.agent.raw import RawKeeper
from veil.framestep import FrameStep
from veil.models import Frame, Pixels
from veil.options import Policy
from veil.runfiles import sweep

log = logging.getLogger(__name__)
CONFIDENTIAL = "paused: confidential window"

StepFactory = Callable[[Policy, str], FrameStep]


class LiveTimeline(WindowTimeline):
    """The window of the frame being processed (the agent knows it; no sidecar to look up)."""

    def __init__(self) -> None:
        super().__init__([])
        self.window: WindowEvent | None = None

    def at(self, seconds: float) -> WindowEvent | None:
        return self.window


def default_step(policy: Policy, recording_id: str) -> FrameStep:
    """The policy's pipeline, incremental, value links per recording (as `veil redact`)."""
    from veil.api import build_pipeline
    from veil.framestep import ValueLinks

    pipeline = build_pipeline(policy)
    links = ValueLinks(pipeline.key, recording_id) if policy.redact.value_links else None
    return FrameStep(pipeline, True, LiveTimeline(), policy.scale.segment_frames, links)


@dataclass(frozen=True)
class RecordOptions:
    folder: Path  # the agent folder: control file, device key, settings
    policy: Policy = field(default_factory=Policy)
    outbox: Path | None = None  # default: <folder>/outbox
    offline: bool = False
    duration: float | None = None  # stop after so many seconds (None: until stopped)
    owner: str = "local"  # who raw objects belong to in the store (the device id when connected)
    # The policy came from the server: when the server puts another in force, stop (the caller
    # fetches it and records on). Otherwise (a --policy file) stay paused until they agree.
    follow_server_policy: bool = False


@dataclass
class Status:
    state: str = "STARTING"  # RECORDING | PAUSED | PRIVATE | STOPPED
    reason: str = ""
    recording_id: str = ""
    frames: int = 0
    segments: int = 0
    pending: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # dropped grabs and refused segments, by why
    pipeline: dict[str, float] = field(default_factory=dict)  # the frame step's counts and seconds
    startup_cpu_seconds: float = 0.0  # this process's CPU time before the first look (models loaded)

    def line(self) -> str:
        why = f" ({self.reason})" if self.reason and self.state != "RECORDING" else ""
        return (f"{self.state}{why}  frames {self.frames}  segments {self.segments}  "
                f"waiting to upload {self.pending}")  # fmt: skip


class CpuBudget:
    """Keeps the agent's CPU time at most `share` of the wall time: after each frame, the process
    thread rests until the agent's CPU since the last rest is `share` of the time gone by (the
    capture thread meanwhile drops what it cannot queue). Once capture stopped, nothing rests."""

    def __init__(self, share: float, ended: threading.Event) -> None:
        self.share, self.ended = share, ended
        self._cpu, self._wall = time.process_time(), time.monotonic()

    def rest(self) -> None:
        used = time.process_time() - self._cpu
        owed = used / self.share - (time.monotonic() - self._wall)
        if owed > 0:
            self.ended.wait(owed)
        self._cpu, self._wall = time.process_time(), time.monotonic()


@dataclass(frozen=True)
class _Kept:
    at: datetime
    window: WindowEvent | None
    pixels: Pixels


_IDLE = _Kept(datetime.min.replace(tzinfo=UTC), None, np.zeros((1, 1, 3), np.uint8))  # no frame came


class Waiting:
    """The kept frame waiting for the process thread: one at most, the newest. A newer frame takes
    the place of one not yet processed, so the next frame processed is the screen as last seen,
    however far behind the process thread is."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._item: _Kept | None = None
        self._ended = False

    def put(self, item: _Kept) -> bool:
        """Wait `item`; True when it took the place of a frame never processed."""
        with self._ready:
            replaced = self._item is not None
            self._item = item
            self._ready.notify()
            return replaced

    def end(self) -> None:
        """Capture ended: `get` gives what is waiting, then None."""
        with self._ready:
            self._ended = True
            self._ready.notify()

    def get(self, timeout: float) -> _Kept | None:
        """The waiting frame; `_IDLE` when none came within `timeout`; None once ended and empty."""
        with self._ready:
            self._ready.wait_for(lambda: self._item is not None or self._ended, timeout)
            item, self._item = self._item, None
        if item is not None:
            return item
        return None if self._ended else _IDLE


class Recorder:
    def __init__(
        self,
        options: RecordOptions,
        screen: Screen,
        windows: WindowReader,
        *,
        client: ServerClient | None = None,
        step_factory: StepFactory = default_step,
        on_status: Callable[[Status], None] | None = None,
    ) -> None:
        policy = options.policy
        if client is None and not options.offline:
            raise PolicyError("no server: run `veil record init --server URL` or use --offline")
        self.options, self.policy = options, policy
        self.screen, self.windows, self.client = screen, windows, client
        self.gate = WindowGate(policy.capture.deny)
        self._url_rules = any(rule.url for rule in policy.capture.deny)
        self.control = Control(options.folder)
        self.outbox = Outbox(options.outbox or options.folder / "outbox")
        self.outbox.lock()
        self.work = self.outbox.folder / "work"
        self.work.mkdir(mode=0o700, exist_ok=True)
        sweep(self.work)  # segments a killed agent was building: never queued, removed
        self.step_factory = step_factory
        self.raw: RawKeeper | None = None
        if policy.agent.keep_raw:
            from veil.agent.raw import RawKeeper

            self.raw = RawKeeper(policy, options.owner)
        self.on_status = on_status or (lambda _s: None)
        self.status = Status()
        self.poller = StatePoller(client, policy.agent.poll_seconds,
                                  2 * policy.agent.poll_seconds + policy.agent.server_timeout_seconds
                                  ) if client else None  # fmt: skip
        self.uploader = Uploader(self.outbox, client) if client else None
        self._waiting = Waiting()
        self._stop = threading.Event()
        self._captured = threading.Event()  # capture ended: what is queued is processed at once
        self._gaps: list[Gap] = []
        self._gap: tuple[datetime, str] | None = None
        self._lock = threading.Lock()
        self._segment_started: datetime | None = None
        self._failure: BaseException | None = None
        self._capture_ended: datetime | None = None
        self.server_policy: str | None = None  # the server's policy version, when not ours

    # -- control -------------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def _blocked(self) -> tuple[str, str] | None:
        """(state, reason) when capture must not run now, else None."""
        mode = self.control.mode()
        if mode is Mode.PRIVATE:
            return "PRIVATE", "private"
        if mode is Mode.PAUSED:
            return "PAUSED", "paused: by employee"
        cap = self.policy.agent.daily_cap_minutes
        if self.poller is not None:
            state = self.poller.current()
            if not state.recording:
                return "PAUSED", f"paused: server ({state.reason})"
            if state.policy_version and state.policy_version != self.policy.version:
                # Nothing is captured under a policy the server no longer has in force.
                self.server_policy = state.policy_version
                if self.options.follow_server_policy:
                    self._stop.set()
                return "PAUSED", "paused: the server has another policy in force"
            if state.daily_cap_minutes is not None:
                cap = min(cap, state.daily_cap_minutes)
        with self._lock:
            started = self._segment_started
        building = (datetime.now(UTC) - started).total_seconds() if started else 0.0
        if self.outbox.recorded_today() + building >= cap * 60:
            return "PAUSED", "paused: daily cap"
        return None

    def _fps(self) -> float:
        fps = self.policy.agent.fps_cap
        if self.poller is not None:
            server = self.poller.current().fps_cap
            fps = min(fps, server) if server else fps
        return fps

    # -- gaps ----------------------------------------------------------------------------------------
    def _open_gap(self, why: str) -> None:
        now = datetime.now(UTC)
        if self._gap is not None and self._gap[1] != why:
            self._close_gap(now)
        if self._gap is None:
            self._gap = (now, why)

    def _close_gap(self, now: datetime) -> None:
        if self._gap is not None:
            with self._lock:
                self._gaps.append(Gap(self._gap[0], now, self._gap[1]))
            self._gap = None

    def _take_gaps(self, until: datetime) -> list[Gap]:
        with self._lock:
            taken = [g for g in self._gaps if g.end <= until]
            self._gaps = [g for g in self._gaps if g.end > until]
        return taken

    # -- the capture thread (the caller's) ----------------------------------------------------------
    def run(self) -> Status:
        """Record until stopped (`stop()`, the duration, an error); returns the final status."""
        recording_id, resumed = self.outbox.begin()
        self.status.recording_id = recording_id
        if resumed:
            log.info("continuing recording after an interruption at segment %d", self.outbox.next_seq)
        step = self.step_factory(self.policy, recording_id)
        self.status.startup_cpu_seconds = round(time.process_time(), 2)
        timeline = LiveTimeline()
        step.timeline = timeline
        if self.poller is not None and self.uploader is not None:
            self.poller.start()
            self.uploader.start()
        worker = threading.Thread(target=self._process, args=(step, timeline), name="veil-agent-process")
        worker.start()
        try:
            self._capture()
        finally:
            self._capture_ended = datetime.now(UTC)
            self._captured.set()
            self._close_gap(self._capture_ended)
            self._waiting.end()
            worker.join()
            if self.poller is not None and self.uploader is not None:
                self.poller.stop()
                self.uploader.stop(drain_seconds=self.policy.agent.server_timeout_seconds)
            self.outbox.close()
            self.outbox.unlock()
            if self.raw is not None:
                self.raw.close()
            self.status.state, self.status.reason = "STOPPED", ""
            self.status.pending = len(self.outbox.pending())
            self.on_status(self.status)
        if self._failure is not None:
            raise self._failure
        return self.status

    def _capture(self) -> None:
        changes = ChangeTest(self.policy.agent.change_threshold, self.policy.agent.settle_seconds)
        started = last_kept = counted = time.monotonic()
        last_kept -= self.policy.agent.heartbeat_seconds
        counted -= 1.0
        while not self._stop.is_set() and self._failure is None:
            tick = time.monotonic()
            duration = self.options.duration
            if duration is not None and tick - started >= duration:
                break
            kept = self._look(changes, tick - last_kept >= self.policy.agent.heartbeat_seconds)
            if kept:
                last_kept = tick
            if tick - counted >= 1.0:  # a directory listing: once a second is enough
                self.status.pending, counted = len(self.outbox.pending()), tick
            self.on_status(self.status)
            self._stop.wait(max(1.0 / self._fps() - (time.monotonic() - tick), 0.0))

    def _look(self, changes: ChangeTest, heartbeat: bool) -> bool:  # noqa: PLR0911
        """One tick; True when a frame was kept."""
        blocked = self._blocked()
        if blocked is not None:
            self.status.state, self.status.reason = blocked
            return self._skip(changes, blocked[1])
        try:
            before = self.windows.current()
            if before is not None and self.gate.denies(before):
                return self._skip(changes, CONFIDENTIAL)
            if self._url_unknown(before):
                return self._skip(changes, "paused: URL unknown")
            pixels: Pixels | None = self.screen.grab()
            after = self.windows.current()
        except WindowUnknown:
            return self._skip(changes, "paused: window unknown")
        except Exception as exc:  # noqa: BLE001 - mss raises its own error types; nothing is kept
            log.warning("screen grab failed (%s); nothing kept", type(exc).__name__)
            return self._skip(changes, "paused: screen unreadable")
        if after != before or (after is not None and self.gate.denies(after)):
            pixels = None  # the window changed during the grab: drop it, look again next tick
            return self._skip(changes, CONFIDENTIAL if after and self.gate.denies(after) else "")
        self.status.state, self.status.reason = "RECORDING", ""
        assert pixels is not None
        wanted = changes.wants(pixels, time.monotonic())
        if not (heartbeat or wanted):
            return False
        now = datetime.now(UTC)
        self._close_gap(now)
        if self._waiting.put(_Kept(now, before, pixels)):
            self.status.counts["dropped: busy"] += 1  # the frame it replaced was never processed
        changes.keep(pixels)
        return True

    def _url_unknown(self, window: WindowEvent | None) -> bool:
        """A browser in front whose URL nobody told us, while the policy denies URLs: the rule
        cannot be checked before the grab, so nothing is grabbed (see docs/agent.md)."""
        return self._url_rules and window is not None and not window.url and bool(BROWSERS.search(window.app))

    def _skip(self, changes: ChangeTest, why: str) -> bool:
        changes.forget()
        if why:
            if why != "private":  # (PRIVATE is set by the switch itself)
                self.status.state, self.status.reason = "PAUSED", why
            self.status.counts[why] += 1
            self._open_gap(why)
        return False

    # -- the process thread -------------------------------------------------------------------------
    def _process(self, step: FrameStep, timeline: LiveTimeline) -> None:
        segment: SegmentBuilder | None = None
        index = 0
        length = self.policy.agent.segment_seconds
        budget = CpuBudget(self.policy.agent.cpu_share, self._captured)
        try:
            while True:
                item = self._waiting.get(timeout=0.5)
                if item is None:
                    break
                now = datetime.now(UTC) if item is _IDLE else item.at
                if segment is not None and (now - segment.started_at).total_seconds() >= length:
                    self._finish(segment, now)
                    segment = None
                if item is _IDLE:
                    continue
                if segment is None:
                    segment = self._new_segment(item.at)
                timeline.window = item.window
                millis = round((item.at - segment.started_at).total_seconds() * 1000)
                frame = Frame(index, item.pixels, millis, Fraction(1, 1000))
                if self.raw is not None:
                    self.raw.add(millis / 1000, item.pixels)
                segment.add(item.at, index, step(frame))
                index += 1
                self.status.frames += 1
                budget.rest()
            if segment is not None:  # the last segment ends when capture did, not when it drained
                self._finish(segment, min(datetime.now(UTC), self._capture_ended or datetime.now(UTC)))
            self.status.pipeline = {
                **step.stats,
                **{f"{k}_seconds": round(v, 2) for k, v in step.timings.items()},
            }
        except BaseException as exc:  # noqa: BLE001 - handed to the capture thread, which re-raises
            self._failure = exc
            if segment is not None:
                segment.abort()
            if self.raw is not None:
                self.raw.drop()

    def _new_segment(self, at: datetime) -> SegmentBuilder:
        if self.poller is not None:
            self.poller.poll()  # the server is asked again before each segment
        with self._lock:
            self._segment_started = at
        return SegmentBuilder(
            self.status.recording_id, -1, at, self.policy.version, self._fps(), self.policy.video, self.work
        )

    def _finish(self, segment: SegmentBuilder, ended_at: datetime) -> None:
        segment.gaps.extend(self._take_gaps(ended_at))
        segment.seq = self.outbox.next_seq
        if self.raw is not None:  # raw is kept whatever the verifier said; it never leaves
            self.raw.store_segment(segment.recording_id)
        try:
            body = segment.finish(ended_at)
        except SegmentRefused as exc:
            log.warning("segment dropped: %s", exc)
            self.status.counts["segments refused"] += 1
            return
        finally:
            with self._lock:
                self._segment_started = None
        self.outbox.queue(segment.seq, body, (ended_at - segment.started_at).total_seconds())
        self.status.segments += 1
        if self.uploader is not None:
            self.uploader.wake()
