"""Fault-injection twins of an OCR engine, for tests of the stages that call one.

NullEngine()            reads nothing
FixedEngine(lines)      returns the given lines, whatever the picture
CrashingEngine()        raises EngineError, as a real engine does when it fails
HangingEngine(seconds)  sleeps, then reads nothing (for timeout handling)
GarbageEngine()         raises RuntimeError, like a buggy third-party plugin
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from veil.exceptions import EngineError
from veil.models import Pixels, TextLine
from veil.ocr.base import OcrEngine


class NullEngine(OcrEngine):
    name = "null"

    def __init__(self) -> None:
        self.calls = 0

    def read(self, pixels: Pixels) -> list[TextLine]:
        self.calls += 1
        return []


class FixedEngine(OcrEngine):
    name = "fixed"

    def __init__(self, lines: Sequence[TextLine]) -> None:
        self.lines = list(lines)
        self.calls = 0

    def read(self, pixels: Pixels) -> list[TextLine]:
        self.calls += 1
        return list(self.lines)


class CrashingEngine(OcrEngine):
    name = "crashing"

    def __init__(self, message: str = "injected OCR failure") -> None:
        self.message = message
        self.calls = 0

    def read(self, pixels: Pixels) -> list[TextLine]:
        self.calls += 1
        raise EngineError(self.message)


class HangingEngine(OcrEngine):
    name = "hanging"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def read(self, pixels: Pixels) -> list[TextLine]:
        self.calls += 1
        time.sleep(self.seconds)
        return []


class GarbageEngine(OcrEngine):
    name = "garbage"

    def __init__(self) -> None:
        self.calls = 0

    def read(self, pixels: Pixels) -> list[TextLine]:
        self.calls += 1
        raise RuntimeError("injected non-Veil failure from a buggy plugin")
