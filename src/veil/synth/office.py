"""Recordings scripted like a working day at a back-office desk, for the speed benchmark and the
incremental-path tests, with the exact box of every visible value in every frame.

Three windows share the screen, one at a time, in one language and theme:
- a CRM form: fields are typed character by character (a few characters a second); a field that is
  not complete is not in the truth (no detector can be asked to recognise half a number); a saved
  record opens the next customer's empty form;
- a long customer table (several hundred rows) scrolled a few rows at a time;
- a chat that receives a message every so often (whichever window is in front); once full it
  scrolls up by one message.
The user switches windows every 20-40 s and pauses between actions, so many frames are identical.
The script is drawn frame by frame from one seeded generator, so a shorter recording with the same
seed is exactly the first frames of a longer one. Frames are streamed to the encoder one at a time;
only the last few distinct screens are kept (most frames repeat one of them).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from veil.exceptions import VeilError
from veil.models import Box, Pixels
from veil.synth._scenes import build_layout
from veil.synth.fakedata import LANGUAGES, FakeData, FakeValue
from veil.synth.recording import RecordingTruth, _encode
from veil.synth.screens import Layout, Op, RectOp, Screen, ScreenSpec, Span, TextOp, TruthItem, render_layout

WINDOWS: tuple[str, ...] = ("form", "table", "chat")
SCREEN_CACHE = 12  # distinct screens kept; a 1080p screen is 6 MB


@dataclass(frozen=True, slots=True)
class OfficeScript:
    """How the simulated user works (seconds)."""

    switch_seconds: tuple[float, float] = (20.0, 40.0)  # time in one window before switching
    type_cps: float = 3.5  # characters typed per second
    message_seconds: tuple[float, float] = (10.0, 30.0)  # between two incoming chat messages
    table_blocks: int = 6  # the table holds this many blocks of the scene's 40 rows
    windows: tuple[str, ...] = WINDOWS


class _Window(Protocol):
    name: str

    def key(self) -> tuple[object, ...]: ...

    def view(self) -> tuple[Layout, int]: ...

    def step(self, rng: random.Random) -> float: ...


class _Form:
    """A CRM form: some fields loaded from the record, the others typed one character at a time."""

    name = "form"

    def __init__(self, spec: ScreenSpec, script: OfficeScript, rng: random.Random) -> None:
        self._spec, self._script, self._rng = spec, script, rng
        self.record = 0
        self._load()

    def _load(self) -> None:
        self.layout = build_layout(replace(self._spec, seed=self._spec.seed + 7919 * self.record))
        fields = [
            i
            for i, op in enumerate(self.layout.ops)
            if isinstance(op, TextOp) and len(op.spans) == 1 and op.spans[0].value is not None
        ]
        self.todo = [i for i in fields if self._rng.random() >= 0.35]  # the rest came with the record
        self.cursor, self.chars = 0, 0

    def key(self) -> tuple[object, ...]:
        return (self.record, self.cursor, self.chars)

    def view(self) -> tuple[Layout, int]:
        ops = list(self.layout.ops)
        for n, i in enumerate(self.todo[self.cursor :]):
            op = ops[i]
            assert isinstance(op, TextOp)
            shown = self.chars if n == 0 else 0
            if shown < len(op.spans[0].text):
                ops[i] = replace(op, spans=(Span(op.spans[0].text[:shown]),))
        return replace(self.layout, ops=tuple(ops)), 0

    def step(self, rng: random.Random) -> float:
        if self.cursor >= len(self.todo):  # saved: the next customer's form opens
            self.record += 1
            self._load()
            return rng.uniform(2.0, 5.0)
        op = self.layout.ops[self.todo[self.cursor]]
        assert isinstance(op, TextOp)
        self.chars += 1
        if self.chars < len(op.spans[0].text):
            return rng.uniform(0.6, 1.5) / self._script.type_cps
        self.cursor, self.chars = self.cursor + 1, 0
        return rng.uniform(4.0, 10.0) if rng.random() < 0.2 else rng.uniform(1.0, 3.0)


def _longer_table(layout: Layout, blocks: int, seed: int) -> tuple[Layout, int]:
    """The table with its rows repeated `blocks` times, each copy holding fresh values of the same
    column types. Returns the layout and its number of rows."""
    cells = [op for op in layout.ops if isinstance(op, TextOp) and op.scroll]
    ys = sorted({op.y for op in cells})
    if not ys or layout.row_px <= 0:
        raise VeilError("the table scene has no scrolling rows")
    block_h = len(ys) * layout.row_px
    font = layout.fonts()["body"]
    extra: list[Op] = []
    for k in range(1, blocks):
        fake = FakeData(seed * 131 + k)
        for op in layout.ops:
            if isinstance(op, RectOp) and op.scroll:
                extra.append(replace(op, box=Box(op.box.x, op.box.y + k * block_h, op.box.w, op.box.h)))
            elif isinstance(op, TextOp) and op.scroll:
                spans = tuple(_fresh(fake, s, font.getlength(s.text), font.getlength) for s in op.spans)
                extra.append(replace(op, y=op.y + k * block_h, spans=spans))
    return replace(layout, ops=(*layout.ops, *extra)), len(ys) * blocks


def _fresh(fake: FakeData, span: Span, width: float, measure: Callable[[str], float]) -> Span:
    """A new value of the span's type, no wider than the old one (it must fit its column)."""
    old = span.value
    if old is None:
        return span
    for _ in range(20):
        new: FakeValue = (
            fake.decoy(old.type, old.language) if old.decoy else fake.value(old.type, old.language)
        )
        if measure(new.text) <= width * 1.05:
            return Span(new.text, new)
    return span


class _Table:
    """A long customer table scrolled a few rows at a time, down and back up."""

    name = "table"

    def __init__(self, spec: ScreenSpec, script: OfficeScript) -> None:
        base = build_layout(replace(spec, kind="table"))
        self.layout, rows = _longer_table(base, script.table_blocks, spec.seed)
        assert base.viewport is not None
        self.max_row = max(rows - base.viewport.h // base.row_px, 0)
        self.row, self.direction = 0, 1

    def key(self) -> tuple[object, ...]:
        return (self.row,)

    def view(self) -> tuple[Layout, int]:
        return self.layout, self.row * self.layout.row_px

    def step(self, rng: random.Random) -> float:
        row = self.row + self.direction * rng.randint(2, 5)
        if not 0 <= row <= self.max_row:
            self.direction = -self.direction
            row = min(max(row, 0), self.max_row)
        self.row = row
        return rng.uniform(5.0, 12.0) if rng.random() < 0.2 else rng.uniform(1.0, 4.0)


class _Chat:
    """A support chat; messages arrive from outside. Full, it scrolls up by one message."""

    name = "chat"

    def __init__(self, spec: ScreenSpec, rng: random.Random) -> None:
        layouts = [build_layout(replace(spec, kind="chat", seed=spec.seed + 104729 * k)) for k in range(4)]
        first = _bubble_starts(layouts[0])
        self.chrome = layouts[0].ops[: first[0]]
        self.layout = layouts[0]
        self.slots = [_top(layouts[0].ops[i]) for i in first]
        self.messages: list[tuple[Op, ...]] = []
        for layout in layouts:
            starts = _bubble_starts(layout)
            for a, b in zip(starts, [*starts[1:], len(layout.ops)], strict=True):
                self.messages.append(_moved(layout.ops[a:b], -_top(layout.ops[a])))
        self.shown = rng.randint(3, 6)

    def key(self) -> tuple[object, ...]:
        return (self.shown,)

    def view(self) -> tuple[Layout, int]:
        visible = self.messages[max(self.shown - len(self.slots), 0) : self.shown]
        ops = list(self.chrome)
        for slot, message in zip(self.slots, visible, strict=False):
            ops += _moved(message, slot)
        return replace(self.layout, ops=tuple(ops)), 0

    def step(self, rng: random.Random) -> float:
        return rng.uniform(3.0, 8.0)  # reading

    def arrive(self) -> None:
        self.shown = min(self.shown + 1, len(self.messages))


def _bubble_starts(layout: Layout) -> list[int]:
    starts = [
        i
        for i, op in enumerate(layout.ops)
        if isinstance(op, RectOp) and op.color in ("bubble_me", "bubble_them")
    ]
    if not starts:
        raise VeilError("the chat scene has no message")
    return starts


def _top(op: Op) -> int:
    return op.box.y if isinstance(op, RectOp) else op.y


def _moved(ops: Sequence[Op], dy: int) -> tuple[Op, ...]:
    return tuple(
        replace(op, box=Box(op.box.x, op.box.y + dy, op.box.w, op.box.h))
        if isinstance(op, RectOp)
        else replace(op, y=op.y + dy)
        for op in ops
    )


class _Desk:
    """The user's day, one frame at a time."""

    def __init__(self, spec: ScreenSpec, fps: int, script: OfficeScript) -> None:
        self.rng = random.Random(spec.seed)
        self.fps, self.script = fps, script
        self.chat = _Chat(spec, self.rng)
        made: dict[str, _Window] = {
            "form": _Form(spec, script, self.rng),
            "table": _Table(spec, script),
            "chat": self.chat,
        }
        unknown = set(script.windows) - set(made)
        if unknown or not script.windows:
            raise VeilError(f"unknown office windows {sorted(unknown)}; known: {', '.join(WINDOWS)}")
        self.windows = [made[w] for w in script.windows]
        self.active = self.windows[0]
        self.frame = 0
        self.switch_at = self.rng.uniform(*script.switch_seconds)
        self.message_at = self.rng.uniform(*script.message_seconds)
        self.busy_until = self.rng.uniform(0.5, 2.0)
        self._cache: OrderedDict[tuple[object, ...], Screen] = OrderedDict()

    def advance(self) -> None:
        now = self.frame / self.fps
        if now >= self.switch_at and len(self.windows) > 1:
            self.active = self.rng.choice([w for w in self.windows if w is not self.active])
            self.switch_at = now + self.rng.uniform(*self.script.switch_seconds)
            self.busy_until = now + self.rng.uniform(0.5, 2.0)  # finding one's place
        if now >= self.message_at:
            self.chat.arrive()
            self.message_at = now + self.rng.uniform(*self.script.message_seconds)
        while self.busy_until <= now:  # more than one action per frame when typing fast
            self.busy_until += self.active.step(self.rng)
        self.frame += 1

    def screen(self) -> Screen:
        key = (self.active.name, *self.active.key())
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        layout, scroll = self.active.view()
        shot = render_layout(layout, scroll_px=scroll)
        self._cache[key] = shot
        if len(self._cache) > SCREEN_CACHE:
            self._cache.popitem(last=False)
        return shot


def office_spec(seed: int, size: tuple[int, int], language: str | None = None) -> ScreenSpec:
    """The look of a recording: one language and theme for the whole desk."""
    return ScreenSpec(
        kind="form",
        language=language or LANGUAGES[seed % len(LANGUAGES)],
        theme=("light", "dark")[seed % 2],
        font_px=13 + seed % 4,
        size=size,
        seed=seed,
    )


def office_recording(
    path: Path,
    seed: int,
    seconds: float,
    fps: int = 5,
    size: tuple[int, int] = (1920, 1080),
    *,
    language: str | None = None,
    script: OfficeScript | None = None,
    crf: int = 12,
) -> RecordingTruth:
    """Write an H.264 recording of office work to `path`; return what every frame shows.

    `language` defaults to one of ko/ja/fr/en chosen by the seed."""
    screens = office_screens(seed, seconds, fps, size, language=language, script=script)
    truth: list[tuple[TruthItem, ...]] = []
    scenes: list[str] = []

    def frames() -> Iterator[Pixels]:
        for shot, scene in screens:
            truth.append(shot.items)
            scenes.append(scene)
            yield shot.pixels

    _encode(path, frames(), fps, size, crf)
    return RecordingTruth(path, fps, size, tuple(truth), tuple(scenes))


def office_screens(
    seed: int,
    seconds: float,
    fps: int = 5,
    size: tuple[int, int] = (1920, 1080),
    *,
    language: str | None = None,
    script: OfficeScript | None = None,
) -> Iterator[tuple[Screen, str]]:
    """The frames of `office_recording` in memory, each with its scene ("table/ko"), unencoded.
    A frame that repeats the last screens shares its pixels (treat them as read-only)."""
    total = round(seconds * fps)
    if total < 1 or fps <= 0:
        raise VeilError(f"{seconds} s at {fps} fps is not a recording")
    spec = office_spec(seed, size, language)
    spec.check()
    desk = _Desk(spec, fps, script or OfficeScript())

    def screens() -> Iterator[tuple[Screen, str]]:  # checked above, before the first frame is asked
        for _ in range(total):
            desk.advance()
            yield desk.screen(), f"{desk.active.name}/{spec.language}"

    return screens()


def table_recording(
    path: Path,
    seed: int,
    rows: Sequence[int],
    fps: int = 2,
    size: tuple[int, int] = (1280, 720),
    *,
    language: str | None = None,
    crf: int = 12,
) -> RecordingTruth:
    """A recording of the long customer table alone, frame i scrolled down by `rows[i]` rows: a
    script written by hand (a row that enters, stays, moves, leaves)."""
    spec = office_spec(seed, size, language)
    spec.check()
    table = _Table(spec, OfficeScript())
    if any(not 0 <= r <= table.max_row for r in rows):
        raise VeilError(f"table rows must lie in 0..{table.max_row}")
    truth: list[tuple[TruthItem, ...]] = []
    cache: dict[int, Screen] = {}

    def frames() -> Iterator[Pixels]:
        for r in rows:
            if r not in cache:
                cache.clear()  # one screen at a time: a hand-written script rarely comes back
                cache[r] = render_layout(table.layout, scroll_px=r * table.layout.row_px)
            truth.append(cache[r].items)
            yield cache[r].pixels

    _encode(path, frames(), fps, size, crf)
    return RecordingTruth(path, fps, size, tuple(truth), tuple(f"table/{spec.language}" for _ in rows))
