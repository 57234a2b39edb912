"""Import UI logs in the Action Logger CSV schema used by robotic-process-mining tools.

Columns (case-sensitive, as the tools write them): `timeStamp` and `eventType` are required;
`userID, targetApp, url, content, target.id, target.name, target.value, target.innerText,
target.title, target.tagName, target.type, target.href, target.sheetName, target.workbookName`
are optional. Unknown extra columns are kept (scrubbed) on each event's `extra`.

Values are never imported: `content`, `target.value` and `target.innerText` become their type
(`<email>`); user ids become `user-N` in order of first appearance, unless already pseudonymous.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from veil.exceptions import InputError
from veil.mining.base import Action, UIEvent
from veil.mining.links import Linker, default_linker
from veil.mining.scrub import scrub_text, scrub_url, value_type

REQUIRED = ("timeStamp", "eventType")
KNOWN = (
    "timeStamp",
    "userID",
    "targetApp",
    "eventType",
    "url",
    "content",
    "target.id",
    "target.name",
    "target.value",
    "target.innerText",
    "target.title",
    "target.tagName",
    "target.type",
    "target.href",
    "target.sheetName",
    "target.workbookName",
)
_PSEUDONYM = re.compile(r"^(?:u|user)-[0-9a-z]{1,16}$")
# A spreadsheet cell or range as recorders write it: "B7", "$B$7", "B7.0", "C2:F2".
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})(?:\.0)?(?::\$?([A-Z]{1,3})\$?\d{1,7}(?:\.0)?)?$")
# Order matters: the first keyword found in the lower-cased eventType wins.
_ACTION_KEYWORDS: tuple[tuple[str, Action], ...] = (
    ("paste", Action.PASTE),
    ("ctrl+v", Action.PASTE),
    ("copy", Action.COPY),
    ("ctrl+c", Action.COPY),
    ("cut", Action.COPY),
    ("scroll", Action.SCROLL),
    ("tab", Action.SWITCH),
    ("window", Action.SWITCH),
    ("switch", Action.SWITCH),
    ("link", Action.NAVIGATE),
    ("navigate", Action.NAVIGATE),
    ("url", Action.NAVIGATE),
    ("reload", Action.NAVIGATE),
    ("edit", Action.TYPE),
    ("insert", Action.TYPE),
    ("change", Action.TYPE),
    ("type", Action.TYPE),
    ("input", Action.TYPE),
    ("select", Action.SELECT),
    ("option", Action.SELECT),
    ("check", Action.SELECT),
    ("radio", Action.SELECT),
    ("getcell", Action.SELECT),
    ("getrange", Action.SELECT),
    ("click", Action.CLICK),
)


def action_of(event_type: str) -> Action:
    low = event_type.strip().lower()
    for word, action in _ACTION_KEYWORDS:
        if word in low:
            return action
    return Action.OTHER


class UserIds:
    """Replaces recorder user ids (often login names) with `user-N`; the mapping is not kept."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def __call__(self, raw: str) -> str:
        raw = raw.strip() or "unknown"
        if _PSEUDONYM.match(raw):
            return raw
        if raw not in self._seen:
            self._seen[raw] = f"user-{len(self._seen) + 1}"
        return self._seen[raw]


CHUNK_ROWS = 100_000  # rows parsed at a time: the table in memory stays this small


def read_action_logger(
    path: Path, users: Callable[[str], str] | None = None, linker: Linker | None = None
) -> list[UIEvent]:
    """Events of one Action Logger CSV, sorted by time, read `CHUNK_ROWS` rows at a time. Raises
    InputError on an unreadable file, a missing required column, an unparsable timestamp or an
    empty log."""
    pseudo = users or UserIds()
    link = linker or default_linker()
    events: list[UIEvent] = []
    try:
        with pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8", chunksize=CHUNK_ROWS
        ) as chunks:
            for number, chunk in enumerate(chunks):
                events.extend(
                    events_from_frame(
                        chunk, path.name, pseudo, link, first_row=number * CHUNK_ROWS, sort=False
                    )
                )
    except FileNotFoundError as exc:
        raise InputError(f"UI log not found: {path}") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path.name}: unreadable CSV ({type(exc).__name__})") from exc
    if not events:
        raise InputError(f"{path.name}: the UI log has no events")
    events.sort(key=lambda e: e.timestamp)
    return events


def events_from_frame(
    frame: pd.DataFrame,
    name: str,
    users: Callable[[str], str] | None = None,
    linker: Linker | None = None,
    *,
    first_row: int = 0,
    sort: bool = True,
) -> list[UIEvent]:
    """Events of a table in the Action Logger schema (all cells as strings), sorted by time
    unless `sort` is false; `first_row` numbers the table's rows in error messages."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: not an Action Logger log, missing column(s): {', '.join(missing)}")
    if frame.empty:
        raise InputError(f"{name}: the UI log has no events")
    stamps = _timestamps(frame["timeStamp"], name, first_row)
    # Missing cells (NaN, None) are empty; everything else is read as the text it holds.
    columns = {str(c): [_cell(v) for v in frame[c].tolist()] for c in frame.columns}
    extras = _extras(columns, len(frame))
    builder = _Builder(users or UserIds(), linker or default_linker(), name)
    blank = [""] * len(frame)
    rows = zip(*(columns.get(c, blank) for c in KNOWN), strict=True)
    events = [
        builder.event(dict(zip(KNOWN, row, strict=True)), stamp, extra)
        for row, stamp, extra in zip(rows, stamps, extras, strict=True)
    ]
    if sort:
        events.sort(key=lambda e: e.timestamp)
    return events


def _cell(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _extras(columns: dict[str, list[str]], n: int) -> list[tuple[tuple[str, str], ...]]:
    """Per row, its non-empty unknown columns, scrubbed (each distinct cell once)."""
    cells: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    scrubbed: dict[str, str] = {}
    for column, values in columns.items():
        if column in KNOWN:
            continue
        for k, v in enumerate(values):
            if v:
                if v not in scrubbed:
                    scrubbed[v] = scrub_text(v)
                cells[k].append((column, scrubbed[v]))
    return [tuple(c) for c in cells]


class _Builder:
    """Turns rows into events; every distinct label, URL and event type is scrubbed once."""

    def __init__(self, users: Callable[[str], str], linker: Linker, source: str) -> None:
        self.users, self.linker, self.source = users, linker, source
        self._text: dict[str, str] = {}
        self._url: dict[str, str] = {}
        self._action: dict[str, Action] = {}
        self._type: dict[str, str] = {}
        # Pseudonyms of the values seen in this file; dropped with the builder after the import.
        self._links: dict[tuple[str, str], tuple[str, ...]] = {}

    def text(self, v: str) -> str:
        if v not in self._text:
            self._text[v] = scrub_text(v)
        return self._text[v]

    def url(self, v: str) -> str:
        if v not in self._url:
            self._url[v] = scrub_url(v)
        return self._url[v]

    def links(self, content: str, value: str) -> tuple[str, ...]:
        key = (content, value)
        if key not in self._links:
            self._links[key] = self.linker(content, value)
        return self._links[key]

    def event(self, row: dict[str, str], stamp: datetime, extra: tuple[tuple[str, str], ...]) -> UIEvent:
        kind = row["eventType"]
        if kind not in self._action:
            self._action[kind] = action_of(kind)
        action = self._action[kind]
        url = self.url(row["url"] or row["target.href"])
        app = self.text(row["targetApp"]) or (url.split("/")[2] if url.count("/") >= 2 else "")
        book, sheet = self.text(row["target.workbookName"]), self.text(row["target.sheetName"])
        cell = _CELL.match(row["target.id"].strip())
        record = ""
        if cell and (book or sheet or not url):
            # A cell's column is the step; its row is the record, not part of the step.
            column = f"{cell.group(1)}:{cell.group(3)}" if cell.group(3) else cell.group(1)
            target = f"{sheet}!{column}" if sheet else column
            record = f"{book or app} row {int(cell.group(2))}"
        else:
            label = (
                row["target.name"]
                or row["target.title"]
                or row["target.id"]
                or _label(row["target.innerText"])
            )
            target = self.text(label or sheet)
        if action is Action.NAVIGATE and not target:
            target = url
        valued = action in _VALUE_ACTIONS
        value = ""
        if valued:
            raw = row["target.value"] or row["content"] or row["target.innerText"]
            if raw not in self._type:
                self._type[raw] = value_type(raw)
            value = self._type[raw]
        window = book or sheet or app
        return UIEvent(
            timestamp=stamp,
            user=self.users(row["userID"]),
            app=app,
            window=window,
            screen=url or f"{app}/{window}",
            action=action,
            target=target,
            value=value,
            url=url,
            source=self.source,
            extra=extra,
            record=record,
            links=self.links(row["content"], row["target.value"]) if valued else (),
        )


def _timestamps(column: pd.Series, name: str, first_row: int = 0) -> list[datetime]:
    parsed = pd.to_datetime(column, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna()
    if bool(bad.any()):
        row = first_row + int(bad.to_numpy().nonzero()[0][0]) + 2  # 1-based, after the header line
        raise InputError(f"{name}: unparsable timeStamp on line {row}")
    return [ts.to_pydatetime().astimezone(UTC) for ts in parsed]


def _label(text: str) -> str:
    """A button's or field's visible text, when short enough to be a label (else it is content)."""
    t = " ".join(text.split())
    return t if 0 < len(t) <= _LABEL_CHARS else ""


_LABEL_CHARS = 40
_VALUE_ACTIONS = frozenset({Action.TYPE, Action.COPY, Action.PASTE, Action.SELECT})
