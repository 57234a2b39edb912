"""Window metadata cleaned like frame text, before it reaches a text layer, an event, a payload or a
report. Titles, app names and URLs carry people ("DM with Minsu Kim", "Inbox - kim@…",
`/customers/jane-smith-1984-03-02?name=Kim+Minsu`), and a sidecar's `user` is often a login.

- A title or an app name goes through the detectors of frame text (`veil.detect.analyzer`); each
  finding becomes its `<type>`, as in the text layer.
- A URL keeps its scheme, host and route shape. Each path segment and each query key and value is
  decoded and read by the same detectors, as written and as words ("jane-smith" read as "Jane
  Smith"), with the segment before it or the query key as its label ("dob" announces a date of
  birth); a segment or value with any finding becomes `<type>` whole. Credentials in the URL
  (`user:pass@`) are dropped.
- A user id becomes a keyed pseudonym `user-<12 hex>`: HMAC-SHA256 of the normalised id under a
  key derived from the host key, so one person is one pseudonym across a host's recordings and
  nobody without the key can tell who it is or test a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from urllib.parse import unquote, unquote_plus, urlsplit

from veil.capture.windows import WindowEvent
from veil.detect.analyzer import SupportsAnalyze, replace_findings

PSEUDONYM = re.compile(r"^user-[0-9a-f]{12}$")
_WORD_SEPARATORS = re.compile(r"[-_.+~,;]+")
_CACHE = 1024  # distinct windows remembered per scrubber (a window repeats for many frames)


def scrub_text(text: str, analyzer: SupportsAnalyze) -> str:
    """A title or app name with every finding replaced by its `<type>`."""
    return replace_findings(" ".join(text.split()), analyzer)


def _words(text: str) -> str:
    """ "jane-smith_1984" -> "Jane Smith 1984": slugs read as the words they were made of."""
    words = _WORD_SEPARATORS.sub(" ", text).split()
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in words)


def finding_type(text: str, context: str, analyzer: SupportsAnalyze) -> str | None:
    """The type of the first thing the detectors find in a URL piece, as written or as words,
    with `context` (the segment before it, the query key) as its label; None when nothing."""
    if not text.strip():
        return None
    label = _words(context).lower()
    for variant in dict.fromkeys((text, _WORD_SEPARATORS.sub(" ", text).strip(), _words(text))):
        spans = analyzer.analyze(variant, label) or analyzer.analyze(variant)
        if spans:
            return max(spans, key=lambda s: (s.score, s.end - s.start)).type
    return None


def _scrub_query(query: str, analyzer: SupportsAnalyze) -> str:
    out = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        plain_key = unquote_plus(key)
        key_type = finding_type(plain_key, "", analyzer)
        value_type = finding_type(unquote_plus(value), plain_key, analyzer) if sep else None
        key_out = f"<{key_type}>" if key_type else key
        value_out = f"<{value_type}>" if value_type else value
        out.append(f"{key_out}{sep}{value_out}")
    return "&".join(out)


def _scrub_path(path: str, analyzer: SupportsAnalyze) -> str:
    out, previous = [], ""
    for segment in path.split("/"):
        plain = unquote(segment)
        found = finding_type(plain, previous, analyzer)
        out.append(f"<{found}>" if found else segment)
        previous = plain
    return "/".join(out)


def _scrub_route(route: str, analyzer: SupportsAnalyze) -> str:
    path, sep, query = route.partition("?")
    return _scrub_path(path, analyzer) + (sep + _scrub_query(query, analyzer) if sep else "")


def scrub_url(url: str, analyzer: SupportsAnalyze) -> str:
    """The URL with its host and route shape, every path segment, query key and value and the
    fragment's pieces cleaned (see the module docstring); `<url>` if it cannot be parsed."""
    u = url.strip()
    if not u:
        return ""
    try:
        parts = urlsplit(u if "://" in u or u.startswith("//") else f"//{u}")
        port = parts.port
    except ValueError:
        return "<url>"
    host = (parts.hostname or "") + (f":{port}" if port else "")
    if host and finding_type(host, "", analyzer):
        host = "<host>"
    prefix = f"{parts.scheme}://" if parts.scheme else ("//" if u.startswith("//") else "")
    out = prefix + host + _scrub_path(parts.path, analyzer)
    if parts.query:
        out += "?" + _scrub_query(parts.query, analyzer)
    if parts.fragment:
        out += "#" + _scrub_route(parts.fragment, analyzer)
    return out


def _normalised(user: str) -> str:
    return unicodedata.normalize("NFKC", user).strip().casefold()


class WindowScrubber:
    """Cleans one recording's window metadata; holds the user-pseudonym key in memory only."""

    def __init__(self, analyzer: SupportsAnalyze, host_key: bytes) -> None:
        self.analyzer = analyzer
        self._key = hmac.new(host_key, b"veil-window-user-ids", hashlib.sha256).digest()
        self._seen: dict[tuple[str, str, str], dict[str, str]] = {}

    def __repr__(self) -> str:
        return "WindowScrubber(<key hidden>)"

    def user(self, raw: str | None) -> str | None:
        """The keyed pseudonym of a user id (None stays None)."""
        if raw is None or not raw.strip():
            return None
        digest = hmac.new(self._key, _normalised(raw).encode("utf-8"), hashlib.sha256).hexdigest()
        return f"user-{digest[:12]}"

    def window(self, window: WindowEvent) -> dict[str, str]:
        """{"app", "title", "url"}, each cleaned."""
        key = (window.app, window.title, window.url)
        done = self._seen.get(key)
        if done is None:
            done = {
                "app": scrub_text(window.app, self.analyzer),
                "title": scrub_text(window.title, self.analyzer),
                "url": scrub_url(window.url, self.analyzer),
            }
            if len(self._seen) >= _CACHE:
                self._seen.clear()
            self._seen[key] = done
        return dict(done)
