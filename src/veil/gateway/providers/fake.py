"""Twins for tests: a provider that records what it was given and answers, and one that fails the
way a real one can (timeout, unreachable, an HTTP status), optionally a fixed number of times."""

from __future__ import annotations

from veil.gateway.base import (
    Provider,
    ProviderAnswer,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnreachable,
    RequestOptions,
)
from veil.verify.payload import SanitizedPayload


class FakeProvider(Provider):
    """Answers "ok <n>" and keeps every payload it was sent, in order."""

    name = "fake"

    def __init__(self, answer: str = "ok") -> None:
        self.answer = answer
        self.sent: list[SanitizedPayload] = []

    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer:
        self.sent.append(payload)
        return ProviderAnswer(self.name, options.model, f"{self.answer} {len(self.sent)}", payload.sha256)


class FailingProvider(FakeProvider):
    """Fails `times` times (forever when None) with `failure` ("timeout", "unreachable", "500",
    "429", "400", ...), then answers like FakeProvider. Failed attempts are recorded too."""

    name = "failing"

    def __init__(self, failure: str = "timeout", times: int | None = None) -> None:
        super().__init__()
        self.failure = failure
        self.times = times
        self.attempts = 0

    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer:
        self.attempts += 1
        if self.times is None or self.attempts <= self.times:
            self.sent.append(payload)
            raise self._error()
        return super().send(payload, options)

    def _error(self) -> ProviderError:
        if self.failure == "timeout":
            return ProviderTimeout("fake destination: no answer in time")
        if self.failure == "unreachable":
            return ProviderUnreachable("fake destination: connection failed")
        return ProviderRejected(f"fake destination: HTTP {self.failure}", int(self.failure))
