"""File names as Veil shows them: personal values in a name replaced by `<type>` placeholders.

A recording is often named after the person or customer on it (`김민수_010-1234-5678.mp4`), so a
file name is content like any other: everything Veil prints, logs or writes in a report names
files through `shown_name` / `shown_path`, which run the name through the same detectors as the
screens. The files themselves keep their real names; only what is shown changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path, PurePath

UNCHECKED = "<unchecked>"


def _spans(text: str) -> list[tuple[int, int, str]]:
    from veil.detect.names import TYPE, glued_korean_names
    from veil.logs import shared_analyzer

    analyzer = shared_analyzer()
    spans = {(s.start, s.end, s.type) for s in analyzer.analyze(text)}
    # File names glue words without spaces ("김민수없는파일.png"), which the screen rules for
    # Korean names (a title, a label or a space around the name) do not cover.
    spans |= {(a, b, TYPE) for a, b in glued_korean_names(text)}
    # `_` joins words in file names but is a word character to the detectors ("5678_redacted"
    # hides a phone number from a pattern ending in \b): read it as a space too (same offsets).
    spaced = text.replace("_", " ")
    if spaced != text:
        spans |= {(s.start, s.end, s.type) for s in analyzer.analyze(spaced)}
    return sorted(spans)


@lru_cache(maxsize=256)
def shown_name(name: str) -> str:
    """`name` with each personal value found in it replaced by `<type>`; `<unchecked>` if the
    detectors fail (a name that cannot be checked is not shown)."""
    stem, dot, _ = name.rpartition(".")
    try:
        # The stem alone (a phone number before ".png"), and the whole name (a folder named
        # after an e-mail address, whose "extension" is its domain).
        spans = sorted(set(_spans(name)) | (set(_spans(stem)) if dot and stem else set()))
    except Exception:  # noqa: BLE001 - fail closed: an unchecked name is never shown
        return UNCHECKED
    merged: list[tuple[int, int, str]] = []  # overlapping spans become one placeholder
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            first, last, shown_kind = merged[-1]
            merged[-1] = (first, max(last, end), shown_kind)
        else:
            merged.append((start, end, kind))
    out, cursor = [], 0
    for start, end, kind in merged:
        out.append(name[cursor:start] + f"<{kind}>")
        cursor = end
    out.append(name[cursor:])
    return "".join(out)


def shown_path(path: str | PurePath) -> str:
    """A path with every component passed through `shown_name`."""
    parts = PurePath(path).parts
    if not parts:
        return ""
    return str(PurePath(*(part if part in ("/", "\\") else shown_name(part) for part in parts)))


def shown(path: Path) -> str:
    """The shown name of a file (its last component)."""
    return shown_name(path.name or str(path))
