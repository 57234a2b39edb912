"""The real openai and google-genai SDKs against a loopback server playing both endpoints.

The invariant checked after every scenario: each request the server received carries a payload
whose canonical hash (recomputed from the received bytes) has a ledger intent, and no payload was
received more often than the ledger has intents for it.
"""

from __future__ import annotations

import base64
import json
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.conftest import destination, egress_entries
from tests.gateway.loopback import ANSWER, LoopbackServer
from veil.audit.store import Ledger
from veil.exceptions import EgressBlocked, PolicyError
from veil.gateway.base import PAYLOAD_HEADER, ProviderRejected, ProviderTimeout, ProviderUnreachable
from veil.gateway.gateway import Gateway

KEY_ENV = "VEIL_TEST_LOOPBACK_KEY"
KEY = "sk-loopback-test-key"
PROVIDERS = ["openai", "gemini"]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def _dest(server_url: str, provider: str, **overrides: Any) -> Any:
    base = server_url + "/v1" if provider == "openai" else server_url
    settings: dict[str, Any] = {"base_url": base, "api_key_env": KEY_ENV, "timeout": 5, **overrides}
    return destination("remote", provider, **settings)


@pytest.fixture
def gateway_for(make_gateway: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(KEY_ENV, KEY)
    made: list[Gateway] = []

    def make(server_url: str, provider: str, **overrides: Any) -> Gateway:
        gateway = make_gateway(_dest(server_url, provider, **overrides))
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


def assert_every_request_logged(server: LoopbackServer, ledger: Ledger, tmp_path: Path) -> None:
    intents = Counter(
        e["event"]["payload_sha256"] for e in egress_entries(ledger, tmp_path) if e["kind"] == "egress-intent"
    )
    received = Counter(r.payload_sha256() for r in server.requests)
    for sha, count in received.items():
        assert intents[sha] >= count, "a request left without its own ledger intent"
    for request in server.requests:
        assert request.headers[PAYLOAD_HEADER.lower()] == request.payload_sha256()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_send_through_the_real_sdk(
    server: LoopbackServer, gateway_for: Any, make_payload: Any, ledger: Ledger, tmp_path: Path, provider: str
) -> None:
    payload = make_payload(images=2)
    answer = gateway_for(server.url, provider).send(payload, "remote")
    assert answer.text == ANSWER and answer.provider == provider
    [request] = server.requests
    if provider == "openai":
        assert request.path == "/v1/chat/completions"
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert request.json()["model"] == "test-model"
    else:
        assert request.path == "/v1beta/models/test-model:generateContent"
        assert request.headers["x-goog-api-key"] == KEY
    # The bytes received are exactly the payload: same parts, same images, same hash as the ledger.
    assert request.payload_sha256() == payload.sha256
    assert request.images() == [p.png for p in payload.image_parts]
    entries = egress_entries(ledger, tmp_path)
    assert [(e["kind"], e["event"]["payload_sha256"]) for e in entries] == [
        ("egress-intent", payload.sha256),
        ("egress-completed", payload.sha256),
    ]
    assert KEY not in json.dumps(entries)
    # Sending it again sends nothing.
    assert gateway_for(server.url, provider).send(payload, "remote").replayed
    assert len(server.requests) == 1
    assert_every_request_logged(server, ledger, tmp_path)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeout(
    server: LoopbackServer, gateway_for: Any, make_payload: Any, ledger: Ledger, tmp_path: Path, provider: str
) -> None:
    server.mode, server.delay = "slow", 2.0
    with pytest.raises(ProviderTimeout):
        gateway_for(server.url, provider, timeout=0.5).send(make_payload(), "remote")
    assert len(server.requests) == 1  # the SDK did not retry behind the ledger's back
    outcomes = [e["event"].get("outcome") for e in egress_entries(ledger, tmp_path)]
    assert outcomes == [None, "failed"]
    assert_every_request_logged(server, ledger, tmp_path)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("status", "retries", "expected"), [("500", 1, 2), ("503", 0, 1), ("400", 2, 1)])
def test_error_status(
    server: LoopbackServer,
    gateway_for: Any,
    make_payload: Any,
    ledger: Ledger,
    tmp_path: Path,
    provider: str,
    status: str,
    retries: int,
    expected: int,
) -> None:
    server.mode = status
    with pytest.raises(ProviderRejected) as info:
        gateway_for(server.url, provider, retries=retries, retry_backoff=0).send(make_payload(), "remote")
    assert info.value.status == int(status)
    assert len(server.requests) == expected
    intents = [e for e in egress_entries(ledger, tmp_path) if e["kind"] == "egress-intent"]
    assert len(intents) == expected
    assert ledger.pending_egress() == []
    assert_every_request_logged(server, ledger, tmp_path)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_connection_refused(
    gateway_for: Any, make_payload: Any, ledger: Ledger, tmp_path: Path, provider: str
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderUnreachable):
        gateway_for(f"http://127.0.0.1:{port}", provider).send(make_payload(), "remote")
    assert [e["event"].get("outcome") for e in egress_entries(ledger, tmp_path)] == [None, "failed"]


class Crash(BaseException):
    pass


@pytest.mark.parametrize("provider", PROVIDERS)
def test_crash_after_the_request_left(
    server: LoopbackServer, gateway_for: Any, make_payload: Any, ledger: Ledger, tmp_path: Path, provider: str
) -> None:
    gateway = gateway_for(server.url, provider)
    real = gateway.provider(gateway.policy.destination("remote"))
    real_send = real.send

    def send_then_die(payload: Any, options: Any) -> Any:
        real_send(payload, options)
        raise Crash

    real.send = send_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        gateway.send(make_payload(), "remote")
    assert len(server.requests) == 1
    [pending] = ledger.pending_egress()
    assert pending.intent.payload_sha256 == server.requests[0].payload_sha256()
    with pytest.raises(EgressBlocked, match="interrupted"):
        gateway_for(server.url, provider).send(make_payload(), "remote")
    assert len(server.requests) == 1  # not sent twice
    assert_every_request_logged(server, ledger, tmp_path)


def test_missing_key_env_blocks_before_any_request(
    server: LoopbackServer,
    make_gateway: Any,
    make_payload: Any,
    monkeypatch: pytest.MonkeyPatch,
    ledger: Ledger,
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(PolicyError, match=KEY_ENV):
        make_gateway(_dest(server.url, "gemini")).send(make_payload(), "remote")
    assert server.requests == [] and ledger.size() == 0


def test_images_on_the_wire_are_the_cleared_pngs(
    server: LoopbackServer, gateway_for: Any, make_payload: Any
) -> None:
    payload = make_payload(images=3)
    gateway_for(server.url, "openai").send(payload, "remote")
    urls = [
        c["image_url"]["url"]
        for c in server.requests[0].json()["messages"][0]["content"]
        if c["type"] != "text"
    ]
    assert [base64.b64decode(u.split(",", 1)[1]) for u in urls] == [p.png for p in payload.image_parts]


_CHILD = """
import os, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.gateway.conftest import clean_parts, CleanVerifier, destination
from veil.audit.store import Ledger
from veil.detect.registry import default_analyzer
from veil.gateway.gateway import Gateway
from veil.gateway.policy import EgressPolicy
from veil.gateway.state import SendStore
from veil.verify.payload import clear_payload

analyzer = default_analyzer()
payload = clear_payload(clean_parts(), analyzer, CleanVerifier())
dest = destination("remote", "openai", base_url={base!r}, api_key_env="VEIL_TEST_LOOPBACK_KEY", timeout=5)
ledger = Ledger.open({url!r}, Path({keys!r}))
gateway = Gateway(
    EgressPolicy(destinations=(dest,)), ledger, SendStore.open({url!r}), analyzer, verifier=CleanVerifier()
)
provider = gateway.provider(dest)
real_send = provider.send
def send_then_die(p, o):
    real_send(p, o)
    os._exit(3)  # the process dies hard: no finally, no completion, the claim stays
provider.send = send_then_die
gateway.send(payload, "remote")
"""


def test_hard_crash_in_another_process(
    server: LoopbackServer,
    make_gateway: Any,
    make_payload: Any,
    ledger: Ledger,
    ledger_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess
    import sys

    monkeypatch.setenv(KEY_ENV, KEY)
    root = str(Path(__file__).resolve().parents[2])
    script = _CHILD.format(root=root, base=server.url + "/v1", url=ledger_url, keys=str(tmp_path / "keys"))
    child = subprocess.run([sys.executable, "-c", script], timeout=120, capture_output=True, check=False)
    assert child.returncode == 3, child.stderr.decode()[-2000:]
    assert len(server.requests) == 1
    [pending] = ledger.pending_egress()
    assert pending.intent.payload_sha256 == server.requests[0].payload_sha256() == make_payload().sha256
    gateway = make_gateway(_dest(server.url, "openai"))
    with pytest.raises(EgressBlocked, match="another process"):  # its claim is not stale yet
        gateway.send(make_payload(), "remote")
    gateway.resolve_interrupted(pending.intent.intent_id, resend=False)  # the operator decides
    with pytest.raises(EgressBlocked, match="abandoned"):
        gateway.send(make_payload(), "remote")
    assert len(server.requests) == 1
    assert_every_request_logged(server, ledger, tmp_path)
    ledger.verify().raise_for_failure()
