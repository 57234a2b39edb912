"""The egress gateway: the one door out. `Gateway.send(payload, destination)` checks, in order:

1. the payload is a `SanitizedPayload` minted by `clear_payload` and unaltered (anything else,
   a dict or a look-alike object, is refused);
2. the kill switch (policy, environment variable, file) is off;
3. the destination's policy names every legal term (legal basis, country, recipient, data
   categories, retention, no-training);
4. a last re-scan finds nothing: the text parts with the detectors, and every image part with the
   verifier (independent OCR + the same detectors), each image only if its bytes are the canonical
   re-encoding of its pixels (`veil.verify.payload.scan_image_part`). The mint can be forged from
   inside the process (the private token, or `object.__new__` plus the registry); this re-scan is
   what a forgery cannot pass. A payload with images and no verifier, a verifier error or a
   verifier timeout blocks the send;
5. no other process is sending this payload there right now (an in-flight claim in the store);
6. no earlier send of it there was interrupted (see below);
7. it was not already sent there (then the stored answer is returned and nothing is sent);
8. the rate limits (frames per hour, bytes per day, counted over every attempt) hold;

then records the intent in the ledger, sends, and records the completion ("sent" or "failed").
Each attempt, retries included, is its own intent, so the ledger lists every request that left.
The `local` provider sends nothing anywhere: only checks 1 and 4 apply, and nothing is recorded.

An interrupted send (an intent without a completion and no live claim: the process died after
recording the intent) may or may not have reached the destination; it is never resent silently:
- if the answer had already been stored, the send did happen: the completion is recorded and the
  stored answer returned;
- otherwise `send` raises EgressBlocked naming the intent, and an operator calls
  `resolve_interrupted(intent_id, resend=...)`: `resend=False` abandons it (this payload is never
  sent to this destination again), `resend=True` allows exactly one new attempt, linked to the old
  intent in the gateway's records (`supersedes`).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Protocol

from veil.exceptions import EgressBlocked, LedgerError
from veil.gateway.base import Provider, ProviderAnswer, ProviderError, RequestOptions, wire_text
from veil.gateway.policy import Destination, EgressPolicy
from veil.gateway.providers import make_provider
from veil.gateway.state import ABANDONED, FAILED, RESEND_APPROVED, SENT, SendStore
from veil.verify.base import Verifier
from veil.verify.payload import (
    VERIFY_TIMEOUT,
    SanitizedPayload,
    TextAnalyzer,
    TextPart,
    is_minted,
    scan_image_part,
    scan_text_part,
)

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class PendingIntent(Protocol):
    @property
    def intent_id(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def payload_sha256(self) -> str: ...


class PendingEntry(Protocol):
    @property
    def intent(self) -> PendingIntent: ...


class EgressLedger(Protocol):
    """What the gateway needs of `veil.audit.store.Ledger`."""

    def begin_egress(
        self,
        *,
        destination: str,
        policy_version: str,
        payload_sha256: str,
        size: int,
        model: str,
        intent_id: str | None = None,
    ) -> str: ...

    def complete_egress(self, intent_id: str, *, outcome: str = "sent") -> object: ...

    def pending_egress(self) -> Sequence[PendingEntry]: ...


class Gateway:
    def __init__(
        self,
        policy: EgressPolicy,
        ledger: EgressLedger | None,
        store: SendStore | None,
        analyzer: TextAnalyzer,
        *,
        providers: Mapping[str, Provider] | None = None,
        policy_version: str = "1",
        sleep: Callable[[float], None] = time.sleep,
        verifier: Verifier | None = None,
        verify_timeout: float = VERIFY_TIMEOUT,
    ) -> None:
        self.policy, self.analyzer = policy, analyzer
        # Re-reads every image part before it leaves; without one, a payload with images is refused.
        self.verifier, self.verify_timeout = verifier, verify_timeout
        # Optional only for a gateway that serves the local provider alone (nothing leaves).
        self._ledger, self._store = ledger, store
        self._providers: dict[str, Provider] = dict(providers or {})
        self.policy_version = policy_version
        self._sleep = sleep

    @property
    def ledger(self) -> EgressLedger:
        if self._ledger is None:
            raise LedgerError("remote egress needs a ledger; this gateway was made without one")
        return self._ledger

    @property
    def store(self) -> SendStore:
        if self._store is None:
            raise LedgerError("remote egress needs the gateway's send records; none were given")
        return self._store

    def close(self) -> None:
        for provider in self._providers.values():
            provider.close()

    def provider(self, destination: Destination) -> Provider:
        if destination.name not in self._providers:
            self._providers[destination.name] = make_provider(destination)
        return self._providers[destination.name]

    # --- sending ---------------------------------------------------------------------------------

    def send(self, payload: SanitizedPayload, destination: str) -> ProviderAnswer:
        """Send a cleared payload to the named destination (see the module docstring)."""
        if not is_minted(payload):
            raise EgressBlocked(
                "the gateway sends only a SanitizedPayload made by clear_payload, "
                f"not {type(payload).__name__}"
            )
        dest = self.policy.destination(destination)
        provider = self.provider(dest)
        options = RequestOptions(dest.model or provider.name, dest.timeout, dest.max_output_tokens)
        if not (dest.remote and provider.remote):
            self._rescan(payload)
            return provider.send(payload, options)
        self._check_kill_switch()
        missing = dest.missing_terms()
        if missing:
            raise EgressBlocked(
                f"destination '{dest.name}' may not receive anything: its policy lacks {', '.join(missing)}"
            )
        self._rescan(payload)
        if not self.store.claim(dest.name, payload.sha256, self._stale_after(dest)):
            raise EgressBlocked(
                f"payload {payload.sha256[:12]} is being sent to '{dest.name}' by another process; if "
                "that process died, this shows as an interrupted send once its claim is stale"
            )
        try:
            # Checked under the claim, so a send that finished meanwhile is seen and not repeated.
            recovered, supersedes = self._check_interrupted(dest, payload)
            if recovered is not None:
                return recovered
            done = self.store.sent_answer(dest.name, payload.sha256)
            if done is not None:
                return _replayed(done)
            return self._attempts(payload, dest, provider, options, supersedes)
        finally:
            # Also on a crash that unwinds: its open ledger intent is what blocks a resend then.
            self.store.release(dest.name, payload.sha256)

    @staticmethod
    def _stale_after(dest: Destination) -> timedelta:
        """Longest a live send can hold its claim: every attempt timing out, plus backoffs."""
        backoff = sum(dest.retry_backoff * 2**n for n in range(dest.retries))
        return timedelta(seconds=dest.timeout * (dest.retries + 1) + backoff + 60)

    def _attempts(
        self,
        payload: SanitizedPayload,
        dest: Destination,
        provider: Provider,
        options: RequestOptions,
        supersedes: str | None,
    ) -> ProviderAnswer:
        attempt = 0
        while True:
            self._check_kill_switch()
            try:
                return self._attempt(payload, dest, provider, options, supersedes)
            except ProviderError as exc:
                if not exc.retryable or attempt >= dest.retries:
                    raise
                attempt += 1
                supersedes = None
                log.warning(
                    "destination '%s': attempt %d failed (%s); retrying",
                    dest.name,
                    attempt,
                    type(exc).__name__,
                )
                self._sleep(dest.retry_backoff * 2 ** (attempt - 1))

    def _attempt(
        self,
        payload: SanitizedPayload,
        dest: Destination,
        provider: Provider,
        options: RequestOptions,
        supersedes: str | None,
    ) -> ProviderAnswer:
        intent_id = uuid.uuid4().hex
        # The limits are checked and the attempt recorded in one step under the destination's
        # lock, so processes sending at once never pass them together; then the ledger intent.
        self.store.reserve(
            intent_id,
            dest.name,
            payload.sha256,
            len(payload.image_parts),
            payload.size,
            lambda frames, size: self._check_rate(payload, dest, frames, size),
            supersedes,
        )
        try:
            self.ledger.begin_egress(
                destination=dest.name,
                policy_version=self._version(dest),
                payload_sha256=payload.sha256,
                size=payload.size,
                model=options.model,
                intent_id=intent_id,
            )
        except BaseException:
            self.store.finish(intent_id, FAILED)  # nothing was sent; it still counts as an attempt
            raise
        try:
            answer = provider.send(payload, options)
        except ProviderError:
            self.store.finish(intent_id, FAILED)
            self.ledger.complete_egress(intent_id, outcome="failed")
            raise
        # Any other exception leaves the intent open on purpose: the request may have left.
        answer = ProviderAnswer(
            answer.provider, answer.model, answer.text, payload.sha256, dest.name, intent_id
        )
        self.store.finish(intent_id, SENT, answer)  # before the ledger: a crash here is recoverable
        self.ledger.complete_egress(intent_id, outcome="sent")
        return answer

    # --- checks ----------------------------------------------------------------------------------

    def _check_kill_switch(self) -> None:
        reason = self.policy.kill_reason()
        if reason is not None:
            raise EgressBlocked(f"egress is stopped by the kill switch: {reason}")

    def _rescan(self, payload: SanitizedPayload) -> None:
        for part in payload.text_parts:
            scan_text_part(part, self.analyzer)
            scan_text_part(TextPart(part.role, wire_text(part)), self.analyzer)
        images, verifier = payload.image_parts, self.verifier
        if images and verifier is None:
            raise EgressBlocked("this gateway has no verifier to re-scan the payload's images")
        for index, image in enumerate(images):
            assert verifier is not None  # checked above
            scan_image_part(image, verifier, index, self.verify_timeout)

    def _check_rate(self, payload: SanitizedPayload, dest: Destination, frames: int, size: int) -> None:
        """EgressBlocked when `frames` (last hour) and `size` (last day) leave no room for it."""
        wanted = len(payload.image_parts)
        if dest.frames_per_hour is not None and frames + wanted > dest.frames_per_hour:
            raise EgressBlocked(
                f"destination '{dest.name}': {frames} frames sent in the last hour, {wanted} more would "
                f"exceed frames_per_hour={dest.frames_per_hour}"
            )
        if dest.bytes_per_day is not None and size + payload.size > dest.bytes_per_day:
            raise EgressBlocked(
                f"destination '{dest.name}': {size} bytes sent in the last 24 h, {payload.size} more would "
                f"exceed bytes_per_day={dest.bytes_per_day}"
            )

    def _check_interrupted(
        self, dest: Destination, payload: SanitizedPayload
    ) -> tuple[ProviderAnswer | None, str | None]:
        """(the stored answer of a send that completed but was not logged as such, or None;
        the interrupted intent an operator approved resending, or None)."""
        for pending in self.ledger.pending_egress():
            intent = pending.intent
            if intent.destination != dest.name or intent.payload_sha256 != payload.sha256:
                continue
            row = self.store.get(intent.intent_id)
            if row is not None and row.outcome == SENT and row.answer is not None:
                self.ledger.complete_egress(intent.intent_id, outcome="sent")
                answer = self.store.sent_answer(dest.name, payload.sha256)
                return (_replayed(answer) if answer else None), None
            raise EgressBlocked(
                f"an earlier send of payload {payload.sha256[:12]} to '{dest.name}' was interrupted "
                f"(ledger intent {intent.intent_id}); it may have arrived, so it is not resent. "
                "An operator must decide: Gateway.resolve_interrupted(intent_id, resend=True|False)"
            )
        for row in self.store.decisions(dest.name, payload.sha256):
            if row.outcome == ABANDONED:
                raise EgressBlocked(
                    f"an operator abandoned sending payload {payload.sha256[:12]} to '{dest.name}' "
                    f"(intent {row.intent_id})"
                )
            if not self.store.superseded(row.intent_id):
                return None, row.intent_id
        return None, None

    def resolve_interrupted(self, intent_id: str, *, resend: bool) -> None:
        """An operator's decision on an interrupted send: close its intent in the ledger (as
        "failed": no answer was received) and either allow one resend or abandon the payload."""
        pending = {p.intent.intent_id: p.intent for p in self.ledger.pending_egress()}
        intent = pending.get(intent_id)
        if intent is None:
            raise LedgerError(f"no interrupted egress intent {intent_id} in the ledger")
        if self.store.get(intent_id) is None:
            # The process died between the ledger intent and the gateway's own record of it.
            self.store.record_intent(intent_id, intent.destination, intent.payload_sha256, 0, 0)
        self.store.finish(intent_id, RESEND_APPROVED if resend else ABANDONED)
        self.ledger.complete_egress(intent_id, outcome="failed")
        self.store.release(intent.destination, intent.payload_sha256)

    def _version(self, dest: Destination) -> str:
        # Ties each ledger entry to the exact destination terms in force.
        digest = hashlib.sha256(dest.model_dump_json().encode("utf-8")).hexdigest()[:16]
        return f"{self.policy_version}/{dest.name}/{digest}"


def _replayed(answer: ProviderAnswer) -> ProviderAnswer:
    return ProviderAnswer(
        answer.provider,
        answer.model,
        answer.text,
        answer.payload_sha256,
        answer.destination,
        answer.intent_id,
        replayed=True,
    )
