"""The gateway with provider twins and a real ledger: type gate, kill switch, terms, rate limits,
idempotency, retries and interrupted sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gateway.conftest import CleanVerifier, destination, egress_entries
from veil.audit.store import Ledger
from veil.exceptions import EgressBlocked, LedgerError
from veil.gateway.base import ProviderRejected, ProviderTimeout, ProviderUnreachable
from veil.gateway.providers.fake import FailingProvider, FakeProvider
from veil.gateway.state import SendStore
from veil.verify.payload import SanitizedPayload, TextPart


def test_send_logs_intent_then_completion(
    make_gateway: Any, make_payload: Any, ledger: Ledger, tmp_path: Path
) -> None:
    fake = FakeProvider()
    payload = make_payload(images=2)
    answer = make_gateway(providers={"remote": fake}).send(payload, "remote")
    assert fake.sent == [payload]
    assert answer.text == "ok 1" and answer.intent_id and not answer.replayed
    entries = egress_entries(ledger, tmp_path)
    assert [e["kind"] for e in entries] == ["egress-intent", "egress-completed"]
    assert all(e["event"]["payload_sha256"] == payload.sha256 for e in entries)
    assert entries[0]["event"]["size"] == payload.size
    assert entries[1]["event"]["outcome"] == "sent"
    assert ledger.pending_egress() == []
    ledger.verify().raise_for_failure()


def test_same_payload_is_not_sent_twice(make_gateway: Any, make_payload: Any, ledger: Ledger) -> None:
    fake = FakeProvider()
    gateway = make_gateway(providers={"remote": fake})
    first = gateway.send(make_payload(), "remote")
    again = gateway.send(make_payload(), "remote")  # cleared again: same parts, same hash
    assert len(fake.sent) == 1
    assert again.replayed and again.text == first.text and again.intent_id == first.intent_id
    assert ledger.size() == 2


@pytest.mark.parametrize(
    "forged",
    [
        {"parts": [TextPart("note", "hi")], "sha256": "0" * 64},
        "a plain string",
        object.__new__(SanitizedPayload),
    ],
)
def test_anything_but_a_minted_payload_is_refused(make_gateway: Any, forged: Any, ledger: Ledger) -> None:
    fake = FakeProvider()
    with pytest.raises(EgressBlocked, match="only a SanitizedPayload"):
        make_gateway(providers={"remote": fake}).send(forged, "remote")
    assert fake.sent == [] and ledger.size() == 0


def test_look_alike_object_is_refused(make_gateway: Any, make_payload: Any) -> None:
    real = make_payload()

    class LookAlike:
        parts, sha256, size, body = real.parts, real.sha256, real.size, real.body
        text_parts, image_parts = real.text_parts, real.image_parts

    fake = FakeProvider()
    with pytest.raises(EgressBlocked):
        make_gateway(providers={"remote": fake}).send(LookAlike(), "remote")
    assert fake.sent == []


def test_tampered_payload_is_refused(make_gateway: Any, make_payload: Any) -> None:
    payload = make_payload()
    object.__setattr__(payload, "_parts", (TextPart("note", "call 010-2345-6789"),))
    fake = FakeProvider()
    with pytest.raises(EgressBlocked):
        make_gateway(providers={"remote": fake}).send(payload, "remote")
    assert fake.sent == []


def test_gateway_rescan_catches_a_value_the_mint_missed(
    make_gateway: Any, make_payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate a payload minted with a weaker analyzer: the gateway's own re-scan still blocks it.
    from veil.verify import payload as payload_module

    monkeypatch.setattr(payload_module, "scan_text_part", lambda part, analyzer: None)
    smuggled = make_payload(extra="고객 연락처 010-2345-6789")
    monkeypatch.undo()
    fake = FakeProvider()
    with pytest.raises(EgressBlocked, match=r"'note'.*phone"):
        make_gateway(providers={"remote": fake}).send(smuggled, "remote")
    assert fake.sent == []


@pytest.mark.parametrize("switch", ["policy", "env", "file"])
def test_kill_switch_stops_everything(
    make_gateway: Any,
    make_payload: Any,
    ledger: Ledger,
    no_kill: Path,
    monkeypatch: pytest.MonkeyPatch,
    switch: str,
) -> None:
    fake = FakeProvider()
    extra: dict[str, Any] = {}
    if switch == "policy":
        extra["kill_switch"] = True
    elif switch == "env":
        monkeypatch.setenv("VEIL_EGRESS_KILL", "1")
    else:
        no_kill.parent.mkdir(parents=True, exist_ok=True)
        no_kill.touch()
    with pytest.raises(EgressBlocked, match="kill switch"):
        make_gateway(providers={"remote": fake}, **extra).send(make_payload(), "remote")
    assert fake.sent == [] and ledger.size() == 0


def test_incomplete_terms_block_before_anything(make_gateway: Any, make_payload: Any, ledger: Ledger) -> None:
    fake = FakeProvider()
    gateway = make_gateway(destination(legal_basis=None, no_training=False), providers={"remote": fake})
    with pytest.raises(EgressBlocked, match=r"lacks legal_basis, no_training \(must be true\)"):
        gateway.send(make_payload(), "remote")
    assert fake.sent == [] and ledger.size() == 0


def test_frames_per_hour(make_gateway: Any, make_payload: Any) -> None:
    fake = FakeProvider()
    gateway = make_gateway(destination(frames_per_hour=3), providers={"remote": fake})
    gateway.send(make_payload(images=2), "remote")
    with pytest.raises(EgressBlocked, match="frames_per_hour=3"):
        gateway.send(make_payload(images=2, extra="another request"), "remote")
    gateway.send(make_payload(images=1, extra="a small one"), "remote")
    assert len(fake.sent) == 2


def test_bytes_per_day(make_gateway: Any, make_payload: Any) -> None:
    fake = FakeProvider()
    first = make_payload()
    gateway = make_gateway(destination(bytes_per_day=first.size * 2 - 1), providers={"remote": fake})
    gateway.send(first, "remote")
    with pytest.raises(EgressBlocked, match="bytes_per_day"):
        gateway.send(make_payload(extra="x"), "remote")
    assert len(fake.sent) == 1


def test_limits_survive_a_restart(
    make_gateway: Any, make_payload: Any, ledger_url: str, ledger: Ledger, analyzer: Any
) -> None:
    from veil.gateway.gateway import Gateway
    from veil.gateway.policy import EgressPolicy

    dest = destination(frames_per_hour=1)
    make_gateway(dest, providers={"remote": FakeProvider()}).send(make_payload(), "remote")
    fresh = Gateway(
        EgressPolicy(destinations=(dest,)),
        ledger,
        SendStore.open(ledger_url),
        analyzer,
        providers={"remote": FakeProvider()},
        verifier=CleanVerifier(),
    )
    with pytest.raises(EgressBlocked, match="frames_per_hour"):
        fresh.send(make_payload(extra="later"), "remote")


@pytest.mark.parametrize(
    ("failure", "error", "retries", "attempts"),
    [
        ("timeout", ProviderTimeout, 0, 1),
        ("unreachable", ProviderUnreachable, 2, 3),
        ("500", ProviderRejected, 1, 2),
        ("400", ProviderRejected, 3, 1),  # a client error is not retried
    ],
)
def test_failures_are_logged_per_attempt(
    make_gateway: Any,
    make_payload: Any,
    ledger: Ledger,
    tmp_path: Path,
    failure: str,
    error: type[Exception],
    retries: int,
    attempts: int,
) -> None:
    failing = FailingProvider(failure)
    gateway = make_gateway(destination(retries=retries), providers={"remote": failing})
    with pytest.raises(error):
        gateway.send(make_payload(), "remote")
    assert failing.attempts == attempts
    entries = egress_entries(ledger, tmp_path)
    assert [e["kind"] for e in entries] == ["egress-intent", "egress-completed"] * attempts
    assert {e["event"]["outcome"] for e in entries if e["kind"] == "egress-completed"} == {"failed"}
    assert ledger.pending_egress() == []


def test_retry_succeeds_after_transient_failures(
    make_gateway: Any, make_payload: Any, ledger: Ledger, tmp_path: Path
) -> None:
    failing = FailingProvider("503", times=1)
    answer = make_gateway(destination(retries=2), providers={"remote": failing}).send(
        make_payload(), "remote"
    )
    assert failing.attempts == 2 and answer.text == "ok 2"
    outcomes = [
        e["event"]["outcome"] for e in egress_entries(ledger, tmp_path) if e["kind"] == "egress-completed"
    ]
    assert outcomes == ["failed", "sent"]


def test_a_failed_send_may_be_tried_again_later(make_gateway: Any, make_payload: Any) -> None:
    failing = FailingProvider("500", times=1)
    gateway = make_gateway(providers={"remote": failing})
    with pytest.raises(ProviderRejected):
        gateway.send(make_payload(), "remote")
    assert gateway.send(make_payload(), "remote").text == "ok 2"


class Crash(BaseException):
    """Stands in for the process dying (not an Exception: nothing may catch it)."""


class CrashingProvider(FakeProvider):
    def send(self, payload: Any, options: Any) -> Any:
        self.sent.append(payload)
        raise Crash


def test_crash_between_intent_and_completion_is_not_resent(
    make_gateway: Any, make_payload: Any, ledger: Ledger, tmp_path: Path
) -> None:
    crashing = CrashingProvider()
    with pytest.raises(Crash):
        make_gateway(providers={"remote": crashing}).send(make_payload(), "remote")
    pending = ledger.pending_egress()
    assert len(pending) == 1 and pending[0].intent.payload_sha256 == make_payload().sha256
    fake = FakeProvider()
    gateway = make_gateway(providers={"remote": fake})  # "restarted"
    with pytest.raises(EgressBlocked, match=f"interrupted.*{pending[0].intent.intent_id}"):
        gateway.send(make_payload(), "remote")
    assert fake.sent == []
    # Another payload is not held up by it.
    gateway.send(make_payload(extra="unrelated"), "remote")
    assert len(fake.sent) == 1


def test_operator_approves_exactly_one_resend(
    make_gateway: Any, make_payload: Any, ledger: Ledger, store: SendStore
) -> None:
    with pytest.raises(Crash):
        make_gateway(providers={"remote": CrashingProvider()}).send(make_payload(), "remote")
    old = ledger.pending_egress()[0].intent.intent_id
    fake = FakeProvider()
    gateway = make_gateway(providers={"remote": fake})
    gateway.resolve_interrupted(old, resend=True)
    answer = gateway.send(make_payload(), "remote")
    assert gateway.send(make_payload(), "remote").replayed
    assert len(fake.sent) == 1
    row = store.get(answer.intent_id)
    assert row is not None and row.supersedes == old
    assert ledger.pending_egress() == []
    with pytest.raises(LedgerError):
        gateway.resolve_interrupted(old, resend=True)


def test_operator_abandons(make_gateway: Any, make_payload: Any, ledger: Ledger) -> None:
    with pytest.raises(Crash):
        make_gateway(providers={"remote": CrashingProvider()}).send(make_payload(), "remote")
    fake = FakeProvider()
    gateway = make_gateway(providers={"remote": fake})
    gateway.resolve_interrupted(ledger.pending_egress()[0].intent.intent_id, resend=False)
    with pytest.raises(EgressBlocked, match="abandoned"):
        gateway.send(make_payload(), "remote")
    assert fake.sent == []


def test_crash_after_answer_stored_recovers_without_resending(
    make_gateway: Any, make_payload: Any, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeProvider()
    gateway = make_gateway(providers={"remote": fake})
    real_complete = ledger.complete_egress

    def crash_on_sent(intent_id: str, *, outcome: str = "sent") -> Any:
        if outcome == "sent":
            raise Crash
        return real_complete(intent_id, outcome=outcome)

    monkeypatch.setattr(ledger, "complete_egress", crash_on_sent)
    with pytest.raises(Crash):
        gateway.send(make_payload(), "remote")
    monkeypatch.undo()
    assert len(ledger.pending_egress()) == 1
    answer = make_gateway(providers={"remote": fake}).send(make_payload(), "remote")
    assert answer.replayed and answer.text == "ok 1"
    assert len(fake.sent) == 1 and ledger.pending_egress() == []


def test_local_provider_sends_nothing_and_logs_nothing(
    make_gateway: Any, make_payload: Any, ledger: Ledger
) -> None:
    answer = make_gateway().send(make_payload(), "local")
    assert answer.provider == "local"
    assert "Order ORD-1" in answer.text
    assert ledger.size() == 0


def test_a_concurrent_send_of_the_same_payload_is_refused(
    make_gateway: Any, make_payload: Any, ledger: Ledger
) -> None:
    other = make_gateway(providers={"remote": FakeProvider()})  # another process, same ledger
    seen: list[str] = []

    class Racing(FakeProvider):
        def send(self, payload: Any, options: Any) -> Any:
            with pytest.raises(EgressBlocked, match="another process") as info:
                other.send(make_payload(), "remote")
            seen.append(str(info.value))
            return super().send(payload, options)

    racing = Racing()
    make_gateway(providers={"remote": racing}).send(make_payload(), "remote")
    assert len(seen) == 1 and len(racing.sent) == 1
    assert other.send(make_payload(), "remote").replayed  # after it finished: the stored answer
    assert ledger.size() == 2


def test_a_stale_claim_is_taken_over(make_gateway: Any, make_payload: Any, store: SendStore) -> None:
    from datetime import timedelta

    payload = make_payload()
    assert store.claim("remote", payload.sha256, timedelta(hours=1))
    assert not store.claim("remote", payload.sha256, timedelta(hours=1))
    assert store.claim("remote", payload.sha256, timedelta(seconds=-1))  # older than "stale"
    fake = FakeProvider()
    with pytest.raises(EgressBlocked, match="another process"):
        make_gateway(providers={"remote": fake}).send(payload, "remote")
    store.release("remote", payload.sha256)
    make_gateway(providers={"remote": fake}).send(payload, "remote")
    assert len(fake.sent) == 1
