"""Detectors: text in, typed character spans out — never the value.

from veil.detect import default_analyzer
spans = default_analyzer(policy.detect).analyze(line.text, context=label_text)
"""

from veil.detect.analyzer import Analyzer, resolve_overlaps
from veil.detect.base import Recognizer
from veil.detect.normalize import NormalizedText, normalize
from veil.detect.pattern import Pattern, PatternRecognizer
from veil.detect.registry import default_analyzer, known_types, recognizers_for, register

__all__ = [
    "Analyzer",
    "NormalizedText",
    "Pattern",
    "PatternRecognizer",
    "Recognizer",
    "default_analyzer",
    "known_types",
    "normalize",
    "recognizers_for",
    "register",
    "resolve_overlaps",
]
