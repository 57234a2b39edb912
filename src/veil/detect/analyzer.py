"""Runs a set of recognizers over one string and returns non-overlapping spans."""

from __future__ import annotations

from collections.abc import Sequence

from veil.detect.base import Recognizer
from veil.detect.pattern import PatternRecognizer, Prepared
from veil.exceptions import EngineError
from veil.models import TextSpan


class Analyzer:
    """Holds recognizers; `analyze` runs them all, drops spans scoring below `min_score` and
    resolves overlaps (the higher score wins, then the longer span), sorted by start.

    A recognizer that raises makes `analyze` raise `EngineError` naming the recognizer only, so
    the caller fails closed (masks the frame) instead of passing text through unchecked.
    """

    def __init__(self, recognizers: Sequence[Recognizer], min_score: float = 0.4) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError("min_score must lie in [0, 1]")
        self._recognizers = tuple(recognizers)
        self.min_score = min_score

    def __repr__(self) -> str:
        return f"Analyzer(types={list(self.types)}, min_score={self.min_score})"

    @property
    def recognizers(self) -> tuple[Recognizer, ...]:
        return self._recognizers

    @property
    def types(self) -> tuple[str, ...]:
        """Every type some recognizer can report, in registration order."""
        return tuple(dict.fromkeys(t for r in self._recognizers for t in r.types))

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        if not text.strip():
            return []
        prepared = Prepared(text)
        prepared_context = Prepared(context) if context else None
        found: list[TextSpan] = []
        for recognizer in self._recognizers:
            found.extend(self._run(recognizer, text, context, prepared, prepared_context))
        return resolve_overlaps([s for s in found if s.score >= self.min_score])

    @staticmethod
    def _run(
        recognizer: Recognizer, text: str, context: str, prepared: Prepared, prepared_context: Prepared | None
    ) -> list[TextSpan]:
        try:
            if isinstance(recognizer, PatternRecognizer):
                return recognizer.analyze_prepared(prepared, prepared_context)
            return recognizer.analyze(text, context)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure must fail closed, as EngineError
            # Name the recognizer and the error class only: the message may quote the text.
            raise EngineError(f"detector '{recognizer.name}' failed: {type(exc).__name__}") from None


def resolve_overlaps(spans: Sequence[TextSpan]) -> list[TextSpan]:
    """Keep the best of overlapping spans (higher score, then longer, then earlier)."""
    ranked = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start))
    kept: list[TextSpan] = []
    for span in ranked:
        if all(span.end <= k.start or k.end <= span.start for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: (s.start, s.end))
