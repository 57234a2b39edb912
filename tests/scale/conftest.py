"""A local Ray for the module (two CPUs), shut down after it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from veil.scale import runtime


@pytest.fixture(scope="module")
def ray() -> Iterator[Any]:
    module = runtime.ensure(2)
    yield module
    module.shutdown()
