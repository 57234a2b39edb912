"""The agent on a scripted desktop (Xvfb, chromium with a synthetic CRM page, real OCR): segments
come out, no planted value survives in the text layer or the redacted video (re-scanned by the
verifier: zero findings), a confidential window and a pause leave no frame, kill -9 loses nothing."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import av
import numpy as np
import pytest

from veil.agent.control import Mode, set_mode
from veil.agent.outbox import Outbox
from veil.agent.recorder import Recorder, RecordOptions
from veil.agent.screen import MssScreen
from veil.agent.segment import read_segment
from veil.agent.window import X11Windows
from veil.options import Policy

from .conftest import SHOWN, TYPED, Browser, Vault

ROOT = Path(__file__).resolve().parents[2]
POLICY = {"agent": {"fps_cap": 1.0, "segment_seconds": 6.0, "heartbeat_seconds": 5.0},
          "capture": {"deny": [{"app": "^keepass"}]}}  # fmt: skip


def test_the_active_window_by_focus_and_by_ewmh(crm: Browser, vault: Vault) -> None:
    from Xlib import Xatom, display

    windows = X11Windows()
    crm.focus()
    seen = windows.current()
    assert seen is not None and seen.app.lower() == "chromium" and "Acme CRM" in seen.title
    vault.show()
    seen = windows.current()
    assert seen is not None and seen.app == "KeePassXC" and "Quinlan" in seen.title
    vault.hide()
    # A window manager's EWMH property wins over the input focus.
    d = display.Display()
    root = d.screen().root
    active = d.intern_atom("_NET_ACTIVE_WINDOW")
    root.change_property(active, Xatom.WINDOW, 32, [vault.w.id])
    d.sync()
    try:
        crm.focus()
        seen = windows.current()
        assert seen is not None and seen.app == "KeePassXC"
    finally:
        root.delete_property(active)
        d.sync()
        d.close()
    windows.close()


def _frames(mp4: bytes, tmp: Path) -> list[np.ndarray]:
    path = tmp / "seg.mp4"
    path.write_bytes(mp4)
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.slow
def test_recording_a_crm_page_keeps_no_planted_value_and_nothing_while_hidden(
    crm: Browser, vault: Vault, tmp_path: Path
) -> None:
    folder = tmp_path / "agent"
    marks: dict[str, float] = {}

    def script() -> None:
        time.sleep(3)
        crm.type(TYPED["email"])
        time.sleep(3)
        marks["vault"] = time.time()
        vault.show()
        time.sleep(3)
        marks["vault_gone"] = time.time()  # marked before it goes: a frame after it is allowed
        vault.hide()
        crm.focus()
        time.sleep(2)
        marks["pause"] = time.time()
        set_mode(folder, Mode.PAUSED)
        time.sleep(3)
        marks["resume"] = time.time()
        set_mode(folder, Mode.RECORDING)

    options = RecordOptions(folder, Policy.model_validate(POLICY), offline=True, duration=19)
    recorder = Recorder(options, MssScreen(), X11Windows())
    player = threading.Thread(target=script)
    player.start()
    status = recorder.run()
    player.join()

    found = []
    for item in Outbox(folder / "outbox").pending():
        manifest, members = read_segment(item.path.read_bytes())
        found.append((manifest, members))
    found.sort(key=lambda s: int(s[0]["seq"]))  # type: ignore[call-overload]
    assert len(found) >= 2 and [m["seq"] for m, _ in found] == list(range(len(found)))  # fewer when loaded
    assert all(m["verifier"] == "cleared" for m, _ in found)

    times, layers, pictures = [], b"", []
    for manifest, members in found:
        start = datetime.fromisoformat(str(manifest["started_at"]).replace("Z", "+00:00")).timestamp()
        lines = members["textlayer.jsonl"].splitlines()
        times += [start + json.loads(line)["t"] for line in lines]
        layers += members["textlayer.jsonl"]
        frames = _frames(members["redacted.mp4"], tmp_path)
        assert len(frames) == len(lines) == manifest["frames"]
        pictures += frames
    assert status.frames == len(times)
    # No frame while the confidential window or the pause was in front (1 s: one tick's grab).
    assert not [t for t in times if marks["vault"] + 1.0 < t < marks["vault_gone"]]
    assert not [t for t in times if marks["pause"] + 1.0 < t < marks["resume"]]
    assert [t for t in times if t > marks["resume"] + 1.0], "recording resumed"
    gaps = [g["reason"] for m, _ in found for g in m["gaps"]]  # type: ignore[attr-defined]
    assert "paused: confidential window" in gaps and "paused: by employee" in gaps
    # The vault's pixels were never kept: no frame shows its magenta.
    assert not any(np.all(p == Vault.COLOR, axis=2).mean() > 0.01 for p in pictures)

    # Every planted value (shown and typed) and the vault's title: absent from the text layer.
    text = layers.decode("utf-8")
    for value in [*SHOWN.values(), *TYPED.values(), "Quinlan", "KeePass"]:
        assert value.lower() not in text.lower(), "a planted value reached the text layer"
    assert "<email" in text and "<person_name" in text and "<phone" in text

    # The redacted video, re-scanned by the verifier on its own (masks inferred): zero findings.
    from veil.detect.registry import default_analyzer
    from veil.ocr.registry import make_verifier_engine
    from veil.verify.rescan import RescanVerifier

    policy = Policy()
    verifier = RescanVerifier(make_verifier_engine(policy.ocr), default_analyzer(policy.detect), b"k" * 32)
    distinct = {hashlib.sha256(p.tobytes()).digest(): p for p in pictures}
    for index, pixels in enumerate(list(distinct.values())[:6]):
        verdict = verifier.check(pixels, index)
        assert verdict.findings == (), f"frame {index}: {[f.type for f in verdict.findings]}"
        read = " ".join(line.text for line in verdict.lines).lower()
        assert not [v for v in [*SHOWN.values(), *TYPED.values()] if v.lower() in read]


class PtyAgent:
    """`veil record` in a terminal of its own (so its status line and keys are live)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(sys.executable, [sys.executable, *argv], env)
        self.seen = b""

    def read_until(self, marker: bytes, seconds: float) -> bool:
        import select

        deadline = time.monotonic() + seconds
        while marker not in self.seen and time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    self.seen += os.read(self.fd, 4096)
                except OSError:
                    break
        return marker in self.seen

    def press(self, key: bytes) -> None:
        os.write(self.fd, key)

    def wait(self, seconds: float) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.read_until(b"\0never", 0.5)  # keep draining the terminal
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.pid = 0
                return os.waitstatus_to_exitcode(status)
        raise AssertionError("the agent did not stop")

    def kill(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0

    def close(self) -> None:
        self.kill()
        os.close(self.fd)


@pytest.mark.slow
def test_indicator_keys_and_kill_9_then_restart_keep_every_segment_with_its_number_and_bytes(
    crm: Browser, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("agent:\n  fps_cap: 2.0\n  segment_seconds: 2.0\n  heartbeat_seconds: 1.0\n")
    folder = tmp_path / "agent"
    command = ["-m", "veil", "record", "--offline", "--policy", str(policy), "--agent-dir", str(folder)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "OMP_NUM_THREADS": "1", "COLUMNS": "120"}
    segments = folder / "outbox" / "segments"
    first = PtyAgent([*command, "--duration", "120"], env)
    try:
        assert first.read_until(b"RECORDING", 60), "no RECORDING indicator"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list(segments.glob("*.zip"))) < 2:
            first.read_until(b"\0never", 0.2)
        first.press(b"p")
        assert first.read_until(b"PAUSED", 10), "p did not pause"
        assert json.loads((folder / "control.json").read_text()) == {"mode": "paused"}
        first.press(b"r")
        deadline = time.monotonic() + 5
        while json.loads((folder / "control.json").read_text()) != {"mode": "recording"}:
            assert time.monotonic() < deadline, "r did not resume"
            first.read_until(b"\0never", 0.2)
        crm.type(" x")  # the screen changes while the agent is killed mid-segment
        first.read_until(b"\0never", 1.0)
        first.kill()
    finally:
        first.close()
    before = {p.name: p.read_bytes() for p in segments.glob("*.zip")}
    assert len(before) >= 2
    second = PtyAgent([*command, "--duration", "60"], env)
    try:
        assert second.read_until(b"RECORDING", 60)
        second.read_until(b"\0never", 2.0)
        second.press(b"q")  # q stops it cleanly
        assert second.wait(60) == 0
    finally:
        second.close()
    after = {p.name: p.read_bytes() for p in segments.glob("*.zip")}
    assert {k: after.get(k) for k in before} == before  # the same names, the same bytes
    recordings = {name.split(".")[0] for name in after}
    seqs = sorted(int(name.split(".")[1]) for name in after)
    assert len(recordings) == 1 and seqs == list(range(len(seqs))) and len(seqs) > len(before)
    assert not list((folder / "outbox" / "work").iterdir())  # the killed run's unfinished segment went
    assert not list(segments.glob(".tmp-*"))
