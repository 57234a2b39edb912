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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from veil.exceptions import InputError
from veil.mining import collector
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

_TIME = attrgetter("timestamp")  # an event's sort key (faster than a lambda)


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
    events: list[UIEvent] = []
    with collector.paused():
        for rows in read_action_logger_rows(path, users, linker):
            events.extend(rows.events())
    events.sort(key=_TIME)
    return events


@dataclass(frozen=True, slots=True)
class Rows:
    """A table's events as columns, in the table's row order: each row's time, pseudonymous user,
    fields (shared by rows with the same known cells) and scrubbed extra cells."""

    source: str
    stamps: list[datetime]
    users: list[str]
    fields: list[Fields]
    extras: list[tuple[tuple[str, str], ...]]

    def __len__(self) -> int:
        return len(self.stamps)

    def events(self) -> list[UIEvent]:
        name = self.source
        out = []
        for stamp, user, fields, extra in zip(self.stamps, self.users, self.fields, self.extras, strict=True):
            app, window, screen, action, target, value, url, record, links = fields
            out.append(
                UIEvent(
                    stamp, user, app, window, screen, action, target, value, url, name, extra, record, links
                )
            )
        return out


def read_action_logger_rows(
    path: Path, users: Callable[[str], str] | None = None, linker: Linker | None = None
) -> Iterator[Rows]:
    """`read_action_logger`'s events as `Rows`, `CHUNK_ROWS` rows at a time in file order (not
    sorted), with the same errors."""
    pseudo = users or UserIds()
    link = linker or default_linker()
    any_rows = False
    try:
        # Cells as Python strings (object columns: no string array to build and check).
        with pd.read_csv(
            path, dtype=object, keep_default_na=False, encoding="utf-8", chunksize=CHUNK_ROWS
        ) as chunks:
            for number, chunk in enumerate(chunks):
                rows = frame_rows(chunk, path.name, pseudo, link, first_row=number * CHUNK_ROWS)
                any_rows = any_rows or bool(len(rows))
                yield rows
    except FileNotFoundError as exc:
        raise InputError(f"UI log not found: {path}") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path.name}: unreadable CSV ({type(exc).__name__})") from exc
    if not any_rows:
        raise InputError(f"{path.name}: the UI log has no events")


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
    with collector.paused():
        events = frame_rows(frame, name, users, linker, first_row=first_row).events()
    if sort:
        events.sort(key=_TIME)
    return events


def frame_rows(
    frame: pd.DataFrame,
    name: str,
    users: Callable[[str], str] | None = None,
    linker: Linker | None = None,
    *,
    first_row: int = 0,
) -> Rows:
    """`events_from_frame` as columns, in row order."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: not an Action Logger log, missing column(s): {', '.join(missing)}")
    if frame.empty:
        raise InputError(f"{name}: the UI log has no events")
    stamps = _timestamps(frame["timeStamp"], name, first_row)
    columns = {str(c): frame[c] for c in frame.columns}
    extras = _extras(columns, len(frame))
    builder = _Builder(linker or default_linker())
    blank = [""] * len(frame)
    # Missing cells (NaN, None) are empty; everything else is read as the text it holds.
    texts = {c: _texts(columns[c]) if c in columns else blank for c in (*_FIELDS, "userID")}
    # A row's event but for its time, user and extra columns depends on its known cells alone:
    # each distinct combination is built once (UI logs repeat the same click on the same button
    # all day). Like the builder's caches, this one is dropped when the table is done.
    built: dict[tuple[str, ...], Fields] = {}
    pseudo = users or UserIds()
    user_of: dict[str, str] = {}
    fields_of: list[Fields] = []
    users_of: list[str] = []
    with collector.paused():
        for key, raw_user in zip(
            zip(*(texts[c] for c in _FIELDS), strict=True), texts["userID"], strict=True
        ):
            fields = built.get(key)
            if fields is None:
                fields = built[key] = builder.fields(*key)
            user = user_of.get(raw_user)
            if user is None:
                user = user_of[raw_user] = pseudo(raw_user)
            fields_of.append(fields)
            users_of.append(user)
    return Rows(name, stamps, users_of, fields_of, extras)


def _cell(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _texts(column: pd.Series) -> list[str]:
    """A column's cells as text: a missing cell (NaN, None) is empty, any other the text it holds.
    A column of strings alone (as `read_action_logger` reads them) is taken as it is."""
    values: list[str] = column.tolist()
    if pd.api.types.infer_dtype(_objects(column), skipna=False) == "string":
        return values
    return [_cell(v) for v in values]


def _objects(column: pd.Series) -> npt.NDArray[np.object_]:
    """The column's cells as the objects `tolist` gives (strings are not copied)."""
    if isinstance(column.dtype, pd.StringDtype) or column.dtype == object:
        return column.to_numpy(dtype=object)
    held = np.empty(len(column), dtype=object)
    held[:] = column.tolist()
    return held


def _extras(columns: dict[str, pd.Series], n: int) -> list[tuple[tuple[str, str], ...]]:
    """Per row, its non-empty unknown columns, scrubbed (each distinct cell once); rows with the
    same cells share one tuple."""
    cells: dict[int, list[tuple[str, str]]] = {}
    scrubbed: dict[str, str] = {}
    for column, series in columns.items():
        if column in KNOWN:
            continue
        held = _objects(series)
        try:
            rows = np.flatnonzero(held != "")  # empty strings are most cells
        except (TypeError, ValueError):  # a cell that does not compare (pd.NA): look at each
            rows = np.arange(n)
        pairs: dict[str, tuple[str, str]] = {}  # this column's (name, scrubbed cell), made once
        for k, v in zip(rows.tolist(), held[rows].tolist(), strict=True):
            text = v if type(v) is str else _cell(v)
            if not text:
                continue
            pair = pairs.get(text)
            if pair is None:
                if text not in scrubbed:
                    scrubbed[text] = scrub_text(text)
                pair = pairs[text] = (column, scrubbed[text])
            cells.setdefault(k, []).append(pair)
    out: list[tuple[tuple[str, str], ...]] = [()] * n
    shared: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
    for k, c in cells.items():
        row = tuple(c)
        out[k] = shared.setdefault(row, row)
    return out


# The known columns an event is built from, in the order `_Builder.fields` takes them.
_FIELDS = (
    "eventType",
    "url",
    "target.href",
    "targetApp",
    "target.workbookName",
    "target.sheetName",
    "target.id",
    "target.name",
    "target.title",
    "target.innerText",
    "target.value",
    "content",
)
# app, window, screen, action, target, value, url, record, links
Fields = tuple[str, str, str, Action, str, str, str, str, tuple[str, ...]]


class _Builder:
    """Turns rows into events; every distinct label, URL and event type is scrubbed once."""

    def __init__(self, linker: Linker) -> None:
        self.linker = linker
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

    def fields(
        self,
        kind: str,
        page: str,
        href: str,
        target_app: str,
        workbook: str,
        sheet_name: str,
        target_id: str,
        target_name: str,
        title: str,
        inner_text: str,
        target_value: str,
        content: str,
    ) -> Fields:
        """An event's fields but its time, user and extra columns, from its row's known cells."""
        if kind not in self._action:
            self._action[kind] = action_of(kind)
        action = self._action[kind]
        url = self.url(page or href)
        app = self.text(target_app) or (url.split("/")[2] if url.count("/") >= 2 else "")
        book, sheet = self.text(workbook), self.text(sheet_name)
        cell = _CELL.match(target_id.strip())
        record = ""
        if cell and (book or sheet or not url):
            # A cell's column is the step; its row is the record, not part of the step.
            column = f"{cell.group(1)}:{cell.group(3)}" if cell.group(3) else cell.group(1)
            target = f"{sheet}!{column}" if sheet else column
            record = f"{book or app} row {int(cell.group(2))}"
        else:
            label = target_name or title or target_id or _label(inner_text)
            target = self.text(label or sheet)
        if action is Action.NAVIGATE and not target:
            target = url
        valued = action in _VALUE_ACTIONS
        value = ""
        if valued:
            raw = target_value or content or inner_text
            if raw not in self._type:
                self._type[raw] = value_type(raw)
            value = self._type[raw]
        window = book or sheet or app
        links = self.links(content, target_value) if valued else ()
        return (app, window, url or f"{app}/{window}", action, target, value, url, record, links)


def _timestamps(column: pd.Series, name: str, first_row: int = 0) -> list[datetime]:
    """UTC times of a column of timestamps. ISO 8601 (what recorders write) is read in one go;
    a cell it does not read is read as pandas reads a column of mixed formats (which reads ISO
    8601 cells the same way)."""
    try:
        parsed = pd.to_datetime(column, errors="coerce", utc=True, format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.Series(pd.NaT, index=column.index, dtype="datetime64[us, UTC]")
    out: list[datetime] = parsed.dt.to_pydatetime().tolist()
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        again = pd.to_datetime(column.iloc[bad], errors="coerce", utc=True, format="mixed")
        if bool(again.isna().any()):
            first = int(bad[int(np.flatnonzero(again.isna().to_numpy())[0])])
            row = first_row + first + 2  # 1-based, after the header line
            raise InputError(f"{name}: unparsable timeStamp on line {row}")
        for k, stamp in zip(bad.tolist(), again.dt.to_pydatetime().tolist(), strict=True):
            out[k] = stamp
    return [t if t.tzinfo is UTC else t.astimezone(UTC) for t in out]


def _label(text: str) -> str:
    """A button's or field's visible text, when short enough to be a label (else it is content)."""
    t = " ".join(text.split())
    return t if 0 < len(t) <= _LABEL_CHARS else ""


_LABEL_CHARS = 40
_VALUE_ACTIONS = frozenset({Action.TYPE, Action.COPY, Action.PASTE, Action.SELECT})
