"""One frame through OCR -> detectors -> redactor -> verifier, failing closed at every step.

Any error, timeout or doubt masks the whole frame and records why; nothing is passed through.
The verifier reads the redacted frame with an independent engine; what it reads (plus a placeholder
for every mask) is the frame's sanitized text layer, so the text layer is by construction something
the verifier has cleared.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from veil.detect.analyzer import Analyzer
from veil.exceptions import EngineError, EngineTimeout
from veil.locate import locate
from veil.models import Box, Finding, Frame, FrameResult, MaskReason, Pixels, TextLine
from veil.ocr.base import OcrEngine
from veil.redact.base import Redactor
from veil.verify.base import Verdict
from veil.verify.rescan import RescanVerifier

log = logging.getLogger(__name__)
T = TypeVar("T")
EngineFactory = Callable[[], OcrEngine]


@dataclass(frozen=True, slots=True)
class LayerLine:
    """One line of the sanitized text layer: what the verifier read, or `<type>` where a mask is."""

    box: Box
    text: str


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    pixels: Pixels
    result: FrameResult
    text_layer: tuple[LayerLine, ...]


def call_with_timeout(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run `fn` in a helper thread; raise EngineTimeout if it does not finish in time."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"veil-{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise EngineTimeout(f"{what} did not finish within {seconds:g} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


class FramePipeline:
    """Stateless per frame except for an exact-pixels cache of recent frames (a still screen costs
    one hash), and engines rebuilt from their factories after a timeout."""

    CACHE_SIZE = 8

    def __init__(
        self,
        engine: EngineFactory,
        verifier_engine: EngineFactory,
        analyzer: Analyzer,
        redactor: Redactor,
        key: bytes,
        timeout_seconds: float,
    ) -> None:
        self._engine_factory, self._verifier_factory = engine, verifier_engine
        self._engine, self._verifier_engine = engine(), verifier_engine()
        self.analyzer, self.redactor, self.key = analyzer, redactor, key
        self.timeout = timeout_seconds
        self._cache: OrderedDict[bytes, FrameOutcome] = OrderedDict()

    def process(self, frame: Frame) -> FrameOutcome:
        digest = hashlib.blake2b(frame.pixels.tobytes(), digest_size=16).digest()
        hit = self._cache.get(digest)
        if hit is not None:
            self._cache.move_to_end(digest)
            result = FrameResult(
                index=frame.index,
                seconds=frame.seconds,
                findings=tuple(_renumber(hit.result.findings, frame.index)),
                masked_whole=hit.result.masked_whole,
                mask_reason=hit.result.mask_reason,
                verifier_findings=hit.result.verifier_findings,
                verified=hit.result.verified,
            )
            return FrameOutcome(hit.pixels, result, hit.text_layer)
        outcome = self._process_uncached(frame)
        self._cache[digest] = outcome
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        return outcome

    def _process_uncached(self, frame: Frame) -> FrameOutcome:
        try:
            lines = self._read(frame.pixels)
        except EngineTimeout:
            self._engine = self._engine_factory()
            return self._masked(frame, (), MaskReason.OCR_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - fail closed on any engine failure, plugins included
            log.warning("frame %d: OCR failed (%s); masking whole frame", frame.index, type(exc).__name__)
            return self._masked(frame, (), MaskReason.OCR_FAILED)
        try:
            findings = locate(lines, self.analyzer, self.key, frame.index)
        except Exception as exc:  # noqa: BLE001 - fail closed on any detector failure
            log.warning("frame %d: detector failed (%s); masking whole frame", frame.index, type(exc).__name__)
            return self._masked(frame, (), MaskReason.DETECTOR_FAILED)
        try:
            redacted = self.redactor.apply(frame.pixels, findings)
        except Exception as exc:  # noqa: BLE001 - fail closed on any redactor failure
            log.warning("frame %d: redactor failed (%s); masking whole frame", frame.index, type(exc).__name__)
            return self._masked(frame, tuple(findings), MaskReason.REDACTOR_FAILED)
        return self._verify(frame, redacted, tuple(findings))

    def _read(self, pixels: Pixels) -> list[TextLine]:
        engine = self._engine
        return call_with_timeout(lambda: engine.read(pixels), self.timeout, "OCR")

    def _verify(self, frame: Frame, redacted: Pixels, findings: tuple[Finding, ...]) -> FrameOutcome:
        verifier = RescanVerifier(self._verifier_engine, self.analyzer, self.key)
        try:
            verdict: Verdict = call_with_timeout(
                lambda: verifier.check(redacted, frame.index), self.timeout, "verifier"
            )
        except EngineTimeout:
            self._verifier_engine = self._verifier_factory()
            return self._masked(frame, findings, MaskReason.VERIFIER_FAILED)
        except Exception as exc:  # noqa: BLE001 - a verifier that cannot look is a verifier that says no
            log.warning("frame %d: verifier failed (%s); masking whole frame", frame.index, type(exc).__name__)
            return self._masked(frame, findings, MaskReason.VERIFIER_FAILED)
        if not verdict.clean:
            log.info("frame %d: verifier found %d residual value(s); masking", frame.index, len(verdict.findings))
            return self._masked(frame, findings, MaskReason.VERIFIER_FOUND, verdict.findings)
        layer = tuple(LayerLine(ln.box, ln.text) for ln in verdict.lines) + tuple(
            LayerLine(Box.covering(list(f.boxes)), f"<{f.type}>") for f in findings
        )
        result = FrameResult(frame.index, frame.seconds, findings, verified=True)
        return FrameOutcome(redacted, result, tuple(sorted(layer, key=lambda ln: (ln.box.y, ln.box.x))))

    def _masked(
        self,
        frame: Frame,
        findings: tuple[Finding, ...],
        reason: MaskReason,
        residual: tuple[Finding, ...] = (),
    ) -> FrameOutcome:
        result = FrameResult(
            frame.index,
            frame.seconds,
            findings,
            masked_whole=True,
            mask_reason=reason,
            verifier_findings=residual,
            verified=False,
        )
        whole = Box(0, 0, frame.width, frame.height)
        return FrameOutcome(self.redactor.mask_whole(frame.pixels), result, (LayerLine(whole, "<masked>"),))


def _renumber(findings: tuple[Finding, ...], index: int) -> list[Finding]:
    return [
        Finding(f.type, f.boxes, f.recognizer, f.score, f.value_hmac, frame_index=index) for f in findings
    ]
