"""Twins for the agent tests: a scripted screen and window, a fast frame step (no OCR), and a tiny
Veil server that checks every request with `veil.uplink.verify_request` and answers per the
contract (201 new, 200 duplicate, 409 other body, 401, 422)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.plugins.ocr_faults import NullEngine
from veil.agent.recorder import LiveTimeline
from veil.agent.segment import read_segment
from veil.capture.windows import WindowEvent, WindowGate
from veil.detect.registry import default_analyzer
from veil.exceptions import NotAuthenticated
from veil.framestep import FrameStep
from veil.models import Pixels
from veil.options import Policy
from veil.pipeline import FramePipeline
from veil.redact.fill import FillRedactor
from veil.uplink import MemoryNonceBook, verify_request


class ScriptedScreen:
    """A screen whose picture changes every `grab` (a counter drawn as a bar) unless frozen."""

    def __init__(self, width: int = 320, height: int = 200) -> None:
        self.width, self.height = width, height
        self.grabs = 0
        self.frozen = False

    def grab(self) -> Pixels:
        self.grabs += 1
        pixels = np.full((self.height, self.width, 3), 255, np.uint8)
        if not self.frozen:
            pixels[20:60, : (self.grabs * 7) % self.width + 8] = 0
        return pixels

    def close(self) -> None:
        return None


class ScriptedWindows:
    def __init__(self) -> None:
        self.window: WindowEvent | None = WindowEvent(0.0, app="crm", title="Customer list")

    def current(self) -> WindowEvent | None:
        return self.window


def fast_step(policy: Policy, recording_id: str) -> FrameStep:
    """The real FrameStep and pipeline around engines that read nothing: every frame verified."""
    pipeline = FramePipeline(
        engine=NullEngine,
        verifier_engine=NullEngine,
        analyzer=default_analyzer(policy.detect),
        redactor=FillRedactor(policy.redact),
        key=b"k" * 32,
        timeout_seconds=5.0,
        gate=WindowGate(policy.capture.deny),
    )
    return FrameStep(pipeline, True, LiveTimeline(), policy.scale.segment_frames)


OK_STATE = {"recording": True, "reason": "ok", "policy_version": "1", "fps_cap": 30.0, "daily_cap_minutes": 9}


@dataclass
class FakeServer:
    keys: dict[str, Ed25519PublicKey]
    state: dict[str, Any] = field(default_factory=lambda: dict(OK_STATE))
    stored: dict[tuple[str, str, int], str] = field(default_factory=dict)  # -> body sha256
    bodies: dict[tuple[str, int], bytes] = field(default_factory=dict)
    answers: list[int] = field(default_factory=list)
    fail_puts: int = 0  # answer 503 to so many PUTs first
    nonces: MemoryNonceBook = field(default_factory=MemoryNonceBook)
    url: str = ""
    # The policy in force (GET /api/v1/agent/policy): YAML text; its version is its `version:`.
    policy_text: str = 'version: "1"\n'
    policy_fetches: int = 0
    policy_digest: str | None = None  # sent instead of the text's SHA-256 (an altered policy)


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def _reply(self, status: int, obj: object) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if self.command == "PUT":
                server.answers.append(status)

        def _verified(self, body: bytes) -> str | None:
            try:
                return verify_request(dict(self.headers), self.command, self.path, body, server.keys,
                                      server.nonces).device  # fmt: skip
            except NotAuthenticated as exc:
                self._reply(401, {"error": str(exc)})
                return None

        def do_GET(self) -> None:
            if self.path == "/api/v1/agent/policy":
                if self._verified(b"") is not None:
                    server.policy_fetches += 1
                    text = server.policy_text
                    version = str((yaml.safe_load(text) or {}).get("version", "1"))
                    digest = server.policy_digest or hashlib.sha256(text.encode()).hexdigest()
                    self._reply(200, {"version": version, "text": text, "sha256": digest})
                return None
            if self.path != "/api/v1/agent/state":
                return self._reply(404, {})
            if self._verified(b"") is not None:
                self._reply(200, server.state)
            return None

        def do_PUT(self) -> None:  # noqa: PLR0911 - one answer per contract case
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            device = self._verified(body)
            if device is None:
                return None
            parts = self.path.strip("/").split("/")
            if parts[:4] != ["api", "v1", "agent", "segments"] or len(parts) != 6:
                return self._reply(404, {})
            if server.fail_puts > 0:
                server.fail_puts -= 1
                return self._reply(503, {})
            recording, seq = parts[4], int(parts[5])
            try:
                manifest, _ = read_segment(body)
            except ValueError:
                return self._reply(422, {"error": "malformed"})
            if manifest.get("verifier") != "cleared" or manifest.get("seq") != seq:
                return self._reply(422, {"error": "not cleared"})
            digest = hashlib.sha256(body).hexdigest()
            known = server.stored.get((device, recording, seq))
            if known == digest:
                return self._reply(200, {"status": "duplicate"})
            if known is not None:
                return self._reply(409, {"error": "another body under this seq"})
            server.stored[(device, recording, seq)] = digest
            server.bodies[(recording, seq)] = body
            return self._reply(201, {"status": "stored"})

    return Handler


def fake_segment(recording_id: str, seq: int, payload: bytes) -> bytes:
    """A well-formed segment zip around `payload` (standing in for the video)."""
    import io
    import zipfile

    members = {"redacted.mp4": payload, "textlayer.jsonl": b"{}\n"}
    manifest = {"recording_id": recording_id, "seq": seq, "verifier": "cleared",
                "sha256": {k: hashlib.sha256(v).hexdigest() for k, v in members.items()}}  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@contextmanager
def fake_server(keys: dict[str, Ed25519PublicKey]) -> Iterator[FakeServer]:
    state = FakeServer(keys)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
