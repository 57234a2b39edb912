"""Twins for tests: a recognizer that finds nothing and one that fails like a real one can."""

from __future__ import annotations

from veil.detect.base import Recognizer
from veil.exceptions import EngineError
from veil.models import TextSpan


class NullRecognizer(Recognizer):
    name = "null"
    types = ()

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        return []


class FailingRecognizer(Recognizer):
    """Raises as a broken recognizer would: `exc` is the error class to raise (default
    RuntimeError, which the analyzer turns into EngineError)."""

    name = "failing"
    types = ("failing",)

    def __init__(self, exc: type[Exception] = RuntimeError) -> None:
        self.exc = exc

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        raise self.exc("injected failure")


class FixedRecognizer(Recognizer):
    """Returns the spans it was given, whatever the text: for testing callers of an analyzer."""

    name = "fixed"

    def __init__(self, spans: list[TextSpan]) -> None:
        self.spans = spans
        self.types = tuple(dict.fromkeys(s.type for s in spans))

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        return [s for s in self.spans if s.end <= len(text)]


__all__ = ["EngineError", "FailingRecognizer", "FixedRecognizer", "NullRecognizer"]
