"""The recognizer interface (after Presidio's): declarative patterns, context words and a
`validate` checksum hook; results say which recognizer matched and with what score."""

from __future__ import annotations

from abc import ABC, abstractmethod

from veil.models import TextSpan


class Recognizer(ABC):
    """Finds one family of personal data in a string.

    `analyze(text, context)` returns spans as offsets into `text`. `context` is nearby text on the
    screen (a label to the left or above, a table header) used only as evidence, never matched.
    """

    name: str = "abstract"
    types: tuple[str, ...] = ()
    # A fallback recognizer's spans give way to any overlapping span of a content recognizer,
    # which locates the value more precisely (e.g. the labelled-value recognizer).
    fallback: bool = False
    languages: tuple[str, ...] = ("ko", "ja", "fr", "en")

    def load(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Load what `analyze` needs (a model, a dictionary) now rather than on the first text that
        needs it: a recording must not stall on the first Korean line it meets. Default: nothing."""

    @abstractmethod
    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        """Return every span of `text` this recognizer believes is personal data."""
