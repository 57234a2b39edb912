"""Python's cycle collector paused around the miner's bulk work.

Each collection walks every container object made since the last one of its generation, and the
oldest generation holds every event of the log: a million events and the lists, tuples and dicts
made over them set off collection after collection, each walking them all (a fifth of the
import's time and a sixth of segmentation's at a million events). The import, the segmentation
and the ranking make no reference cycles, so there is nothing for the collector to find there
(tested on a million events); it runs again, as it was, when they return.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
