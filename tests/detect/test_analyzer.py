"""The analyzer: all recognizers, min_score, overlap resolution, failure, and no values in output."""

from __future__ import annotations

import pytest

from veil.detect import Analyzer, default_analyzer, resolve_overlaps
from veil.detect.fakes import FailingRecognizer, FixedRecognizer, NullRecognizer
from veil.detect.finance import CardRecognizer
from veil.detect.japan import JpMyNumberRecognizer
from veil.exceptions import EngineError
from veil.models import TextSpan

from .synthetic import card, expect, found, group, my_number, rrn_of

VISA = card("411111111111111")


def test_spans_sorted_by_start_over_several_types() -> None:
    rrn = rrn_of("900101123456")
    line = f"hong@example.com 010-1234-5678 {rrn[:6]}-{rrn[6:]}"
    assert found(line) == (
        expect(line, "hong@example.com", "email")
        + expect(line, "010-1234-5678", "phone")
        + expect(line, f"{rrn[:6]}-{rrn[6:]}", "kr_rrn")
    )


def test_longer_higher_span_wins_over_part_of_it() -> None:
    # The first twelve digits pass the My Number check; only the whole card is reported.
    body = next(b for b in (f"4111111111{i:02d}" for i in range(100)) if my_number(b[:11]) == b[:12])
    number = card(body + "111")
    analyzer = Analyzer([JpMyNumberRecognizer(), CardRecognizer()])
    (span,) = analyzer.analyze(group(number, (4, 4, 4, 4)))
    assert (span.start, span.end, span.type) == (0, 19, "card")


def test_min_score_drops_weak_spans() -> None:
    spans = [TextSpan(0, 3, "a", 0.3, "fixed"), TextSpan(4, 7, "b", 0.9, "fixed")]
    analyzer = Analyzer([FixedRecognizer(spans)], min_score=0.5)
    assert [s.type for s in analyzer.analyze("abc def")] == ["b"]


def test_resolve_overlaps_prefers_score_then_length() -> None:
    spans = [
        TextSpan(0, 10, "long", 0.6, "x"),
        TextSpan(2, 5, "strong", 0.9, "x"),
        TextSpan(6, 12, "longer_same", 0.6, "x"),
        TextSpan(20, 25, "alone", 0.5, "x"),
    ]
    assert [s.type for s in resolve_overlaps(spans)] == ["strong", "longer_same", "alone"]


def test_a_failing_recognizer_fails_closed_without_the_text() -> None:
    analyzer = Analyzer([NullRecognizer(), FailingRecognizer(KeyError)])
    with pytest.raises(EngineError) as info:
        analyzer.analyze("secret 010-1234-5678")
    assert "failing" in str(info.value)
    assert "010" not in str(info.value)
    assert info.value.__cause__ is None


class _Loading(NullRecognizer):
    name = "loading"

    def __init__(self, fails: bool = False) -> None:
        self.loads, self.fails = 0, fails

    def load(self) -> None:
        self.loads += 1
        if self.fails:
            raise OSError("model file /secret/path missing")


def test_load_loads_every_recognizer_and_fails_as_an_engine_error() -> None:
    ok, broken = _Loading(), _Loading(fails=True)
    Analyzer([ok]).load()
    assert ok.loads == 1
    with pytest.raises(EngineError) as info:
        Analyzer([ok, broken]).load()
    assert "loading" in str(info.value) and "secret" not in str(info.value)


def test_a_pipeline_loads_its_recognizers_when_built() -> None:
    """Models load with the pipeline, not on the first frame whose text needs them (Kiwi took
    2 s on the first Korean line of a recording, mid-way)."""
    from tests.plugins.ocr_faults import NullEngine
    from veil.options import RedactOptions
    from veil.pipeline import FramePipeline
    from veil.redact.fill import FillRedactor

    recognizer = _Loading()
    FramePipeline(
        engine=NullEngine,
        verifier_engine=NullEngine,
        analyzer=Analyzer([recognizer]),
        redactor=FillRedactor(RedactOptions()),
        key=b"k" * 32,
        timeout_seconds=5,
    )
    assert recognizer.loads == 1


def test_types_lists_every_type_once() -> None:
    types = default_analyzer().types
    assert len(types) == len(set(types))
    assert {"email", "phone", "card", "iban", "bank_account", "kr_rrn", "date_of_birth"} <= set(types)


def test_empty_and_blank_text() -> None:
    assert default_analyzer().analyze("") == []
    assert default_analyzer().analyze("   ") == []


def test_results_never_show_the_matched_text() -> None:
    rrn = rrn_of("900101123456")
    values = ["hong@example.com", "010-1234-5678", group(VISA, (4, 4, 4, 4)), f"{rrn[:6]}-{rrn[6:]}"]
    line = " ".join(values)
    analyzer = default_analyzer()
    spans = analyzer.analyze(line, context="연락처")
    assert len(spans) == len(values)
    shown = " ".join([repr(spans), str(spans), *map(repr, spans), *map(str, spans), repr(analyzer)])
    for value in values:
        assert value not in shown
        assert value.replace("-", "") not in shown


def test_context_is_evidence_only_never_matched() -> None:
    assert default_analyzer().analyze("고객 정보", context="연락처 010-1234-5678") == []


class _Counting(FixedRecognizer):
    def __init__(self, spans: list[TextSpan]) -> None:
        super().__init__(spans)
        self.calls = 0

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        self.calls += 1
        return super().analyze(text, context)


def test_a_text_seen_again_in_the_same_context_is_not_analysed_again() -> None:
    counting = _Counting([TextSpan(0, 4, "phone", 0.9, "fixed")])
    analyzer = Analyzer([counting])
    first = analyzer.analyze("0101 2345", "Phone")
    again = analyzer.analyze("0101 2345", "Phone")
    assert first == again == [TextSpan(0, 4, "phone", 0.9, "fixed")] and counting.calls == 1
    again.clear()  # callers own the list they get
    assert analyzer.analyze("0101 2345", "Phone") == first
    analyzer.analyze("0101 2345", "Order no")  # another context is another question
    analyzer.analyze("0101 2346", "Phone")
    assert counting.calls == 3


def test_a_failing_recognizer_fails_every_time() -> None:
    analyzer = Analyzer([FailingRecognizer()])
    for _ in range(2):
        with pytest.raises(EngineError):
            analyzer.analyze("x 010-1234-5678", "")
