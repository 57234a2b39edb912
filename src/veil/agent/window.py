"""The window in front, read before a frame is kept (the deny-list gate needs it).

On X11 (python-xlib): the EWMH root property `_NET_ACTIVE_WINDOW` set by the window manager; without
one (a bare X server, Xvfb) the X input focus, climbed up to the top-level window that carries
`WM_CLASS`. The title is `_NET_WM_NAME` (UTF-8), else `WM_NAME`; the app is the `WM_CLASS` class.
Browsers do not expose their URL to X; when a browser's title carries one (an extension such as
"URL in title" appends ` - https://…`) it is taken from there.

On other systems (or to give the URL of every browser) a helper writes a **sidecar file**, one JSON
object naming the window in front now, rewritten atomically whenever it changes:

    {"app": "chrome", "title": "Customer card", "url": "https://crm.example/c/1", "t": 1765051200.5}

`t` (seconds since the epoch, optional) is when the helper last confirmed it; older than
`STALE_SECONDS`, the file is not trusted. A sidecar that is missing, unreadable or stale raises
`WindowUnknown`, and the frame is not kept (fail closed).

Window titles and URLs hold personal values: they live in memory only, and reach the text layer
through `veil.capture.metadata` (scrubbed). Never logged.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Protocol

from veil.capture.windows import WindowEvent

STALE_SECONDS = 10.0
BROWSERS = re.compile(r"chrom|firefox|brave|edge|opera|vivaldi|safari|epiphany", re.IGNORECASE)
_URL_IN_TITLE = re.compile(r"\b(?:https?|file)://\S+")


class WindowUnknown(Exception):
    """The window in front could not be read; the frame is not kept."""


class WindowReader(Protocol):
    def current(self) -> WindowEvent | None:
        """The window in front (t = 0), None when no window has the focus (the bare desktop).
        Raises WindowUnknown when that cannot be told."""
        ...


def url_from_title(app: str, title: str) -> str:
    if not BROWSERS.search(app):
        return ""
    found = _URL_IN_TITLE.search(title)
    return found.group(0) if found else ""


class X11Windows:
    """The active window of an X display (`DISPLAY`), by EWMH or by the input focus."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display

        try:
            self._d = display.Display(display_name)
        except Exception as exc:
            raise WindowUnknown(f"cannot open the X display ({type(exc).__name__})") from exc
        self._root = self._d.screen().root
        atom = self._d.intern_atom
        self._active = atom("_NET_ACTIVE_WINDOW")
        self._net_name = atom("_NET_WM_NAME")
        self._utf8 = atom("UTF8_STRING")

    def close(self) -> None:
        self._d.close()

    def current(self) -> WindowEvent | None:
        from Xlib import X
        from Xlib.error import XError

        try:
            window = self._ewmh_active()
            if window is None:
                focus = self._d.get_input_focus().focus
                if isinstance(focus, int) or focus.id in (X.NONE, X.PointerRoot, self._root.id):
                    return None
                window = self._top_level(focus)
            if window is None:
                return None
            return self._describe(window)
        except (XError, OSError, ValueError) as exc:
            raise WindowUnknown(f"X window properties unreadable ({type(exc).__name__})") from exc

    def _ewmh_active(self) -> Any:
        from Xlib import X

        prop = self._root.get_full_property(self._active, X.AnyPropertyType)
        if prop is None or not len(prop.value) or not prop.value[0]:
            return None
        return self._d.create_resource_object("window", int(prop.value[0]))

    def _top_level(self, window: Any) -> Any:
        """The focused window, or the nearest ancestor (then descendant) carrying WM_CLASS."""
        current = window
        while current is not None and current.id != self._root.id:
            if current.get_wm_class():
                return current
            current = current.query_tree().parent
        stack = list(window.query_tree().children)
        while stack:
            child = stack.pop(0)
            if child.get_wm_class():
                return child
            stack.extend(child.query_tree().children)
        return window

    def _describe(self, window: Any) -> WindowEvent:
        name = window.get_full_property(self._net_name, self._utf8)
        raw = name.value if name is not None else (window.get_wm_name() or "")
        title = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        classes = window.get_wm_class() or ("", "")
        app = classes[1] or classes[0]
        return WindowEvent(0.0, app=app, title=title, url=url_from_title(app, title))


class SidecarWindows:
    """The window in front as a helper writes it to a JSON file (see the module docstring)."""

    def __init__(self, path: Path, stale_seconds: float = STALE_SECONDS) -> None:
        self.path = path
        self.stale_seconds = stale_seconds

    def current(self) -> WindowEvent | None:
        try:
            obj = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WindowUnknown(f"window sidecar unreadable ({type(exc).__name__})") from exc
        if not isinstance(obj, dict):
            raise WindowUnknown("window sidecar is not a JSON object")
        stamp = obj.get("t")
        if isinstance(stamp, int | float) and time.time() - float(stamp) > self.stale_seconds:
            raise WindowUnknown("window sidecar is stale")
        app, title, url = (obj.get(k) or "" for k in ("app", "title", "url"))
        if not (isinstance(app, str) and isinstance(title, str) and isinstance(url, str)):
            raise WindowUnknown("window sidecar: app, title and url must be strings")
        if not (app or title or url):
            return None
        return WindowEvent(0.0, app=app, title=title, url=url)


class NoWindows:
    """No window metadata at all (the on-screen title/URL check of the pipeline still applies)."""

    def current(self) -> WindowEvent | None:
        return None
