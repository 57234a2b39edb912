"""Re-scan with an independent OCR engine and the same detectors."""

from __future__ import annotations

from veil.detect.analyzer import Analyzer
from veil.locate import locate
from veil.models import Pixels
from veil.ocr.base import OcrEngine
from veil.verify.base import Verdict, Verifier


class RescanVerifier(Verifier):
    def __init__(self, engine: OcrEngine, analyzer: Analyzer, key: bytes) -> None:
        self.engine = engine
        self.analyzer = analyzer
        self.key = key

    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        lines = self.engine.read(pixels)
        findings = locate(lines, self.analyzer, self.key, frame_index)
        return Verdict(findings=tuple(findings), lines=tuple(lines))
