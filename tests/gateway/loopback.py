"""A loopback HTTP server that plays the OpenAI chat-completions and Gemini generateContent
endpoints and records every request byte. Bound to 127.0.0.1 on a free port; stops by itself.

`mode` sets how it answers: "ok", an HTTP status such as "500" or "429", or "slow" (waits
`delay` seconds, longer than the client's timeout, then answers).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from veil.gateway.base import parse_wire_text
from veil.verify.payload import ImagePart, PayloadPart, canonical_body

ANSWER = "1. opened the order list\n2. typed a phone number into 'Phone'"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def parts(self) -> list[PayloadPart]:
        """The payload parts this request carried, rebuilt from the wire format."""
        doc = self.json()
        out: list[PayloadPart] = []
        if "messages" in doc:
            for item in doc["messages"][0]["content"]:
                if item["type"] == "text":
                    out.append(parse_wire_text(item["text"]))
                else:
                    url = item["image_url"]["url"]
                    assert url.startswith("data:image/png;base64,")
                    out.append(ImagePart("", base64.b64decode(url.split(",", 1)[1])))
        else:
            for item in doc["contents"][0]["parts"]:
                if "text" in item:
                    out.append(parse_wire_text(item["text"]))
                else:
                    inline = item.get("inlineData") or item["inline_data"]
                    assert (inline.get("mimeType") or inline.get("mime_type")) == "image/png"
                    out.append(
                        ImagePart("", base64.urlsafe_b64decode(inline["data"]))
                    )  # the SDK sends URL-safe base64
        return out

    def images(self) -> list[bytes]:
        return [p.png for p in self.parts() if isinstance(p, ImagePart)]

    def payload_sha256(self) -> str:
        """The canonical payload hash, recomputed from the parts this request carried."""
        return hashlib.sha256(canonical_body(self.parts())).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.record(Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        mode = self.server.mode
        if mode == "slow":
            time.sleep(self.server.delay)
        if mode.isdigit():
            self._reply(
                int(mode), {"error": {"code": int(mode), "message": "injected", "status": "INTERNAL"}}
            )
        elif self.path.endswith("/chat/completions"):
            self._reply(200, _openai_answer(json.loads(body)["model"]))
        elif ":generateContent" in self.path:
            self._reply(200, _gemini_answer())
        else:
            self._reply(404, {"error": {"code": 404, "message": "no such endpoint"}})

    def _reply(self, status: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)


def _openai_answer(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _gemini_answer() -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": ANSWER}]}, "finishReason": "STOP"}],
        "modelVersion": "gemini-test",
    }


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Recorded] = []
        self.mode = "ok"
        self.delay = 2.0
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


def serve() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server
