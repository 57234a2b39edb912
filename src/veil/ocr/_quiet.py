"""Silence Leptonica's stderr diagnostics ("Error in boxClipToRectangle …").

They are printed by the C library behind Tesseract for conditions Tesseract itself handles; left
alone they flood the user's terminal between progress lines. Leptonica's `setMsgSeverity` is
called through ctypes on the copy of the library the tesserocr wheel bundles.
"""

from __future__ import annotations

import ctypes
from functools import cache
from pathlib import Path

L_SEVERITY_NONE = 6


@cache
def silence_leptonica() -> bool:
    """True when the severity was set; False when no bundled Leptonica was found (harmless)."""
    import tesserocr

    libs = Path(tesserocr.__file__).resolve().parent.parent / "tesserocr.libs"
    for candidate in sorted(libs.glob("libleptonica*.so*")):
        try:
            ctypes.CDLL(str(candidate)).setMsgSeverity(L_SEVERITY_NONE)
        except (OSError, AttributeError):
            continue
        return True
    return False
