"""Frame sources and sinks. Sources stream frames one at a time (never a whole video in memory);
sinks write to a temporary name and rename on `close()` so no half-written output looks complete."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np

from veil.models import Frame, Pixels


@dataclass(frozen=True, slots=True)
class SourceInfo:
    kind: str  # "video" | "image" | "folder"
    path: Path
    frame_count: int | None  # None when the container does not say
    width: int
    height: int
    fps: Fraction | None = None
    time_base: Fraction | None = None


# Whether a frame's pixels are needed, by index (see `FrameSource.frames`).
Wanted = Callable[[int], bool]


def placeholder(height: int, width: int) -> Pixels:
    """Read-only black pixels of a frame's shape that take no memory: a frame whose pixels another
    process converts (see `FrameSource.frames`)."""
    return np.broadcast_to(np.zeros(1, np.uint8), (height, width, 3))


class FrameSource(ABC):
    info: SourceInfo

    @abstractmethod
    def frames(self, wanted: Wanted | None = None) -> Iterator[Frame]:
        """Yield frames in order. A frame that cannot be decoded raises `InputError` naming its index.
        A video frame whose `wanted(index)` is False is decoded (so damage is still found) but its
        pixels are not converted: they are a `placeholder`. Image sources, whose decoding is their
        check, convert every frame."""


class FrameSink(ABC):
    """Receives redacted frames in input order. `abort()` removes the partial output."""

    @abstractmethod
    def write(self, frame: Frame, pixels: Pixels) -> None: ...

    @abstractmethod
    def close(self) -> Path:
        """Finish the output, move it to its final name and return that name."""

    @abstractmethod
    def finish(self, target: Path) -> Path:
        """Finish the output and move it to `target` (in the same file system); returns `target`.
        A run finishes into its private folder first and renames to the final name only once the
        ledger has recorded the run."""

    @abstractmethod
    def abort(self) -> None: ...

    def close_partial(self) -> Path:
        """Finish what was written so far under `<stem>.partial<suffix>` (never the final name), for
        a run stopped by bad input midway. Returns that name."""
        raise NotImplementedError

    def __enter__(self) -> FrameSink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            self.abort()
