"""Veil's sanitized text layer, and the UI events derived from it.

Format: JSON Lines (UTF-8), written by the redaction pipeline next to its report. An optional first
line is a header; every other line is one frame, in time order:

    {"veil_text_layer": 1, "started": "2026-11-23T09:00:00Z", "size": [1920, 1080]}   (optional)
    {"frame": 12, "t": 6.0, "user": "user-5d41402abc4b",
     "window": {"app": "Chrome", "title": "Orders", "url": "https://admin.example/orders/<id>"},
     "lines": [{"box": [x, y, w, h], "text": "연락처: <phone>"}, ...],
     "changed": [[x, y, w, h], ...]}

- `frame` (int) and `t` (seconds since the recording started) are required; `started` (ISO 8601)
  anchors `t` in time, else the Unix epoch is used.
- `user` is a keyed pseudonym (`veil.capture.metadata`); read back, any other id becomes one under
  this run's key. `window` may be null (no metadata) and its keys optional; its title, app and
  URL were cleaned by the detectors when written, and are cleaned again into events.
- `lines` is the sanitized OCR text: personal values are already `<type>` or a pseudonym label.
- `changed` are the change tracker's dirty regions relative to the previous frame.
- `size` ([width, height]) may also be given per frame; otherwise it is estimated from the boxes.

Derivation (`derive_events`): a window change is `switch` (or `navigate` when only the URL
changed); a change covering most of the screen is `switch`; most shared lines moving by the same
offset is `scroll`; a labelled field's region changing over consecutive frames is one `type`
event (label: the text before ':' on the line, or the label to its left or above); a change on an
unlabelled line is `click`; a "copied" notice is `copy`. The screen signature hashes the app, URL
template and the set of label texts, so it is stable while values change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from veil.capture.metadata import PSEUDONYM
from veil.exceptions import InputError
from veil.mining.base import Action, UIEvent
from veil.mining.links import default_linker
from veil.mining.scrub import scrub_text, scrub_url, value_type
from veil.models import Box

_WHOLE_SCREEN = 0.5
_COPIED = re.compile(r"(?i)\bcopied\b|copié|복사(?:됨|되었습니다)|コピーしました")
_LABEL_MAX = 40
_CLEARED_VALUES = 2  # values gone at once, none left: the form was sent


@dataclass(frozen=True, slots=True)
class Window:
    app: str = ""
    title: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class LayerLine:
    box: Box
    text: str  # sanitized, placeholders without their per-recording labels
    # The labels of the placeholders on the line (`<email:3f9a2c1b>` -> "email:3f9a2c1b"): kept
    # in memory to link events, never shown, exported or sent.
    links: tuple[str, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class TextFrame:
    frame: int
    time: datetime
    user: str
    window: Window | None
    lines: tuple[LayerLine, ...]
    changed: tuple[Box, ...]
    size: tuple[int, int] | None = None


def read_text_layer(path: Path) -> Iterator[TextFrame]:
    """Frames of a text layer file, streamed. InputError names the line of a malformed record."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"text layer unreadable: {path}: {type(exc).__name__}") from exc
    started = datetime.fromtimestamp(0, UTC)
    size: tuple[int, int] | None = None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            obj = _load(raw, path, number)
            if "veil_text_layer" in obj:
                started, size = _header(obj, path, number)
                continue
            try:
                yield _frame(obj, started, size)
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(
                    f"{path.name}: line {number}: malformed frame ({type(exc).__name__})"
                ) from exc


def _load(raw: str, path: Path, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: line {number}: not JSON") from exc
    if not isinstance(obj, dict):
        raise InputError(f"{path.name}: line {number}: a frame must be a JSON object")
    return obj


def _header(obj: dict[str, Any], path: Path, number: int) -> tuple[datetime, tuple[int, int] | None]:
    try:
        started = datetime.fromisoformat(str(obj.get("started", "1970-01-01T00:00:00+00:00")))
        size = obj.get("size")
        dims = (int(size[0]), int(size[1])) if size else None
    except (TypeError, ValueError, IndexError) as exc:
        raise InputError(f"{path.name}: line {number}: malformed header") from exc
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return started.astimezone(UTC), dims


_LABELLED = re.compile(r"<([a-z][a-z0-9_-]{0,30}):([0-9a-f]{4,32})>")


def without_labels(text: str) -> str:
    """The text with each placeholder's per-recording label removed: `<email:3f9a2c1b>` -> `<email>`."""
    return _LABELLED.sub(r"<\1>", text)


def _line(raw: dict[str, Any]) -> LayerLine:
    """A text-layer line; per-recording value labels move from the text to `links`."""
    text = str(raw["text"])
    links = tuple(f"{m.group(1)}:{m.group(2)}" for m in _LABELLED.finditer(text))
    return LayerLine(_box(raw["box"]), without_labels(text), links)


def _user(raw: object) -> str:
    """The pseudonym `veil redact` wrote; anything else (a login in a layer written by an older
    Veil or another tool) becomes a keyed pseudonym under this run's key (`links.Linker`)."""
    text = str(raw or "").strip()
    if not text:
        return "unknown"
    if PSEUDONYM.match(text):
        return text
    return f"user-{default_linker().pseudonym(text)}"


def _box(raw: Any) -> Box:
    x, y, w, h = (int(v) for v in raw)
    return Box(x, y, w, h)


def _frame(obj: dict[str, Any], started: datetime, size: tuple[int, int] | None) -> TextFrame:
    win = obj.get("window")
    window = None
    if win is not None:
        window = Window(str(win.get("app", "")), str(win.get("title", "")), str(win.get("url", "")))
    own_size = obj.get("size")
    return TextFrame(
        frame=int(obj["frame"]),
        time=started + timedelta(seconds=float(obj["t"])),
        user=_user(obj.get("user")),
        window=window,
        lines=tuple(_line(li) for li in obj.get("lines", [])),
        changed=tuple(_box(b) for b in obj.get("changed", [])),
        size=(int(own_size[0]), int(own_size[1])) if own_size else size,
    )


def _split_label(text: str) -> tuple[str, str] | None:
    """'Phone: <phone>' -> ('Phone', '<phone>'); also the full-width colon used in CJK."""
    m = re.match(r"^\s*([^:：]{1,40})\s*[:：]\s*(.*)$", text)
    if m is None:
        return None
    return m.group(1).strip(), m.group(2).strip()


def _is_label_text(text: str) -> bool:
    t = text.strip().rstrip(":：").strip()
    return 0 < len(t) <= _LABEL_MAX and not any(c.isdigit() for c in t) and "<" not in t


def screen_signature(window: Window | None, lines: Iterable[LayerLine]) -> str:
    """Hash of app, URL template and label texts: the same form with other values has the same one.
    With window metadata, the window's app, URL template and title say it (OCR drops a label
    now and then; the window stays the same)."""
    if window is not None and (window.url or window.title):
        parts = [window.app, scrub_url(window.url) if window.url else "", scrub_text(window.title)]
        return hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()[:10]
    labels: set[str] = set()
    for line in lines:
        split = _split_label(line.text)
        if split is not None and _is_label_text(split[0]):
            labels.add(split[0])
        elif _is_label_text(line.text):
            labels.add(line.text.strip())
    app = window.app if window else ""
    url = scrub_url(window.url) if window and window.url else ""
    digest = hashlib.sha1("\x1f".join([app, url, *sorted(labels)]).encode(), usedforsecurity=False)
    return digest.hexdigest()[:10]


@dataclass
class _Typing:
    """A run of changes to one field; emitted once the field stops changing."""

    label: str
    start: TextFrame
    last_frame: int
    value: str
    links: tuple[str, ...] = ()


class _Deriver:
    def __init__(self, source: str) -> None:
        self.source = source
        self.events: list[UIEvent] = []
        self.typing: _Typing | None = None
        self.size = (1, 1)
        self.last_click: tuple[int, str] | None = None
        self.seen: dict[Window, TextFrame] = {}  # each window's last frame in front
        self.labels: dict[Window, dict[Box, str]] = {}  # the labels each window ever showed

    def event(
        self, f: TextFrame, action: Action, target: str, value: str = "", links: tuple[str, ...] = ()
    ) -> UIEvent:
        win = f.window or Window()
        return UIEvent(
            timestamp=f.time,
            user=f.user,
            app=scrub_text(win.app),
            window=scrub_text(win.title),
            screen=screen_signature(f.window, f.lines),
            action=action,
            target=target,
            value=value,
            url=scrub_url(win.url),
            source=self.source,
            extra=(("frame", str(f.frame)),),
            links=default_linker()(*links) if links else (),
        )

    def flush(self) -> None:
        if self.typing is not None:
            t = self.typing
            typed = self.event(t.start, Action.TYPE, scrub_text(t.label), value_type(t.value), t.links)
            self.events.append(typed)
            self.typing = None

    def grow_size(self, f: TextFrame) -> float:
        if f.size is not None:
            self.size = f.size
        for b in (*(li.box for li in f.lines), *f.changed):
            self.size = (max(self.size[0], b.x2), max(self.size[1], b.y2))
        return float(self.size[0] * self.size[1])

    def step(self, prev: TextFrame, f: TextFrame) -> None:
        screen_area = self.grow_size(f)
        self._remember(prev)
        if (prev.window or Window()) != (f.window or Window()):
            self.flush()
            self.events.append(self._window_event(prev, f))
            self._carried(prev, f)
            return
        changed_area = sum(b.area for b in f.changed)
        if changed_area >= _WHOLE_SCREEN * screen_area:
            self.flush()
            self.events.append(self.event(f, Action.SWITCH, _heading(f)))
            return
        shift = _scroll_shift(prev, f)
        if shift:
            self.flush()
            self.events.append(self.event(f, Action.SCROLL, "down" if shift > 0 else "up"))
            return
        self._regions(prev, f)

    def _remember(self, f: TextFrame) -> None:
        win = f.window or Window()
        self.seen[win] = f
        known = self.labels.setdefault(win, {})
        for li in f.lines:
            if _is_label_text(li.text):
                known[li.box] = li.text

    def _with_labels(self, f: TextFrame) -> tuple[LayerLine, ...]:
        """The frame's lines plus the labels its window showed before and the OCR missed now (a
        label beside a masked value is sometimes not read)."""
        known = self.labels.get(f.window or Window(), {})
        missing = [
            LayerLine(box, text)
            for box, text in known.items()
            if not any(li.box.intersection_area(box) for li in f.lines)
        ]
        return (*f.lines, *missing)

    def _carried(self, left: TextFrame, f: TextFrame) -> None:
        """Back in a window: values that appeared in it while it was behind were typed there, or
        pasted when the window just left showed the same value (a copy there, then a paste here:
        the value's per-recording label links the two)."""
        last = self.seen.get(f.window or Window())
        # A window never seen before: only a value the window just left showed is news here.
        before = {link for li in last.lines for link in li.links} if last is not None else set()
        over_there = {link: li for li in left.lines for link in li.links}
        lines = self._with_labels(f)
        for line in f.lines:
            new = tuple(link for link in line.links if link not in before)
            found = _field_at(lines, line.box) if new else None
            if found is None:
                continue
            label, value = scrub_text(found[0]), value_type(found[1])
            source = next((over_there[link] for link in new if link in over_there), None)
            if source is None:
                if last is not None:
                    self.events.append(self.event(f, Action.TYPE, label, value, new))
                continue
            column = _field_at(self._with_labels(left), source.box) or (_heading(left), "")
            copied = self.event(left, Action.COPY, scrub_text(column[0]), value_type(source.text), new)
            self.events.extend((copied, self.event(f, Action.PASTE, label, value, new)))

    def _window_event(self, prev: TextFrame, f: TextFrame) -> UIEvent:
        a, b = prev.window or Window(), f.window or Window()
        target = _window_target(b)
        if a.app == b.app and a.url != b.url and b.url:
            return self.event(f, Action.NAVIGATE, target)
        return self.event(f, Action.SWITCH, target)

    def _regions(self, prev: TextFrame, f: TextFrame) -> None:
        old = {li.text for li in prev.lines}
        now = {li.box for li in f.lines}
        cleared = [li for li in prev.lines if "<" in li.text and li.box not in now]
        if len(cleared) >= _CLEARED_VALUES and not any("<" in li.text for li in f.lines):
            # Every value of the form went at once: it was sent (or reset); a task ends here.
            self.flush()
            self.events.append(self.event(f, Action.OTHER, "form cleared"))
        if any(_COPIED.search(li.text) and li.text not in old for li in f.lines):
            self.events.append(self.event(f, Action.COPY, _heading(f)))
        touched_field = False
        for region in f.changed:
            found = _field_at(f.lines, region)
            if found is not None and _is_value_change(prev, f, region, found[1]):
                touched_field = True
                line = _line_at(f.lines, region)
                self._typing(f, *found, line.links if line is not None else ())
                continue
            button = _line_at(f.lines, region)
            if button is not None and not _COPIED.search(button.text):
                self._click(f, scrub_text(button.text))
        if not touched_field and self.typing is not None and f.frame - self.typing.last_frame > 1:
            self.flush()

    def _typing(self, f: TextFrame, label: str, value: str, links: tuple[str, ...]) -> None:
        t = self.typing
        if t is not None and t.label == label and f.frame - t.last_frame <= 2:
            t.last_frame, t.value, t.links = f.frame, value, links
            return
        self.flush()
        self.typing = _Typing(label, f, f.frame, value, links)

    def _click(self, f: TextFrame, target: str) -> None:
        if self.last_click == (f.frame - 1, target):
            self.last_click = (f.frame, target)
            return
        self.flush()
        self.last_click = (f.frame, target)
        self.events.append(self.event(f, Action.CLICK, target))


def _is_value_change(prev: TextFrame, f: TextFrame, region: Box, value: str) -> bool:
    """Typing shows as a field whose value is a sanitized value, empty, or different from the
    previous frame; a highlighted list row or button keeps its text and is a click."""
    if not value or "<" in value:
        return True
    before = _line_at(prev.lines, region)
    return before is None or before.text != (_line_at(f.lines, region) or before).text


def _window_target(w: Window) -> str:
    return scrub_text(w.title) or scrub_url(w.url) or scrub_text(w.app)


def _heading(f: TextFrame) -> str:
    labels = sorted((li for li in f.lines if _is_label_text(li.text)), key=lambda li: (li.box.y, li.box.x))
    return scrub_text(labels[0].text) if labels else "screen"


def _scroll_shift(prev: TextFrame, f: TextFrame) -> int:
    """The common vertical offset when most lines present in both frames moved by it, else 0."""
    before = Counter(li.text for li in prev.lines)
    unique_before = {li.text: li.box for li in prev.lines if before[li.text] == 1}
    shifts = Counter(
        unique_before[li.text].y - li.box.y
        for li in f.lines
        if li.text in unique_before and unique_before[li.text].x == li.box.x
    )
    common = sum(shifts.values())
    if common < 3:
        return 0
    dy, n = shifts.most_common(1)[0]
    return dy if dy != 0 and n >= 0.6 * common else 0


def _overlap_y(a: Box, b: Box) -> float:
    inter = min(a.y2, b.y2) - max(a.y, b.y)
    return inter / max(min(a.h, b.h), 1)


def _line_at(lines: tuple[LayerLine, ...], region: Box) -> LayerLine | None:
    hits = [li for li in lines if li.box.intersection_area(region) > 0]
    return max(hits, key=lambda li: li.box.intersection_area(region)) if hits else None


def _clean_label(text: str) -> str:
    """A label as read, less the colon and the input box's edge OCR glues to it ("Mail: |")."""
    return re.sub(r"[\s:：|_\-–—.]+$", "", text.strip())


def _column_word(header: LayerLine, value: Box) -> str:
    """The word of a header line over `value`: OCR reads a row of column headers as one line
    ("Contact Phone Mail"); its words are placed by their share of the characters."""
    words = list(re.finditer(r"\S+", header.text))
    if len(words) < 2:
        return _clean_label(header.text)
    scale = header.box.w / max(len(header.text), 1)
    centre = value.x + value.w / 2

    def distance(m: re.Match[str]) -> float:
        return abs(header.box.x + scale * (m.start() + m.end()) / 2 - centre)

    return _clean_label(min(words, key=distance).group())


def _field_at(lines: tuple[LayerLine, ...], region: Box) -> tuple[str, str] | None:
    """(label, value) of the field whose value the changed region covers, if it has a label."""
    line = _line_at(lines, region)
    if line is None:
        return None
    split = _split_label(line.text)
    if split is not None and _is_label_text(split[0]):
        return _clean_label(split[0]), split[1]
    # An input box: its label is the nearest text on the same row to the left, or just above.
    left = [
        li
        for li in lines
        if li is not line and li.box.x2 <= line.box.x + 8 and _overlap_y(li.box, line.box) >= 0.5
    ]
    above = [
        li
        for li in lines
        if li is not line
        and 0 <= line.box.y - li.box.y2 <= 1.5 * max(line.box.h, 1)
        and abs(li.box.x - line.box.x) <= 16
    ]
    for group, key in ((left, lambda li: line.box.x - li.box.x2), (above, lambda li: line.box.y - li.box.y2)):
        labelled = sorted((li for li in group if _is_label_text(li.text)), key=key)
        if labelled:
            return _clean_label(labelled[0].text), line.text
    if "<" in line.text:
        # A value in a table: the header of its column, the nearest label above that spans it.
        header = [
            li
            for li in lines
            if li.box.y2 <= line.box.y
            and min(li.box.x2, line.box.x2) - max(li.box.x, line.box.x) > 0
            and _is_label_text(li.text)
        ]
        if header:
            top = max(header, key=lambda li: li.box.y)
            return _column_word(top, line.box), line.text
    return None


def derive_events(frames: Iterable[TextFrame], source: str = "") -> list[UIEvent]:
    """The UI event log of one text layer (see the module docstring for the rules)."""
    deriver = _Deriver(source)
    prev: TextFrame | None = None
    for f in frames:
        if prev is None:
            deriver.grow_size(f)
            if f.window is not None:
                deriver.events.append(deriver.event(f, Action.SWITCH, _window_target(f.window)))
        elif prev.user != f.user:
            deriver.flush()
        else:
            deriver.step(prev, f)
        prev = f
    deriver.flush()
    deriver.events.sort(key=lambda e: e.timestamp)
    return deriver.events
