"""Two background loops of a connected agent: the state poller (may I record?) and the uploader
(send what the outbox holds, oldest first, remove each only after the server has it)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from veil.agent.client import UNREACHABLE, ServerClient, ServerState
from veil.agent.outbox import Outbox

log = logging.getLogger(__name__)
ACCEPTED = frozenset({200, 201})
REFUSED = frozenset({409, 413, 422})  # never accepted as it is: set aside, so the rest can go
MAX_BACKOFF = 60.0


class StatePoller:
    """The server's latest answer; older than `max_age` seconds it counts as no answer (stop)."""

    def __init__(self, client: ServerClient, every: float, max_age: float) -> None:
        self.client, self.every, self.max_age = client, every, max_age
        self._state, self._at = UNREACHABLE, 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="veil-agent-poll", daemon=True)

    def start(self) -> None:
        self.poll()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def poll(self) -> ServerState:
        state = self.client.state()
        with self._lock:
            self._state, self._at = state, time.monotonic()
        return state

    def current(self) -> ServerState:
        with self._lock:
            if time.monotonic() - self._at > self.max_age:
                return UNREACHABLE
            return self._state

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.poll()


@dataclass
class UploadCounts:
    sent: int = 0
    duplicates: int = 0
    refused: int = 0
    bytes: int = 0


class Uploader:
    """Sends the outbox's segments; a refusal or a failure leaves the segment in the outbox."""

    def __init__(self, outbox: Outbox, client: ServerClient, every: float = 1.0) -> None:
        self.outbox, self.client, self.every = outbox, client, every
        self.counts = UploadCounts()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="veil-agent-upload", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, drain_seconds: float = 0.0) -> None:
        """Stop; first try for up to `drain_seconds` to send what is left."""
        deadline = time.monotonic() + drain_seconds
        while drain_seconds and self.outbox.pending() and time.monotonic() < deadline:
            self.wake()
            time.sleep(0.2)
        self._stop.set()
        self._wake.set()
        self._thread.join(10)

    def send_pending(self) -> bool:
        """One pass over the outbox; True when everything it held was accepted."""
        for item in self.outbox.pending():
            if self._stop.is_set():
                return False
            try:
                body = item.path.read_bytes()
            except FileNotFoundError:
                continue
            status = self.client.put_segment(item.recording_id, item.seq, body)
            if status in ACCEPTED:
                self.outbox.sent(item, hashlib.sha256(body).hexdigest())
                self.counts.sent += status == 201
                self.counts.duplicates += status == 200
                self.counts.bytes += len(body)
                continue
            if status in REFUSED:
                self.counts.refused += 1
                log.error("segment %d refused by the server (HTTP %d); set aside", item.seq, status)
                self.outbox.refused(item, hashlib.sha256(body).hexdigest())
                continue
            log.warning("segment %d not accepted (HTTP %s); kept in the outbox", item.seq, status or "-")
            return False
        return True

    def _run(self) -> None:
        backoff = self.every
        while not self._stop.is_set():
            try:
                ok = self.send_pending()
            except OSError as exc:  # the outbox's disk: the segments stay, try again later
                log.error("outbox unreadable (%s); uploads wait", type(exc).__name__)
                ok = False
            backoff = self.every if ok else min(backoff * 2, MAX_BACKOFF)
            self._wake.wait(backoff)
            self._wake.clear()
