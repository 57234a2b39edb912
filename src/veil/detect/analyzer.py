"""Runs a set of recognizers over one string and returns non-overlapping spans."""

from __future__ import annotations

import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Protocol

from veil.detect.base import Recognizer
from veil.detect.labels import LabelVocabulary
from veil.detect.pattern import PatternRecognizer, Prepared
from veil.exceptions import EngineError
from veil.models import TextSpan

RECENT_ANSWERS = 4096  # (text, context) pairs whose spans `Analyzer.analyze` remembers


class Analyzer:
    """Holds recognizers; `analyze` runs them all, drops spans scoring below `min_score` and
    resolves overlaps (the higher score wins, then the longer span), sorted by start.

    A recognizer that raises makes `analyze` raise `EngineError` naming the recognizer only, so
    the caller fails closed (masks the frame) instead of passing text through unchecked.
    """

    def __init__(
        self,
        recognizers: Sequence[Recognizer],
        min_score: float = 0.4,
        disabled_types: Iterable[str] = (),
        labels: LabelVocabulary | None = None,
        allow: Iterable[str] = (),
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError("min_score must lie in [0, 1]")
        self._recognizers = tuple(recognizers)
        self.min_score = min_score
        self.disabled_types = frozenset(disabled_types)
        # The label vocabulary layout context uses to tell a label cell from a value cell.
        self.labels = labels or LabelVocabulary()
        # Values the policy says are never personal (`detect.allow`), in `allow_key` form.
        self.allow = frozenset(allow_key(v) for v in allow)
        self._recent: OrderedDict[tuple[str, str], tuple[TextSpan, ...]] = OrderedDict()

    def __repr__(self) -> str:
        return f"Analyzer(types={list(self.types)}, min_score={self.min_score})"

    @property
    def recognizers(self) -> tuple[Recognizer, ...]:
        return self._recognizers

    @property
    def types(self) -> tuple[str, ...]:
        """Every type some recognizer can report, in registration order."""
        every = (t for r in self._recognizers for t in r.types if t not in self.disabled_types)
        return tuple(dict.fromkeys(every))

    def load(self) -> None:
        """Load every recognizer's models now (`Recognizer.load`); a failure is an EngineError."""
        for recognizer in self._recognizers:
            try:
                recognizer.load()
            except EngineError:
                raise
            except Exception as exc:  # noqa: BLE001 - as in `_run`: name the recognizer only
                failure = type(exc).__name__
                raise EngineError(f"detector '{recognizer.name}' failed to load: {failure}") from None

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        """The spans of `text` given its screen `context`. Recent answers are remembered (in this
        process's memory only, like the lines they come from): a screen re-analysed after a
        keystroke is mostly the same cells with the same neighbours."""
        key = (text, context)
        spans = self._recent.get(key)
        if spans is None:
            spans = self._analyze(text, context)
            self._recent[key] = spans
            if len(self._recent) > RECENT_ANSWERS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(key)
        return list(spans)

    def _analyze(self, text: str, context: str) -> tuple[TextSpan, ...]:
        if not text.strip():
            return ()
        prepared = Prepared(text)
        prepared_context = Prepared(context) if context else None
        found: list[TextSpan] = []
        for recognizer in self._recognizers:
            found.extend(self._run(recognizer, text, context, prepared, prepared_context))
        fallback = {r.name for r in self._recognizers if r.fallback}
        kept = [s for s in found if s.score >= self.min_score and s.type not in self.disabled_types]
        if self.allow:
            kept = [s for s in kept if allow_key(text[s.start : s.end]) not in self.allow]
        content = [s for s in kept if s.recognizer not in fallback]
        kept = content + [
            s
            for s in kept
            if s.recognizer in fallback and not any(c.start < s.end and s.start < c.end for c in content)
        ]
        return tuple(merge_adjacent(resolve_overlaps(kept), text))

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


def allow_key(value: str) -> str:
    """How an allow-list entry and a found value are compared: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


# Types whose parts a recognizer may find separately ("7884 Cedar St, Apt 12C" + "Franklin, TN
# 78228"): joined across commas and spaces so the separator between them is masked too.
_JOINABLE = frozenset({"address", "person_name"})


def merge_adjacent(spans: list[TextSpan], text: str) -> list[TextSpan]:
    out: list[TextSpan] = []
    for span in spans:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.type == span.type
            and span.type in _JOINABLE
            and not text[prev.end : span.start].strip(" ,")
        ):
            out[-1] = TextSpan(prev.start, span.end, span.type, max(prev.score, span.score), prev.recognizer)
        else:
            out.append(span)
    return out


class SupportsAnalyze(Protocol):
    def analyze(self, text: str, context: str = "") -> list[TextSpan]: ...


def replace_findings(text: str, analyzer: SupportsAnalyze) -> str:
    """`text` with every span the analyzer finds replaced by its `<type>`: how window titles,
    labels and payload text parts are cleaned before they are written or sent."""
    for span in sorted(analyzer.analyze(text), key=lambda s: s.start, reverse=True):
        text = f"{text[: span.start]}<{span.type}>{text[span.end :]}"
    return text


def resolve_overlaps(spans: Sequence[TextSpan]) -> list[TextSpan]:
    """Keep the best of overlapping spans (higher score, then longer, then earlier)."""
    ranked = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start))
    kept: list[TextSpan] = []
    for span in ranked:
        if all(span.end <= k.start or k.end <= span.start for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: (s.start, s.end))
