"""Import UI logs in the Action Logger CSV schema used by robotic-process-mining tools.

Columns (case-sensitive, as the tools write them): `timeStamp` and `eventType` are required;
`userID, targetApp, url, content, target.id, target.name, target.value, target.innerText,
target.title, target.tagName, target.type, target.href, target.sheetName, target.workbookName`
are optional. Unknown extra columns are kept (scrubbed) on each event's `extra`.

Values are never imported: `content`, `target.value` and `target.innerText` become their type
(`<email>`); user ids become `user-N` in order of first appearance, unless already pseudonymous.
"""

from __future__ import annotations

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


def read_action_logger(
    path: Path, users: Callable[[str], str] | None = None, linker: Linker | None = None
) -> list[UIEvent]:
    """Events of one Action Logger CSV, sorted by time. Raises InputError on an unreadable file,
    a missing required column, an unparsable timestamp or an empty log."""
    return events_from_frame(_read_frame(path), path.name, users, linker)


def events_from_frame(
    frame: pd.DataFrame,
    name: str,
    users: Callable[[str], str] | None = None,
    linker: Linker | None = None,
) -> list[UIEvent]:
    """Events of a table in the Action Logger schema (all cells as strings), sorted by time."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: not an Action Logger log, missing column(s): {', '.join(missing)}")
    if frame.empty:
        raise InputError(f"{name}: the UI log has no events")
    stamps = _timestamps(frame["timeStamp"], name)
    pseudo = users or UserIds()
    extras = [str(c) for c in frame.columns if c not in KNOWN]
    link = linker or default_linker()
    events = [
        _event({str(k): str(v) for k, v in row.items()}, stamp, pseudo, extras, name, link)
        for row, stamp in zip(frame.to_dict("records"), stamps, strict=True)
    ]
    events.sort(key=lambda e: e.timestamp)
    return events


def _read_frame(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"UI log not found: {path}") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path.name}: unreadable CSV ({type(exc).__name__})") from exc


def _timestamps(column: pd.Series, name: str) -> list[datetime]:
    parsed = pd.to_datetime(column, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna()
    if bool(bad.any()):
        row = int(bad.to_numpy().nonzero()[0][0]) + 2  # 1-based, after the header line
        raise InputError(f"{name}: unparsable timeStamp on line {row}")
    return [ts.to_pydatetime().astimezone(UTC) for ts in parsed]


def _event(
    row: dict[str, str],
    stamp: datetime,
    users: Callable[[str], str],
    extras: list[str],
    source: str,
    linker: Linker,
) -> UIEvent:
    def get(key: str) -> str:
        return str(row.get(key, "") or "")

    action = action_of(get("eventType"))
    url = scrub_url(get("url") or get("target.href"))
    app = scrub_text(get("targetApp")) or (url.split("/")[2] if url.count("/") >= 2 else "")
    book, sheet = scrub_text(get("target.workbookName")), scrub_text(get("target.sheetName"))
    cell = _CELL.match(get("target.id").strip())
    record = ""
    if cell and (book or sheet or not url):
        # A cell's column is the step; its row is the record, not part of the step.
        column = f"{cell.group(1)}:{cell.group(3)}" if cell.group(3) else cell.group(1)
        target = f"{sheet}!{column}" if sheet else column
        record = f"{book or app} row {int(cell.group(2))}"
    else:
        label = (
            get("target.name") or get("target.title") or get("target.id") or _label(get("target.innerText"))
        )
        target = scrub_text(label or sheet)
    if action is Action.NAVIGATE and not target:
        target = url
    valued = action in _VALUE_ACTIONS
    raw_value = get("target.value") or get("content") or get("target.innerText")
    window = book or sheet or app
    screen = url or f"{app}/{window}"
    return UIEvent(
        timestamp=stamp,
        user=users(get("userID")),
        app=app,
        window=window,
        screen=screen,
        action=action,
        target=target,
        value=value_type(raw_value) if valued else "",
        url=url,
        source=source,
        extra=tuple((k, scrub_text(get(k))) for k in extras),
        record=record,
        links=linker(get("content"), get("target.value")) if valued else (),
    )


def _label(text: str) -> str:
    """A button's or field's visible text, when short enough to be a label (else it is content)."""
    t = " ".join(text.split())
    return t if 0 < len(t) <= _LABEL_CHARS else ""


_LABEL_CHARS = 40
_VALUE_ACTIONS = frozenset({Action.TYPE, Action.COPY, Action.PASTE, Action.SELECT})
