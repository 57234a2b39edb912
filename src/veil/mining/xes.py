"""XES import and export through pm4py, the only module that imports it.

pm4py is AGPL-3.0, so it is an optional extra (`pip install 'veil[mining]'`); segmentation,
routines and the report do not need it. Asking for XES without it is an InputError naming the extra.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd

from veil.exceptions import InputError, OutputError
from veil.mining.actionlogger import events_from_frame
from veil.mining.base import UIEvent

EXTRA_HINT = "XES needs the optional extra 'mining': pip install 'veil[mining]' (pm4py, AGPL-3.0)"

# XES standard attributes -> the Action Logger columns the importer understands.
_FROM_XES = {
    "time:timestamp": "timeStamp",
    "org:resource": "userID",
    "concept:name": "eventType",
    "case:concept:name": "case",
}


def pm4py_available() -> bool:
    try:
        _pm4py()
    except InputError:
        return False
    return True


def _pm4py() -> ModuleType:
    try:
        import pm4py
    except ImportError as exc:
        raise InputError(EXTRA_HINT) from exc
    module: ModuleType = pm4py
    return module


def read_xes(path: Path, users: Callable[[str], str] | None = None) -> list[UIEvent]:
    """Events of an XES log. An event's `concept:name` is its eventType unless the log also has
    an `eventType` attribute (as logs exported by Veil do)."""
    pm4py = _pm4py()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pm4py.read_xes(str(path), return_legacy_log_object=False, show_progress_bar=False)
    except FileNotFoundError as exc:
        raise InputError(f"XES log not found: {path}") from exc
    except Exception as exc:
        raise InputError(f"{path.name}: unreadable XES ({type(exc).__name__})") from exc
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InputError(f"{path.name}: the XES log has no events")
    renamed = {k: v for k, v in _FROM_XES.items() if k in frame.columns and v not in frame.columns}
    frame = frame.rename(columns=renamed)
    if "timeStamp" in frame.columns:
        frame["timeStamp"] = pd.to_datetime(frame["timeStamp"], utc=True).map(lambda t: t.isoformat())
    frame = frame.drop(
        columns=[c for c in ("case", "concept:name", "case:concept:name") if c in frame.columns]
    )
    return events_from_frame(frame.astype(str).replace({"nan": "", "NaT": "", "None": ""}), path.name, users)


def write_xes(table: pd.DataFrame, path: Path) -> Path:
    """Write the exported event log (see `export.event_table`) as XES: one trace per case."""
    pm4py = _pm4py()
    frame = table[table["case"] != ""].copy()
    frame["case:concept:name"] = frame["case"]
    frame["concept:name"] = frame["activity"]
    frame["time:timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["org:resource"] = frame["user"]
    frame = frame.rename(
        columns={"action": "eventType", "app": "targetApp", "target": "target.name", "value": "target.value"}
    )
    frame = pm4py.format_dataframe(
        frame, case_id="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp"
    )
    frame = frame[[c for c in frame.columns if not str(c).startswith("@@")]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pm4py suggests optional accelerators on every call
            pm4py.write_xes(frame, str(path), case_id_key="case:concept:name", show_progress_bar=False)
    except OSError as exc:
        raise OutputError(f"could not write {path}: {type(exc).__name__}") from exc
    return path
