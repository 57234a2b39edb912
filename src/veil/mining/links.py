"""Value links without values: keyed pseudonyms of normalised values, so the miner can see that
the number copied from a sheet is the one pasted into a form without ever holding the number.

A `Linker` holds an HMAC-SHA256 key in memory only (by default a fresh random key per run, so a
pseudonym means nothing outside the run that made it and cannot be correlated across runs or
brute-forced from an export: exports, reports and logs never carry pseudonyms at all). A value
yields several pseudonyms: the whole value, each of its parts (cells of a copied range, parts of
an address), and its digits alone when it has enough of them (a phone pasted as "+61 039 689 9324"
and kept as "039-689-9324" still links).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

_PARTS = re.compile(r"[\t\n;|,]+")
_SPACES = re.compile(r"\s+")
_MIN_DIGITS = 6
_TAIL_DIGITS = 8


def normalise(value: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()


def _forms(value: str) -> set[str]:
    whole = normalise(value)
    if not whole or whole.startswith("<"):
        return set()  # empty, or already a `<type>` placeholder: nothing to link
    forms = {whole}
    forms.update(p.strip() for p in _PARTS.split(whole) if len(p.strip()) >= 2)
    digits = "".join(c for c in whole if c.isdigit())
    if len(digits) >= _MIN_DIGITS:
        forms.add("#" + digits[-_TAIL_DIGITS:])
    return forms


class Linker:
    """Keyed pseudonyms of values; the key never leaves this object."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def __call__(self, *values: str) -> tuple[str, ...]:
        forms: set[str] = set()
        for v in values:
            forms |= _forms(v)
        return tuple(
            sorted(hmac.new(self._key, f.encode("utf-8"), hashlib.sha256).hexdigest()[:20] for f in forms)
        )

    def pseudonym(self, value: str) -> str:
        """One keyed pseudonym of the whole normalised value (a user id, not a screen value)."""
        tag = b"pseudonym\0" + normalise(value).encode("utf-8")
        return hmac.new(self._key, tag, hashlib.sha256).hexdigest()[:12]

    def __repr__(self) -> str:
        return "Linker(<key hidden>)"


_shared: Linker | None = None  # the run's linker, lent by the process that started the run


def default_linker() -> Linker:
    """The process's linker: one random key per run, so inputs read in one run link together."""
    return _shared or _process_linker()


@cache
def _process_linker() -> Linker:
    return Linker()


@contextmanager
def shared(linker: Linker) -> Iterator[None]:
    """Inside, `linker` (the run's, sent by the process that started it) is this process's
    default: a run spread over processes (`veil.scale.mining`'s Ray tasks) links values and
    pseudonymises users as one process does. The key stays in memory, as the run's does."""
    global _shared  # noqa: PLW0603 - one run at a time per task process
    previous, _shared = _shared, linker
    try:
        yield
    finally:
        _shared = previous
