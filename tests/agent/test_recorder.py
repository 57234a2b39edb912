"""The agent's loop with a scripted screen and window and a frame step without OCR: what is kept,
what is never grabbed, what stops capture, what is uploaded."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from veil.agent.client import ServerClient
from veil.agent.control import Mode, set_mode
from veil.agent.outbox import Outbox
from veil.agent.recorder import Recorder, RecordOptions, Status, StepFactory
from veil.agent.segment import read_segment
from veil.capture.windows import WindowEvent
from veil.framestep import FrameDone, FrameStep
from veil.models import Frame
from veil.options import Policy

from .fakes import ScriptedScreen, ScriptedWindows, fake_server, fast_step

SECRET_TITLE = "Payroll of Margaret Quinlan"


def policy(**agent: object) -> Policy:
    settings = {"fps_cap": 10.0, "segment_seconds": 2.0, "heartbeat_seconds": 30.0, "settle_seconds": 0.0,
                **agent}  # fmt: skip
    raw = {"agent": settings, "capture": {"deny": [{"app": "^keepass"}, {"title": "payroll"}]}}
    return Policy.model_validate(raw)


def record(tmp_path: Path, seconds: float, pol: Policy | None = None, screen: ScriptedScreen | None = None,
           windows: ScriptedWindows | None = None, client: ServerClient | None = None,
           script: list[tuple[float, object]] | None = None,
           step_factory: StepFactory = fast_step) -> tuple[Status, Outbox]:  # fmt: skip
    """Run the recorder `seconds`; `script`: (at seconds, callable) steps run meanwhile."""
    options = RecordOptions(tmp_path / "agent", pol or policy(), offline=client is None, duration=seconds)
    recorder = Recorder(options, screen or ScriptedScreen(), windows or ScriptedWindows(), client=client,
                        step_factory=step_factory)  # fmt: skip
    started = time.monotonic()

    def play() -> None:
        for at, step in script or []:
            time.sleep(max(at - (time.monotonic() - started), 0))
            step()  # type: ignore[operator]

    player = threading.Thread(target=play)
    player.start()
    status = recorder.run()
    player.join()
    return status, Outbox(options.folder / "outbox")


def segments(box: Outbox) -> list[tuple[dict[str, object], dict[str, bytes], bytes]]:
    out = []
    for item in box.pending():
        body = item.path.read_bytes()
        manifest, members = read_segment(body)
        out.append((manifest, members, body))
    return sorted(out, key=lambda s: int(s[0]["seq"]))  # type: ignore[call-overload]


def frame_times(box: Outbox) -> list[float]:
    """Each kept frame's capture time (seconds since the epoch)."""
    from datetime import datetime

    times = []
    for manifest, members, _ in segments(box):
        start = datetime.fromisoformat(str(manifest["started_at"]).replace("Z", "+00:00")).timestamp()
        times += [start + json.loads(line)["t"] for line in members["textlayer.jsonl"].splitlines()]
    return times


def test_frames_are_kept_on_change_capped_at_the_policy_fps(tmp_path: Path) -> None:
    status, box = record(tmp_path, 3.0, policy(fps_cap=4.0))
    assert 6 <= status.frames <= 13  # a changing screen: ~4 per second, never more
    found = segments(box)
    assert [m["seq"] for m, _, _ in found] == list(range(len(found))) and len(found) >= 1
    assert all(m["verifier"] == "cleared" and m["recording_id"] == status.recording_id for m, _, _ in found)
    assert sum(int(m["frames"]) for m, _, _ in found) == status.frames  # type: ignore[call-overload]


class CostlyStep(FrameStep):
    """The fast step, plus 40 ms of CPU a frame (an OCR's worth, scaled down)."""

    def __call__(self, frame: Frame) -> FrameDone:
        until = time.process_time() + 0.04
        while time.process_time() < until:
            pass
        return super().__call__(frame)


def costly_step(pol: Policy, recording_id: str) -> FrameStep:
    fast = fast_step(pol, recording_id)
    return CostlyStep(fast.full, True, fast.timeline, pol.scale.segment_frames)


def test_the_agent_keeps_fewer_frames_rather_than_use_more_than_its_cpu_share(tmp_path: Path) -> None:
    started = time.process_time()
    status, _ = record(tmp_path, 3.0, policy(fps_cap=20.0, cpu_share=0.2), step_factory=costly_step)
    used = time.process_time() - started
    # Unbounded it would keep ~20 a second (0.8 of a core); at 0.2 of a core, 5 a second at most.
    assert 3 <= status.frames <= 17
    assert used < 0.5 * 3.0 + 1.0  # this process's CPU over the run (capture included), with slack


def test_a_still_screen_keeps_only_heartbeat_frames(tmp_path: Path) -> None:
    screen = ScriptedScreen()
    screen.frozen = True
    status, _ = record(tmp_path, 2.5, policy(heartbeat_seconds=1.0), screen=screen)
    assert screen.grabs >= 15  # looked ~10 times a second ...
    assert 2 <= status.frames <= 4  # ... kept the first frame and one a second


def test_a_confidential_window_is_never_grabbed_and_leaves_a_gap_without_its_title(tmp_path: Path) -> None:
    screen, windows = ScriptedScreen(), ScriptedWindows()
    crm = windows.window
    grabs: dict[str, int] = {}
    marks: dict[str, float] = {}

    def deny() -> None:
        grabs["at_deny"], marks["deny"] = screen.grabs, time.time()
        windows.window = WindowEvent(0.0, app="KeePassXC", title=SECRET_TITLE)

    def allow() -> None:
        grabs["at_allow"], marks["allow"] = screen.grabs, time.time()
        windows.window = crm

    status, box = record(tmp_path, 4.0, screen=screen, windows=windows, script=[(1.0, deny), (2.5, allow)])
    assert grabs["at_allow"] - grabs["at_deny"] <= 1  # at most the grab under way when it came up
    times = frame_times(box)
    assert times and not [t for t in times if marks["deny"] + 0.15 < t < marks["allow"]]
    gaps = [g for m, _, _ in segments(box) for g in m["gaps"]]  # type: ignore[attr-defined]
    assert [g["reason"] for g in gaps] == ["paused: confidential window"]
    everything = b"".join(body for _, _, body in segments(box))
    assert b"Quinlan" not in everything and b"KeePass" not in everything and b"Payroll" not in everything
    assert status.counts["paused: confidential window"] >= 5


def test_a_title_denied_by_the_policy_stops_capture_too(tmp_path: Path) -> None:
    windows = ScriptedWindows()
    windows.window = WindowEvent(0.0, app="chrome", title=SECRET_TITLE)
    screen = ScriptedScreen()
    status, box = record(tmp_path, 1.0, windows=windows, screen=screen)
    assert status.frames == 0 and screen.grabs == 0 and box.pending() == []


SWITCHES = [(Mode.PAUSED, "paused: by employee"), (Mode.PRIVATE, "private")]
STOPS = [{"recording": False, "reason": "paused-by-employee"}, {"recording": "yes"}, {}]


@pytest.mark.parametrize(("mode", "reason"), SWITCHES)
def test_pause_and_private_keep_nothing(tmp_path: Path, mode: Mode, reason: str) -> None:
    folder = tmp_path / "agent"
    marks: dict[str, float] = {}

    def switch() -> None:
        marks["off"] = time.time()
        set_mode(folder, mode)

    def back() -> None:
        marks["on"] = time.time()
        set_mode(folder, Mode.RECORDING)

    screen = ScriptedScreen()
    _status, box = record(tmp_path, 3.5, screen=screen, script=[(1.0, switch), (2.5, back)])
    times = frame_times(box)
    assert [t for t in times if t < marks["off"]] and [t for t in times if t > marks["on"]]
    assert not [t for t in times if marks["off"] + 0.15 < t < marks["on"]]
    gaps = [g["reason"] for m, _, _ in segments(box) for g in m["gaps"]]  # type: ignore[attr-defined]
    assert gaps == [reason]


def test_a_daily_cap_of_zero_records_nothing(tmp_path: Path) -> None:
    screen = ScriptedScreen()
    status, box = record(tmp_path, 1.0, policy(daily_cap_minutes=0), screen=screen)
    assert status.frames == 0 and screen.grabs == 0 and box.pending() == []


def test_raw_frames_kept_by_policy_are_encrypted_in_the_store_and_never_in_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from veil.exceptions import AccessDenied
    from veil.store.models import ObjectClass
    from veil.store.store import RecordingStore

    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    status, box = record(tmp_path, 3.0, policy(keep_raw=True))
    assert status.segments >= 1
    with RecordingStore.open() as store:
        raws = store.list(klass=ObjectClass.RAW, recording_id=status.recording_id)
        assert len(raws) == status.segments and all(o.owner == "local" for o in raws)
        assert all(o.expires_at - o.created_at == timedelta(days=7) for o in raws)
        with pytest.raises(AccessDenied):  # raw needs a break-glass grant
            store.get(raws[0].object_id, actor="analyst")
    # No PNG (nor any clear picture) anywhere on disk: the raw frames exist encrypted only.
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and not [p for p in files if b"\x89PNG" in p.read_bytes()]
    # ... and raw never reaches the outbox: its segments hold redacted video and text only.
    assert all(read_segment(i.path.read_bytes())[0]["frames"] for i in box.pending())


def _client(url: str, key: Ed25519PrivateKey) -> ServerClient:
    return ServerClient(url, "dev-1", key, timeout=2.0)


def test_segments_are_uploaded_signed_and_removed_only_once_stored(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    with fake_server({"dev-1": key.public_key()}) as server:
        server.fail_puts = 2  # the first two uploads fail: the segments wait in the outbox
        status, box = record(tmp_path, 4.5, client=_client(server.url, key))
        assert status.segments >= 2
        assert box.pending() == []
        assert sorted(seq for _d, _r, seq in server.stored) == list(range(status.segments))
        assert server.answers.count(503) == 2 and 409 not in server.answers
        for (rec, seq), body in server.bodies.items():
            manifest, _ = read_segment(body)
            assert (manifest["recording_id"], manifest["seq"]) == (rec, seq) == (status.recording_id, seq)


@pytest.mark.parametrize("answer", STOPS)
def test_anything_but_recording_true_from_the_server_stops_capture(tmp_path: Path, answer: object) -> None:
    key = Ed25519PrivateKey.generate()
    screen = ScriptedScreen()
    with fake_server({"dev-1": key.public_key()}) as server:
        server.state = answer  # type: ignore[assignment]
        status, _ = record(tmp_path, 1.0, client=_client(server.url, key), screen=screen)
    assert status.frames == 0 and screen.grabs == 0


def test_an_unknown_device_or_an_unreachable_server_stops_capture(tmp_path: Path) -> None:
    screen = ScriptedScreen()
    with fake_server({}) as server:  # the key is not registered: 401
        status, _ = record(tmp_path / "a", 1.0, client=_client(server.url, Ed25519PrivateKey.generate()),
                           screen=screen)  # fmt: skip
    assert status.frames == 0 and screen.grabs == 0
    status, _ = record(
        tmp_path / "b", 1.0, client=_client(server.url, Ed25519PrivateKey.generate()), screen=screen
    )  # fmt: skip  (the server is gone: refused connection)
    assert status.frames == 0 and screen.grabs == 0


def test_the_server_stopping_midway_stops_capture_within_a_poll(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    marks: dict[str, float] = {}
    with fake_server({"dev-1": key.public_key()}) as server:

        def stop() -> None:
            marks["stop"] = time.time()
            server.state = {"recording": False, "reason": "device-revoked"}

        pol = policy(poll_seconds=0.3)
        _status, _box = record(tmp_path, 3.0, pol, client=_client(server.url, key), script=[(1.0, stop)])
        times = [t for body in server.bodies.values() for t in _times(body)]
    assert times and not [t for t in times if t > marks["stop"] + 0.3 + 0.7]  # a poll, and its request


def _times(body: bytes) -> list[float]:
    from datetime import datetime

    manifest, members = read_segment(body)
    start = datetime.fromisoformat(str(manifest["started_at"]).replace("Z", "+00:00")).timestamp()
    return [start + json.loads(line)["t"] for line in members["textlayer.jsonl"].splitlines()]


def test_the_servers_caps_lower_the_policys(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    with fake_server({"dev-1": key.public_key()}) as server:
        server.state = {**server.state, "fps_cap": 2.0}
        status, _ = record(tmp_path / "fps", 2.0, policy(fps_cap=10.0), client=_client(server.url, key))
        assert 2 <= status.frames <= 6  # ~2 a second, not 10
        server.state = {**server.state, "daily_cap_minutes": 0}
        screen = ScriptedScreen()
        status, _ = record(tmp_path / "cap", 1.0, client=_client(server.url, key), screen=screen)
        assert status.frames == 0 and screen.grabs == 0 and status.counts["paused: daily cap"] >= 1


class BrokenScreen(ScriptedScreen):
    def grab(self) -> np.ndarray:
        raise OSError("XGetImage failed")


def test_a_screen_that_cannot_be_grabbed_keeps_nothing_and_says_so(tmp_path: Path) -> None:
    status, box = record(tmp_path, 1.0, screen=BrokenScreen())
    assert status.frames == 0 and box.pending() == [] and status.counts["paused: screen unreadable"] >= 3


def test_the_indicator_says_why_capture_stopped(tmp_path: Path) -> None:
    from veil.agent.window import WindowUnknown

    class Unknown(ScriptedWindows):
        def current(self) -> WindowEvent | None:
            raise WindowUnknown("sidecar is stale")

    seen: list[tuple[str, str]] = []
    options = RecordOptions(tmp_path / "agent", policy(), offline=True, duration=0.5)
    Recorder(options, ScriptedScreen(), Unknown(), step_factory=fast_step,
             on_status=lambda s: seen.append((s.state, s.reason))).run()  # fmt: skip
    assert ("PAUSED", "paused: window unknown") in seen and ("RECORDING", "") not in seen
    set_mode(tmp_path / "agent", Mode.PRIVATE)
    seen.clear()
    Recorder(options, ScriptedScreen(), ScriptedWindows(), step_factory=fast_step,
             on_status=lambda s: seen.append((s.state, s.reason))).run()  # fmt: skip
    assert ("PRIVATE", "private") in seen and ("RECORDING", "") not in seen


def test_a_browser_without_its_url_is_not_grabbed_while_urls_are_denied(tmp_path: Path) -> None:
    raw = {"agent": {"fps_cap": 10.0}, "capture": {"deny": [{"url": r"pay\.example/settle"}]}}
    windows, screen = ScriptedWindows(), ScriptedScreen()
    windows.window = WindowEvent(0.0, app="Chromium", title="Settlement")  # no URL known
    status, _ = record(tmp_path / "a", 1.0, Policy.model_validate(raw), screen=screen, windows=windows)
    assert status.frames == 0 and screen.grabs == 0 and status.counts["paused: URL unknown"] >= 3
    windows.window = WindowEvent(0.0, app="Chromium", title="Orders", url="https://shop.example/orders")
    status, _ = record(tmp_path / "b", 1.0, Policy.model_validate(raw), screen=screen, windows=windows)
    assert status.frames >= 3  # a URL known and allowed
    windows.window = WindowEvent(0.0, app="Chromium", title="Pay", url="https://pay.example/settle/7")
    status, _ = record(
        tmp_path / "c", 1.0, Policy.model_validate(raw), screen=ScriptedScreen(), windows=windows
    )
    assert status.frames == 0 and status.counts["paused: confidential window"] >= 3
    windows.window = WindowEvent(0.0, app="libreoffice", title="Sheet")  # not a browser: no URL to know
    status, _ = record(tmp_path / "d", 1.0, Policy.model_validate(raw), windows=windows)
    assert status.frames >= 3


def test_nothing_is_captured_under_a_policy_the_server_no_longer_has_in_force(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    screen = ScriptedScreen()
    with fake_server({"dev-1": key.public_key()}) as server:
        server.state = {**server.state, "policy_version": "2"}  # ours is "1"
        status, _ = record(tmp_path, 1.0, client=_client(server.url, key), screen=screen)
    assert status.frames == 0 and screen.grabs == 0
    assert status.counts["paused: the server has another policy in force"] >= 1


def test_the_agent_records_on_under_the_policy_the_server_puts_in_force(tmp_path: Path) -> None:
    """Without --policy the agent records under the server's policy; when the server puts another
    in force mid-recording, capture stops at once and goes on under the new one, as a new
    recording (one recording, one policy); no frame is captured under the old one after the
    change is seen."""
    from veil.agent.cli import record_on

    key = Ed25519PrivateKey.generate()
    folder = tmp_path / "agent"
    screen = ScriptedScreen()
    agent = "{fps_cap: 10, segment_seconds: 2, poll_seconds: 0.2, heartbeat_seconds: 30}"

    def text(version: str) -> str:
        return f'version: "{version}"\nagent: {agent}\n'

    with fake_server({"dev-1": key.public_key()}) as server:
        server.policy_text = text("1")
        client = _client(server.url, key)
        versions: list[str] = []
        marks: dict[str, float] = {}

        def new_recorder(pol: Policy, left: float | None) -> Recorder:
            versions.append(pol.version)
            options = RecordOptions(folder, pol, duration=left, owner="dev-1", follow_server_policy=True)
            return Recorder(options, screen, ScriptedWindows(), client=client, step_factory=fast_step)

        def change() -> None:
            time.sleep(2.5)
            server.policy_text = text("2")
            server.state = {**server.state, "policy_version": "2"}
            marks["changed"] = time.time()

        changer = threading.Thread(target=change)
        changer.start()
        current: list[Recorder] = []
        status = record_on(new_recorder, policy(), client, 5.0, threading.Event(), current)
        changer.join()
        deadline = time.monotonic() + 10
        while len(server.bodies) < status.segments and time.monotonic() < deadline:
            time.sleep(0.1)
        bodies = dict(server.bodies)
        fetches = server.policy_fetches
    assert versions == ["1", "2"] and fetches == 2
    assert status.frames > 0  # the second recorder recorded under "2"
    manifests = [read_segment(b)[0] for b in bodies.values()]
    policies: dict[str, set[str]] = {}
    for m in manifests:
        policies.setdefault(str(m["recording_id"]), set()).add(str(m["policy_version"]))
    assert policies[status.recording_id] == {"2"}
    assert sorted(map(sorted, policies.values())) == [["1"], ["2"]]
    # Frames captured under "1" all precede the change being seen (a poll, 0.2 s, and its request).
    old = [t for b in bodies.values() if read_segment(b)[0]["policy_version"] == "1" for t in _times(b)]
    assert old and max(old) <= marks["changed"] + 0.2 + 0.7


def test_a_policy_whose_text_does_not_match_its_digest_is_not_taken(tmp_path: Path) -> None:
    from veil.agent.cli import server_policy
    from veil.exceptions import PolicyError

    key = Ed25519PrivateKey.generate()
    with fake_server({"dev-1": key.public_key()}) as server:
        client = _client(server.url, key)
        server.policy_text = 'version: "7"\n'
        assert server_policy(client, 0.1).version == "7"
        server.policy_digest = "0" * 64  # altered on the way: not taken
        with pytest.raises(PolicyError, match="could not fetch the server's policy"):
            server_policy(client, 0.01, tries=1)
        server.policy_digest = None
        server.policy_text = "version: [not, a, version]\n"  # invalid: refused with the reason
        with pytest.raises(PolicyError, match="version"):
            server_policy(client, 0.1)
    with pytest.raises(PolicyError, match="could not fetch the server's policy"):
        server_policy(client, 0.01, tries=2)  # the server is gone


def test_a_server_that_announces_one_policy_and_sends_another_is_an_error(tmp_path: Path) -> None:
    """Not a loop of recordings that each stop at once: asked again, then refused."""
    from veil.agent.cli import server_policy
    from veil.exceptions import PolicyError

    key = Ed25519PrivateKey.generate()
    with fake_server({"dev-1": key.public_key()}) as server:
        client = _client(server.url, key)
        server.policy_text = 'version: "1"\n'  # while its state names "2"
        with pytest.raises(PolicyError, match="names one policy version and it sends another"):
            server_policy(client, 0.01, announced="2", tries=3)
        assert server.policy_fetches == 3
        server.policy_text = 'version: "2"\n'
        assert server_policy(client, 0.01, announced="2").version == "2"
