"""The progress protocol: the core reports progress through this, and never imports rich."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol


class ProgressBar(Protocol):
    def __enter__(self) -> ProgressBar: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def update(self, advance: int = 1) -> None: ...


class NullProgress:
    def __init__(self, total: int | None = None, description: str = "") -> None:
        self.total, self.description = total, description

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def update(self, advance: int = 1) -> None:
        return None


class ProgressFactory(Protocol):
    def __call__(self, total: int | None, description: str) -> ProgressBar: ...
