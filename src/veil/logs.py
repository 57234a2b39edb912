"""Logging that cannot carry personal data.

`RawContentFilter` sits on every handler Veil installs. It re-scans each formatted record with the
same detectors used on screens; a record in which any personal value is found is not emitted as
written but replaced by a notice naming only the types. Code never logs OCR text in the first place;
this filter is the second lock.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from veil.detect.analyzer import Analyzer

_analyzer: Analyzer | None = None


def shared_analyzer() -> Analyzer:
    """The process's default analyzer for checking what Veil itself writes (logs, file names)."""
    global _analyzer  # noqa: PLW0603 - one analyzer per process, built on first use
    if _analyzer is None:
        from veil.detect.registry import default_analyzer

        _analyzer = default_analyzer()
    return _analyzer


class RawContentFilter(logging.Filter):
    """Rewrites records that contain a personal value; never lets them through as written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        texts = [message]
        if record.exc_info and record.exc_info[1] is not None:
            texts.append(str(record.exc_info[1]))
        try:
            types = sorted({span.type for text in texts for span in shared_analyzer().analyze(text)})
        except Exception:  # noqa: BLE001 - a record we cannot check is a record we do not print
            types = ["unchecked"]
        if types:
            record.msg = "log record withheld: it contained personal data of type(s) %s"
            record.args = (", ".join(types),)
            record.exc_info = None
            record.exc_text = None
        return True


def configure(level: int = logging.WARNING, stream: object = None) -> logging.Handler:
    """Install one stderr handler with the filter on the root logger; returns the handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RawContentFilter())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_veil", False)]
    handler._veil = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler
