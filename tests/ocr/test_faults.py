from __future__ import annotations

import time

import numpy as np
import pytest

from tests.plugins.ocr_faults import CrashingEngine, FixedEngine, GarbageEngine, HangingEngine, NullEngine
from veil.exceptions import EngineError, VeilError
from veil.models import Box, TextLine

PIXELS = np.zeros((10, 10, 3), dtype=np.uint8)


def test_null_and_fixed() -> None:
    line = TextLine("ab", Box(0, 0, 4, 2), (Box(0, 0, 2, 2), Box(2, 0, 2, 2)), 0.9, "fixed")
    assert NullEngine().read(PIXELS) == []
    fixed = FixedEngine([line])
    assert fixed.read(PIXELS) == [line]
    assert fixed.calls == 1


def test_crashing_raises_engine_error() -> None:
    with pytest.raises(EngineError):
        CrashingEngine().read(PIXELS)


def test_garbage_raises_a_non_veil_error() -> None:
    with pytest.raises(RuntimeError) as info:
        GarbageEngine().read(PIXELS)
    assert not isinstance(info.value, VeilError)


def test_hanging_sleeps() -> None:
    start = time.perf_counter()
    assert HangingEngine(0.05).read(PIXELS) == []
    assert time.perf_counter() - start >= 0.05
