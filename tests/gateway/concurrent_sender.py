"""One of several processes sending at once (test_concurrent_processes.py): sends payloads 0..n-1
in an order rotated by its worker number through a real Gateway, ledger and send store on one
database; every request that reaches the provider is appended to a shared file.

    python -m tests.gateway.concurrent_sender URL KEY_DIR SENT_FILE WORKER N LIMIT
prints one JSON line: {"sent": k, "replayed": k, "blocked": {"rate": k, "claim": k, ...}}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.gateway.conftest import CleanVerifier, clean_parts, destination
from veil.audit.store import Ledger
from veil.detect.registry import default_analyzer
from veil.exceptions import EgressBlocked
from veil.gateway.base import ProviderAnswer, RequestOptions
from veil.gateway.gateway import Gateway
from veil.gateway.policy import EgressPolicy
from veil.gateway.providers.fake import FakeProvider
from veil.gateway.state import SendStore
from veil.verify.payload import SanitizedPayload, TextPart, clear_payload


class Recording(FakeProvider):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (payload.sha256 + "\n").encode("ascii"))  # one write: atomic with O_APPEND
        finally:
            os.close(fd)
        return super().send(payload, options)


def main(url: str, key_dir: str, sent_file: str, worker: int, n: int, limit: int) -> dict[str, Any]:
    analyzer = default_analyzer()
    payloads = [
        clear_payload([*clean_parts(1), TextPart("note", f"batch item {i:03d}")], analyzer, CleanVerifier())
        for i in range(n)
    ]
    os.environ.pop("VEIL_EGRESS_KILL", None)
    policy = EgressPolicy(destinations=(destination(frames_per_hour=limit),))
    out: dict[str, Any] = {"sent": 0, "replayed": 0, "blocked": {}}
    with Ledger.open(url, Path(key_dir)) as ledger:
        store = SendStore.open(url)
        gateway = Gateway(
            policy,
            ledger,
            store,
            analyzer,
            providers={"remote": Recording(Path(sent_file))},
            sleep=lambda _s: None,
            verifier=CleanVerifier(),
        )
        order = payloads[worker:] + payloads[:worker]
        for payload in order:
            try:
                answer = gateway.send(payload, "remote")
            except EgressBlocked as exc:
                text = str(exc)
                why = "rate" if "frames_per_hour" in text else "claim" if "another process" in text else text
                out["blocked"][why] = out["blocked"].get(why, 0) + 1
                continue
            out["replayed" if answer.replayed else "sent"] += 1
        store.close()
    return out


if __name__ == "__main__":
    url, key_dir, sent_file, worker, n, limit = sys.argv[1:7]
    print(json.dumps(main(url, key_dir, sent_file, int(worker), int(n), int(limit))))
