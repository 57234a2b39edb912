"""A synthetic sanitized text layer: a multi-minute "recording" at 1 fps in which one routine
(copy a customer's e-mail from a web admin into a spreadsheet) is done `repeats` times among
other, irregular work. Values are already sanitized, as the redaction pipeline writes them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

W, H = 1280, 720
ROUTINE_NAME = "copy e-mail from order admin to spreadsheet"


@dataclass
class _Screen:
    app: str
    title: str
    url: str
    lines: list[tuple[list[int], str]]


@dataclass
class _Recorder:
    user: str
    frames: list[dict[str, Any]] = field(default_factory=list)
    t: float = 0.0
    screen: _Screen | None = None
    truth: list[str] = field(default_factory=list)  # per frame: routine name or ""

    def emit(self, changed: list[list[int]], label: str, seconds: float = 1.0) -> None:
        assert self.screen is not None
        s = self.screen
        self.frames.append(
            {
                "frame": len(self.frames),
                "t": round(self.t, 2),
                "user": self.user,
                "window": {"app": s.app, "title": s.title, "url": s.url},
                "lines": [{"box": b, "text": t} for b, t in s.lines],
                "changed": changed,
            }
        )
        self.truth.append(label)
        self.t += seconds

    def show(self, screen: _Screen, label: str) -> None:
        self.screen = screen
        self.emit([[0, 0, W, H]], label)

    def set_line(self, index: int, text: str) -> list[int]:
        assert self.screen is not None
        box, _old = self.screen.lines[index]
        self.screen.lines[index] = (box, text)
        return box


def _order_admin(order: int) -> _Screen:
    return _Screen(
        "Chrome",
        "Order admin",
        f"https://shop-admin.example/orders/{order}",
        [
            ([40, 30, 300, 30], "Order details"),
            ([40, 100, 420, 24], "Order number: <number>"),
            ([40, 140, 420, 24], "Customer: Customer 7"),
            ([40, 180, 420, 24], "E-mail: <email>"),
            ([40, 220, 420, 24], "Phone: <phone>"),
            ([40, 300, 140, 30], "Copy e-mail"),
            ([200, 300, 120, 30], "Refund"),
        ],
    )


def _sheet() -> _Screen:
    return _Screen(
        "Excel",
        "Orders.xlsx",
        "",
        [
            ([40, 30, 300, 30], "Orders.xlsx"),
            ([40, 100, 160, 24], "Order"),
            ([220, 100, 260, 24], "E-mail"),
            ([500, 100, 160, 24], "Status"),
            ([40, 130, 160, 24], "<number>"),
            ([220, 130, 260, 24], ""),
            ([500, 130, 160, 24], ""),
            ([40, 400, 100, 30], "Save"),
        ],
    )


def _routine(rec: _Recorder, rng: random.Random) -> None:
    name = ROUTINE_NAME
    rec.show(_order_admin(rng.randint(1000, 9999)), name)
    rec.emit([], name, rng.uniform(1, 3))
    button = rec.screen.lines[5][0] if rec.screen else [0, 0, 0, 0]
    rec.emit([button], name)  # the button highlights
    assert rec.screen is not None
    rec.screen.lines.append(([900, 650, 200, 30], "Copied"))
    rec.emit([[900, 650, 200, 30]], name)
    rec.show(_sheet(), name)
    for index, value in ((5, "<email>"), (6, "<text>")):
        for _ in range(rng.randint(2, 3)):
            box = rec.set_line(index, value)
            rec.emit([box], name)
        rec.emit([], name, rng.uniform(0.5, 2))
    save = rec.screen.lines[7][0]
    rec.emit([save], name)
    rec.emit([], name, rng.uniform(1, 4))


def _inbox(rng: random.Random) -> _Screen:
    subjects = [
        "Team lunch",
        "Weekly report",
        "Re: invoice <number>",
        "Holiday plan",
        "IT notice",
        "Newsletter",
    ]
    rng.shuffle(subjects)
    return _Screen("Outlook", "Inbox", "", [([40, 80 + 40 * k, 600, 24], s) for k, s in enumerate(subjects)])


def _news(rng: random.Random) -> _Screen:
    items = rng.sample([f"News item {chr(65 + k)}" for k in range(20)], 8)
    url = "https://intranet.example/news"
    return _Screen("Chrome", "Intranet", url, [([40, 60 + 40 * k, 700, 24], s) for k, s in enumerate(items)])


def _calendar(rng: random.Random) -> _Screen:
    days = rng.sample(["Mon", "Tue", "Wed", "Thu", "Fri", "Next week", "Today", "Agenda"], 6)
    return _Screen("Calendar", "Calendar", "", [([40 + 150 * k, 80, 140, 24], d) for k, d in enumerate(days)])


def _files(rng: random.Random) -> _Screen:
    names = rng.sample([f"Folder {chr(65 + k)}" for k in range(12)], 6)
    return _Screen("Explorer", "Files", "", [([40, 80 + 36 * k, 400, 24], n) for k, n in enumerate(names)])


def _other(rec: _Recorder, rng: random.Random) -> None:
    """Irregular work: reading mail, scrolling news, a chat message; order and length vary."""
    for _ in range(rng.randint(3, 6)):
        kind = rng.choice(("inbox", "news", "chat", "calendar", "files"))
        if kind == "chat":
            rec.show(
                _Screen("Teams", "Chat", "", [([40, 60, 200, 24], "Message:"), ([260, 60, 500, 24], "")]), ""
            )
            for _ in range(rng.randint(1, 3)):
                rec.emit([rec.set_line(1, "<text>")], "")
            continue
        screens = {"inbox": _inbox, "news": _news, "calendar": _calendar, "files": _files}
        rec.show(screens[kind](rng), "")
        for _ in range(rng.randint(1, 4)):
            assert rec.screen is not None
            if rng.random() < 0.5:
                rec.screen.lines = [([b[0], b[1] - 40, b[2], b[3]], t) for b, t in rec.screen.lines]
                rec.emit([[40, 40, 700, 400]], "", rng.uniform(1, 5))
            else:
                box, _t = rng.choice(rec.screen.lines)
                rec.emit([box], "", rng.uniform(1, 5))


def generate_recording(path: Path, repeats: int = 5, seed: int = 11, user: str = "u-3f2a") -> list[str]:
    """Write the text layer to `path`; return the per-frame ground truth (routine name or "")."""
    rng = random.Random(seed)
    rec = _Recorder(user)
    rec.show(_inbox(rng), "")
    for _ in range(repeats):
        _other(rec, rng)
        _routine(rec, rng)
    _other(rec, rng)
    header = {"veil_text_layer": 1, "started": "2026-11-23T09:00:00+00:00", "size": [W, H]}
    with path.open("w", encoding="utf-8") as fh:
        for obj in (header, *rec.frames):
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return rec.truth
