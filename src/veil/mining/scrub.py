"""Keep values out of the event log: a typed value becomes its type, labels/titles/URLs lose
anything that looks like a personal value. This is a second line of defence behind the redaction
pipeline (text layers are already sanitized); imported UI logs from other recorders rely on it."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from urllib.parse import unquote, urlsplit

from veil.capture.metadata import finding_type
from veil.detect.analyzer import Analyzer, replace_findings
from veil.detect.registry import default_analyzer

PLACEHOLDER = re.compile(r"^<[a-z][a-z0-9_-]{0,30}>$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{6,}\d(?![\w])")
_DATE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_AMOUNT = re.compile(r"^[€$£¥₩]?\s?-?\d[\d,.\s]*\s?(?:€|\$|£|¥|₩|원|円|EUR|USD|KRW|JPY)?$")
_DIGITS = re.compile(r"\d{3,}")
_ID_SEGMENT = re.compile(r"^(?=.*\d)[\w-]{3,}$")
# Korean/Japanese/French/English "name-like" words are not caught by regex; labels are short UI
# texts, so anything long and free-form is replaced whole rather than risked.
_MAX_LABEL = 60


def value_type(value: str) -> str:
    """The `<type>` of a typed/copied value; an existing placeholder is kept as it is."""
    v = value.strip()
    if not v or PLACEHOLDER.match(v):
        return v
    digits = sum(c.isdigit() for c in v)
    checks = (
        ("email", _EMAIL.fullmatch(v) is not None),
        ("url", _URL.fullmatch(v) is not None),
        ("date", _DATE.fullmatch(v) is not None),
        ("card", _CARD.fullmatch(v) is not None and digits >= 13),
        ("phone", _PHONE.fullmatch(v) is not None),
        ("number", _AMOUNT.match(v) is not None and digits > 0),
    )
    return next((f"<{name}>" for name, hit in checks if hit), "<text>")


@cache
def _analyzer() -> Analyzer:
    return default_analyzer()


@lru_cache(maxsize=65536)
def _detected_replaced(text: str) -> str:
    """Every span Veil's detectors find (names, addresses, identifiers …) replaced by `<type>`."""
    return replace_findings(text, _analyzer())


def scrub_text(text: str) -> str:
    """A UI label, window title or extra column with personal values (Veil's detectors), e-mails,
    URLs, phones, dates and digit runs replaced by their type; over-long free text replaced whole."""
    t = " ".join(text.split())
    if not t or PLACEHOLDER.match(t):
        return t
    t = _detected_replaced(t)
    t = _EMAIL.sub("<email>", t)
    t = _URL.sub("<url>", t)
    t = _CARD.sub(lambda m: "<card>" if sum(c.isdigit() for c in m.group()) >= 13 else m.group(), t)
    t = _DATE.sub("<date>", t)
    t = _PHONE.sub("<phone>", t)
    t = _DIGITS.sub("<number>", t)
    if len(t) > _MAX_LABEL:
        return "<text>"
    return t


@lru_cache(maxsize=65536)
def scrub_url(url: str) -> str:
    """Scheme, host and path template: id-like path segments become `<id>`; query and fragment,
    where values live, are dropped."""
    u = url.strip()
    if not u:
        return ""
    try:
        parts = urlsplit(u if "://" in u else f"//{u}")
    except ValueError:
        return "<url>"
    host = parts.hostname or ""
    if _EMAIL.search(parts.netloc):
        return "<url>"
    segs: list[str] = []
    previous = ""
    for s in parts.path.split("/"):
        if not s:
            continue
        plain = unquote(s)
        if _ID_SEGMENT.match(s) or _EMAIL.search(plain):
            segs.append("<id>")
        else:
            # A slug names a person ("jane-smith"): read as words, with the segment before as label.
            found = finding_type(plain, previous, _analyzer())
            segs.append(f"<{found}>" if found else scrub_text(plain))
        previous = plain
    prefix = f"{parts.scheme}://" if parts.scheme else ""
    return f"{prefix}{host}/{'/'.join(segs)}"
