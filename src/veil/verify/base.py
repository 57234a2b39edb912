"""The verifier interface: it reads the *redacted* pixels again, with an engine independent of the
one that found the values, and runs the same detectors. Anything found means the frame is not clean."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from veil.models import Finding, Pixels, TextLine


@dataclass(frozen=True, slots=True)
class Verdict:
    findings: tuple[Finding, ...]
    lines: tuple[TextLine, ...]  # what the verifier read: the source of the sanitized text layer

    @property
    def clean(self) -> bool:
        return not self.findings


class Verifier(ABC):
    @abstractmethod
    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        """Re-scan `pixels`; raise `EngineError` if it cannot (the caller then masks the frame)."""
