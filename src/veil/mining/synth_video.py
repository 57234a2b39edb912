"""A generated screen recording of spreadsheet-to-form work, for the record -> redact -> mine chain.

A person copies customers, one row at a time, from spreadsheets into web forms. There are three
task types, each with its own workbook and its own form (claims, supplier registration, return
labels), and the person interleaves them: a form is left half filled for another task and
finished later. Every value is visible on screen (names, e-mails, phones, all invented by
`veil.synth.fakedata`), so the recording must be redacted before anything is mined.

`video_recording` writes an H.264 file at 1 frame per second, the window sidecar
(`<video>.windows.jsonl`: app, title and URL of the window in front) and returns the truth of
every frame: the task instance on screen ("claims#3") or "" between tasks.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from veil.models import Pixels
from veil.synth._fonts import Font, latin
from veil.synth.fakedata import FakeData
from veil.synth.recording import encode_frames

W, H = 1280, 720
ROWS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    workbook: str
    title: str
    url: str
    fields: tuple[tuple[str, str], ...]  # (label, value type)


TASKS: tuple[Task, ...] = (
    Task("claims", "Claims.xlsx", "New claim", "https://claims.example/new",
         (("Name", "person_name"), ("E-mail", "email"), ("Phone", "phone"))),
    Task("suppliers", "Suppliers.xlsx", "Register supplier", "https://vendors.example/register",
         (("Contact", "person_name"), ("Phone", "phone"), ("Mail", "email"))),
    Task("returns", "Returns.xlsx", "Return label", "https://returns.example/label",
         (("Customer", "person_name"), ("Customer e-mail", "email"))),
)  # fmt: skip


@dataclass
class _Open:
    task: Task
    number: int
    row: int
    values: list[str]
    filled: int = 0


@dataclass
class _Desk:
    rng: random.Random
    fake: FakeData
    sheets: dict[str, list[list[str]]]
    frames: list[tuple[Pixels, str]] = field(default_factory=list)
    windows: list[dict[str, object]] = field(default_factory=list)
    forms: dict[str, list[str]] = field(default_factory=dict)

    def window(self, app: str, title: str, url: str) -> None:
        event = {"t": float(len(self.frames)), "app": app, "title": title, "url": url, "user": "u-7c1e"}
        last = self.windows[-1] if self.windows else {}
        if any(last.get(k) != event[k] for k in ("app", "title", "url")):
            self.windows.append(event)

    def emit(self, pixels: Pixels, truth: str, hold: int = 1) -> None:
        for _ in range(hold):
            self.frames.append((pixels, truth))


def _font(size: int, bold: bool = False) -> Font:
    return latin(size, bold=bold)


def sheet_pixels(task: Task, rows: list[list[str]], row: int, column: int | None, toast: bool) -> Pixels:
    """The task's workbook, scrolled to `row`, the cell (`row`, `column`) highlighted."""
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, W, 36], fill="#1d6f42")
    d.text((16, 8), f"{task.workbook} - Excel", fill="white", font=_font(16, True))
    widths = [60] + [360 if t == "email" else 300 for _label, t in task.fields]
    xs = [16]
    for w in widths:
        xs.append(xs[-1] + w)
    top = max(0, row - ROWS_SHOWN + 3)
    y = 60
    d.rectangle([16, y, xs[-1], y + 30], fill="#e8e8e8")
    for k, (label, _t) in enumerate(task.fields):
        d.text((xs[k + 1] + 8, y + 6), label, fill="black", font=_font(15, True))
    for r in range(top, min(top + ROWS_SHOWN, len(rows))):
        y += 34
        d.text((xs[0] + 8, y + 6), str(r + 2), fill="#555", font=_font(15))
        for k, value in enumerate(rows[r]):
            if r == row and k == column:
                d.rectangle([xs[k + 1], y, xs[k + 2], y + 30], fill="#cfe8d8", outline="#1d6f42", width=2)
            d.text((xs[k + 1] + 8, y + 6), value, fill="black", font=_font(15))
        d.line([16, y + 32, xs[-1], y + 32], fill="#dddddd")
    if toast:
        d.rectangle([W - 260, H - 70, W - 30, H - 30], fill="#333333")
        d.text((W - 240, H - 62), "Copied", fill="white", font=_font(16))
    return np.asarray(img, dtype=np.uint8).copy()


def _form(task: Task, values: list[str], pressed: bool, saved: bool) -> Pixels:
    img = Image.new("RGB", (W, H), "#f7f7f7")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, W, 36], fill="#dddddd")
    d.text((16, 8), task.url, fill="#333", font=_font(15))
    d.text((60, 70), task.title, fill="black", font=_font(24, True))
    y = 140
    for k, (label, _t) in enumerate(task.fields):
        d.text((60, y + 8), f"{label}:", fill="black", font=_font(17))
        d.rectangle([300, y, 900, y + 40], fill="white", outline="#999999")
        if k < len(values) and values[k]:
            d.text((312, y + 9), values[k], fill="black", font=_font(17))
        y += 70
    d.rectangle([300, y + 10, 440, y + 50], fill="#1a5fb4" if pressed else "#3584e4")
    d.text((330, y + 19), "Submit", fill="white", font=_font(17, True))
    if saved:
        d.text((480, y + 19), "Saved", fill="#26a269", font=_font(17, True))
    return np.asarray(img, dtype=np.uint8).copy()


def _fill_field(desk: _Desk, work: _Open) -> None:
    task, k = work.task, work.filled
    truth = f"{task.name}#{work.number}"
    rows = desk.sheets[task.name]
    desk.window("Excel", f"{task.workbook} - Excel", "")
    desk.emit(sheet_pixels(task, rows, work.row, k, toast=False), truth, desk.rng.randint(1, 2))
    desk.emit(sheet_pixels(task, rows, work.row, k, toast=True), truth)
    form = desk.forms.setdefault(task.name, [""] * len(task.fields))
    desk.window("Chrome", task.title, task.url)
    form[k] = work.values[k]
    desk.emit(_form(task, form, pressed=False, saved=False), truth, desk.rng.randint(1, 2))
    work.filled += 1


def _submit(desk: _Desk, work: _Open) -> None:
    task = work.task
    truth = f"{task.name}#{work.number}"
    form = desk.forms[task.name]
    desk.emit(_form(task, form, pressed=True, saved=False), truth)
    desk.forms[task.name] = [""] * len(task.fields)
    desk.emit(_form(task, desk.forms[task.name], pressed=False, saved=True), truth)


def video_recording(path: Path, seconds: float = 900.0, seed: int = 5, switch: float = 0.35) -> list[str]:
    """Write the recording and its window sidecar; return the truth of every frame (1 fps).
    `switch` is the chance of leaving the current form for another open task after a field."""
    rng = random.Random(seed)
    fake = FakeData(seed)
    sheets = {t.name: [[_value(fake, kind) for _l, kind in t.fields] for _ in range(400)] for t in TASKS}
    desk = _Desk(rng, fake, sheets)
    next_row = {t.name: 0 for t in TASKS}
    count = dict.fromkeys(next_row, 0)
    open_: dict[str, _Open] = {}
    current: str | None = None
    while len(desk.frames) < seconds:
        for t in rng.sample(TASKS, 2):
            if t.name not in open_ and len(open_) < 2:
                count[t.name] += 1
                row = next_row[t.name]
                next_row[t.name] += 1
                open_[t.name] = _Open(t, count[t.name], row, sheets[t.name][row])
        if current not in open_ or rng.random() < switch:
            current = rng.choice(sorted(open_))
        work = open_[current]
        _fill_field(desk, work)
        if work.filled == len(work.task.fields):
            _submit(desk, work)
            del open_[current]
            current = None
    frames = desk.frames[: int(seconds)]
    encode_frames(path, (p for p, _t in frames), fps=1, size=(W, H), crf=12)
    sidecar = path.with_name(path.name + ".windows.jsonl")
    kept = [w for w in desk.windows if float(str(w["t"])) < len(frames)]
    sidecar.write_text("".join(json.dumps(w) + "\n" for w in kept), encoding="utf-8")
    return [t for _p, t in frames]


def _value(fake: FakeData, kind: str) -> str:
    return fake.name("en").text if kind == "person_name" else fake.value(kind, "en").text
