"""Short synthetic screen recordings scripted like office work, with per-frame ground truth.

The script: each scene is shown for a while; on a form a value is typed character by character,
on a table the rows scroll by one row per frame, then the next scene (another language) follows.
Encoded with PyAV (libx264, yuv444p, near-lossless crf) so text edges survive for OCR.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av

from veil.exceptions import OutputError, VeilError
from veil.models import Pixels
from veil.synth.fakedata import LANGUAGES
from veil.synth.screens import (
    Layout,
    Screen,
    ScreenSpec,
    TruthItem,
    render_layout,
    typed_length,
    with_typed,
)

DEFAULT_SCENES: tuple[str, ...] = ("form", "table", "chat", "email", "terminal")


@dataclass(frozen=True, slots=True)
class RecordingTruth:
    """What each frame of a generated recording shows: `frames[i]` are frame i's items."""

    path: Path
    fps: int
    size: tuple[int, int]
    frames: tuple[tuple[TruthItem, ...], ...]
    scenes: tuple[str, ...]  # "kind/language" of each frame

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    def items(self, frame_index: int) -> tuple[TruthItem, ...]:
        return self.frames[frame_index]


def _scene_frames(layout: Layout, n: int) -> Iterator[Screen]:
    """`n` frames of one scene: a pause, then typing (forms) or scrolling (tables)."""
    kind = layout.spec.kind
    hold = max(1, n // 3)
    cache: dict[tuple[int, int], Screen] = {}

    def shot(scroll: int, typed: int) -> Screen:
        if (scroll, typed) not in cache:
            shown = layout if typed < 0 else with_typed(layout, "typing", typed)
            cache[(scroll, typed)] = render_layout(shown, scroll_px=scroll)
        return cache[(scroll, typed)]

    length = typed_length(layout, "typing") if kind == "form" else 0
    for i in range(n):
        if kind == "form" and n > 1:
            # Start from an empty field and finish typing on the last frame.
            step = i * length // (n - 1) if i else 0
            yield shot(0, step if i < n - 1 else -1)
        elif kind == "table" and i >= hold:
            yield shot((i - hold + 1) * layout.row_px, -1)
        else:
            yield shot(0, -1)


def _plan(seed: int, size: tuple[int, int], languages: Sequence[str], kinds: Sequence[str]) -> list[Layout]:
    from veil.synth._scenes import build_layout

    layouts = []
    for i, language in enumerate(languages):
        spec = ScreenSpec(
            kind=kinds[i % len(kinds)],
            language=language,
            theme=("light", "dark")[(seed + i) % 2],
            font_px=13 + (seed + i) % 4,
            size=size,
            seed=seed * 100 + i,
        )
        layouts.append(build_layout(spec))
    return layouts


def make_recording(
    path: Path,
    seed: int,
    seconds: float,
    fps: int,
    size: tuple[int, int] = (1280, 720),
    languages: Sequence[str] = LANGUAGES,
    kinds: Sequence[str] = DEFAULT_SCENES,
    crf: int = 12,
) -> RecordingTruth:
    """Write an H.264 recording to `path` and return what every frame shows.

    One scene per entry of `languages` (kinds taken in turn from `kinds`), frames split evenly."""
    total = round(seconds * fps)
    if total < len(languages) or fps <= 0:
        raise VeilError(f"{total} frames at {fps} fps cannot show {len(languages)} scenes")
    layouts = _plan(seed, size, languages, kinds)
    bounds = [round(total * i / len(layouts)) for i in range(len(layouts) + 1)]
    truth: list[tuple[TruthItem, ...]] = []
    scenes: list[str] = []

    def frames() -> Iterator[Pixels]:
        for layout, start, stop in zip(layouts, bounds, bounds[1:], strict=False):
            for screen in _scene_frames(layout, stop - start):
                truth.append(screen.items)
                scenes.append(f"{layout.spec.kind}/{layout.spec.language}")
                yield screen.pixels

    _encode(path, frames(), fps, size, crf)
    return RecordingTruth(path, fps, size, tuple(truth), tuple(scenes))


def encode_frames(path: Path, frames: Iterator[Pixels], fps: int, size: tuple[int, int], crf: int) -> None:
    """Write RGB frames as an H.264 (yuv444p) recording; OutputError if it cannot be written."""
    _encode(path, frames, fps, size, crf)


def _encode(path: Path, frames: Iterator[Pixels], fps: int, size: tuple[int, int], crf: int) -> None:
    try:
        with av.open(str(path), mode="w") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv444p"
            stream.options = {"crf": str(crf), "preset": "veryfast"}
            for pixels in frames:
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    except (OSError, av.FFmpegError) as exc:
        raise OutputError(f"could not write recording {path}: {type(exc).__name__}") from exc


def demo_recording(path: Path, seed: int = 7) -> RecordingTruth:
    """The `veil demo` clip: ~4 s at 2 fps, 1280x720, four scenes, one per language."""
    return make_recording(
        path, seed=seed, seconds=4.0, fps=2, size=(1280, 720), languages=("ko", "ja", "fr", "en"),
        kinds=("form", "table", "chat", "email"),
    )  # fmt: skip
