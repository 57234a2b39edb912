"""One frame through OCR -> detectors -> redactor -> verifier, failing closed at every step.

Any error, timeout or doubt masks the whole frame and records why; nothing is passed through.
The verifier reads the redacted frame with an independent engine; what it reads (plus a placeholder
for every mask) is the frame's sanitized text layer, so the text layer is by construction something
the verifier has cleared.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import numpy as np

from veil.capture.windows import WindowGate
from veil.detect.analyzer import Analyzer
from veil.detect.avatars import RECOGNIZER as AVATAR_RECOGNIZER
from veil.detect.avatars import AvatarHit
from veil.exceptions import EngineTimeout
from veil.locate import MASK_ENGINE, finding_for, locate, split_at_gaps, split_at_rules
from veil.models import Box, Finding, Frame, FrameResult, MaskReason, Pixels, TextLine, TextSpan
from veil.ocr.base import REREAD_ENGINE, OcrEngine
from veil.redact.base import Redactor
from veil.verify.base import Verdict
from veil.verify.rescan import RescanVerifier

log = logging.getLogger(__name__)
T = TypeVar("T")
EngineFactory = Callable[[], OcrEngine]


class FaceFinder(Protocol):
    def detect(self, pixels: Pixels) -> list[Box]: ...


class AvatarFinder(Protocol):
    def painted_over(self, pixels: Pixels) -> Pixels: ...

    def detect(
        self,
        pixels: Pixels,
        names: Sequence[Box],
        lines: Sequence[TextLine] = (),
        read: Callable[[Box], str] | None = None,
    ) -> list[AvatarHit]: ...


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
    # The primary OCR lines (raw text: in memory only, never written or logged); the incremental
    # path carries them over to the next frame.
    lines: tuple[TextLine, ...]
    # What the verifier read on the redacted frame (cleared text); the source of the text layer.
    verified_lines: tuple[TextLine, ...] = ()
    # A frame masked whole because the verifier found a residual value: the frame as redacted
    # before that (in memory only, never written), so the change tracker goes on from this
    # frame's complete reading instead of re-reading the next frame whole.
    redacted: Pixels | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """A frame's complete reading: redacted pixels, primary lines, verifier's lines."""

    redacted: Pixels
    lines: tuple[TextLine, ...]
    verified_lines: tuple[TextLine, ...]


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


def frame_digest(pixels: Pixels) -> bytes:
    """The key of a frame: a hash of its pixels (shape included), nothing else."""
    h = hashlib.blake2b(repr(pixels.shape).encode(), digest_size=16)
    h.update(np.ascontiguousarray(pixels).tobytes())
    return h.digest()


class FramePipeline:
    """The full path: every stage on the whole frame. Keeps an exact-pixels cache of recent frames
    (a still screen costs one hash) and rebuilds an engine from its factory after a timeout.
    The stage methods (`read`, `find`, `verify`, `masked`) are shared with the incremental path."""

    CACHE_SIZE = 8

    def __init__(
        self,
        engine: EngineFactory,
        verifier_engine: EngineFactory,
        analyzer: Analyzer,
        redactor: Redactor,
        key: bytes,
        timeout_seconds: float,
        face_detector: FaceFinder | None = None,
        gate: WindowGate | None = None,
        avatar_detector: AvatarFinder | None = None,
        recheck: bool = True,
    ) -> None:
        self.recheck = recheck
        self.face_detector = face_detector
        self.avatar_detector = avatar_detector
        self.gate = gate
        self._engine_factory, self._verifier_factory = engine, verifier_engine
        self._engine, self._verifier_engine = engine(), verifier_engine()
        self.analyzer, self.redactor, self.key = analyzer, redactor, key
        analyzer.load()  # models load with the pipeline, not on the frame that first needs them
        self.timeout = timeout_seconds
        self.timings: defaultdict[str, float] = defaultdict(float)
        self._cache: OrderedDict[bytes, FrameOutcome] = OrderedDict()
        self._glyph_cache: OrderedDict[bytes, str] = OrderedDict()  # initials discs' readings

    def process(self, frame: Frame, digest: bytes | None = None) -> FrameOutcome:
        """Read, detect, redact and verify `frame`; `digest` is its `frame_digest` if the caller
        has it already (a frame byte-identical to a recent one gets that one's outcome)."""
        digest = digest or frame_digest(frame.pixels)
        hit = self._cache.get(digest)
        if hit is not None:
            self._cache.move_to_end(digest)
            return retarget(hit, frame)
        outcome = self._process_uncached(frame)
        self._cache[digest] = outcome
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        return outcome

    def _process_uncached(self, frame: Frame) -> FrameOutcome:
        try:
            lines = self.read(frame.pixels)
            text = self.find(lines, frame.index)
            findings = (
                text
                + self.faces(frame.pixels, frame.index)
                + self.avatars(frame.pixels, text, frame.index, lines)
            )
            redacted = self.redact(frame.pixels, findings)
            verdict = self.verify(redacted, frame.index, self.painted_masks(findings, redacted))
            residual = [*verdict.findings, *self.faces(redacted, frame.index, verifier=True)]
            residual = self.not_our_labels(residual, findings, redacted)
        except StageFailure as failure:
            return self.masked(frame, failure.findings, failure.reason)
        if residual:
            return self.on_residual(frame, findings, residual, lines, verdict.lines, redacted)
        result = FrameResult(frame.index, frame.seconds, tuple(findings), verified=True)
        layer = text_layer(verdict.lines, findings)
        return FrameOutcome(redacted, result, layer, tuple(lines), verdict.lines)

    def on_residual(
        self,
        frame: Frame,
        findings: Sequence[Finding],
        residual: Sequence[Finding],
        lines: Sequence[TextLine],
        verified: Sequence[TextLine],
        redacted: Pixels,
    ) -> FrameOutcome:
        """The verifier found values the primary pass missed. With `recheck` (the default), mask
        every cell of the verifier's reading that holds one (whole cells: its character boxes
        are not trusted to cover a value's last digits), then re-scan the *whole* re-redacted
        frame with the verifier; a value that re-scan finds (a mask changes how the engine cuts
        the text around it: a name in the next line read apart only now) is masked the same way
        and the whole frame re-scanned again, up to `RECHECK_ROUNDS` re-scans. The frame is
        delivered only once a re-scan of the whole of it finds nothing, else it is masked whole.
        Either way nothing leaves that an independent re-scan has not cleared."""
        tracked = Reading(redacted, tuple(lines), tuple(verified))
        if not self.recheck:
            return self.masked(frame, tuple(findings), MaskReason.VERIFIER_FOUND, residual, tracked)
        widened, caught = list(findings), list(residual)
        new, reading = list(residual), verified
        try:
            for _ in range(RECHECK_ROUNDS):
                widened += verifier_masks(new, reading, frame.index)
                again = self.redact(frame.pixels, widened)
                verdict = self.verify(again, frame.index, self.painted_masks(widened, again))
                new = [*verdict.findings, *self.faces(again, frame.index, verifier=True)]
                new = self.not_our_labels(new, widened, again)
                if not new:
                    break
                caught += new
                reading = verdict.lines
        except StageFailure as failure:
            return self.masked(frame, failure.findings, failure.reason)
        if new:
            log.info("frame %d: values left after the verifier's masks; masking whole", frame.index)
            return self.masked(frame, tuple(findings), MaskReason.VERIFIER_FOUND, caught, tracked)
        result = FrameResult(
            frame.index, frame.seconds, tuple(widened), verifier_findings=tuple(caught), verified=True
        )
        layer = text_layer(verdict.lines, widened)
        return FrameOutcome(again, result, layer, tuple(lines), verdict.lines)

    @contextmanager
    def stage(self, name: str, reason: MaskReason, findings: Sequence[Finding] = ()) -> Iterator[None]:
        """Time a stage and turn any failure in it into a StageFailure (the frame gets masked)."""
        started = time.perf_counter()
        try:
            yield
        except StageFailure:
            raise
        except EngineTimeout as exc:
            self._rebuild(name)
            raise StageFailure(MaskReason.OCR_TIMEOUT if name == "ocr" else reason, findings) from exc
        except Exception as exc:
            log.warning("%s failed (%s); masking the whole frame", name, type(exc).__name__)
            raise StageFailure(reason, findings) from exc
        finally:
            self.timings[name] += time.perf_counter() - started

    def _rebuild(self, stage: str) -> None:
        if stage == "ocr":
            self._engine = self._engine_factory()
        elif stage == "verify":
            self._verifier_engine = self._verifier_factory()

    def read(self, pixels: Pixels, part: bool = False) -> list[TextLine]:
        """The primary engine's lines of `pixels`: a whole frame, or a `part` cut from one. Initials
        discs are painted over first (`AvatarDetector.painted_over`): read with the name beside
        them, their glyphs make a line no engine reads; the avatars stage still finds them."""
        if self.avatar_detector is not None:
            with self.stage("avatars", MaskReason.DETECTOR_FAILED):
                pixels = self.avatar_detector.painted_over(pixels)
        with self.stage("ocr", MaskReason.OCR_FAILED):
            engine = self._engine
            step = engine.read_part if part else engine.read
            return call_with_timeout(lambda: step(pixels), self.timeout, "OCR")
        raise AssertionError("unreachable")  # pragma: no cover - for mypy: the stage re-raises

    def find(self, lines: Sequence[TextLine], index: int) -> list[Finding]:
        if self.gate and self.gate.denies_text([ln.text for ln in lines]):
            raise StageFailure(MaskReason.POLICY_DENIED)  # a confidential window's title or URL
        with self.stage("detect", MaskReason.DETECTOR_FAILED):
            return locate(lines, self.analyzer, self.key, index)
        raise AssertionError("unreachable")  # pragma: no cover

    def faces(
        self, pixels: Pixels, index: int, verifier: bool = False, dx: int = 0, dy: int = 0
    ) -> list[Finding]:
        """Faces as findings (boxes moved by `dx`, `dy` when `pixels` is a crop of the frame)."""
        if self.face_detector is None:
            return []
        reason = MaskReason.VERIFIER_FAILED if verifier else MaskReason.DETECTOR_FAILED
        with self.stage("faces", reason):
            boxes = self.face_detector.detect(pixels)
            return [Finding("face", (b.moved(dx, dy),), "centerface", 1.0, "", index) for b in boxes]
        raise AssertionError("unreachable")  # pragma: no cover

    def avatars(
        self, pixels: Pixels, text: Sequence[Finding], index: int, lines: Sequence[TextLine] = ()
    ) -> list[Finding]:
        """Initials avatars (a disc with a participant's initials) beside the names in `text`, and
        beside a name in `lines` they are the initials of: that name too, found by its avatar."""
        if self.avatar_detector is None:
            return []
        with self.stage("avatars", MaskReason.DETECTOR_FAILED):
            names = [b for f in text if f.type == "person_name" for b in f.boxes]
            out = []
            read = functools.partial(self._glyphs, pixels)
            for hit in self.avatar_detector.detect(pixels, names, lines, read):
                out.append(Finding("avatar", (hit.box,), AVATAR_RECOGNIZER, 1.0, "", index))
                if hit.name is not None:
                    line, start, end = hit.name
                    span = TextSpan(start, end, "person_name", 1.0, AVATAR_RECOGNIZER)
                    out.append(finding_for(line, span, self.key, index))
            return out
        raise AssertionError("unreachable")  # pragma: no cover

    def _glyphs(self, pixels: Pixels, box: Box) -> str:
        """The text the primary engine reads in `box` alone (an initials disc), remembered by the
        box's pixels: a meeting's discs stay on screen frame after frame."""
        crop = np.ascontiguousarray(pixels[box.y : box.y2, box.x : box.x2])
        key = frame_digest(crop)
        text = self._glyph_cache.get(key)
        if text is None:
            # The primary engine's own stage: a timeout rebuilds the engine as any OCR timeout does.
            with self.stage("ocr", MaskReason.OCR_FAILED):
                read = call_with_timeout(lambda: self._engine.read_part(crop), self.timeout, "OCR")
            text = self._glyph_cache[key] = " ".join(ln.text for ln in read)
            if len(self._glyph_cache) > GLYPH_CACHE_SIZE:
                self._glyph_cache.popitem(last=False)
        return text

    def not_our_labels(
        self, residual: Sequence[Finding], findings: Sequence[Finding], redacted: Pixels
    ) -> list[Finding]:
        """Drop residual findings that lie wholly inside a mask we painted: with pseudonym labels
        on, the only thing there is our own label ("고객 3"), which the verifier may read as a name.
        Anything reaching past a mask's edge, or in a mask that was not actually painted, is kept."""
        if not self.redactor.draws_labels:
            return list(residual)
        masks = [m.grow(3) for m in self.painted_masks(findings, redacted, strict=False)]
        return [r for r in residual if not all(any(m.contains(b) for m in masks) for b in r.boxes)]

    def painted_masks(self, findings: Sequence[Finding], redacted: Pixels, strict: bool = True) -> list[Box]:
        """The masks of `findings` as painted on `redacted`, each checked on the pixels to really
        be one (a mask a faulty redactor did not paint is not one). `strict`: solid fill only
        (97 % of the pixels; a screen's black background around white text does not pass);
        otherwise a pseudonym label may take up to 40 % of it."""
        height, width = redacted.shape[:2]
        share = 0.97 if strict else 0.6
        grown = (b.grow(self.redactor.margin_px).clip(width, height) for f in findings for b in f.boxes)
        return [b for b in grown if b.area and self._painted(redacted, b, share)]

    def _painted(self, redacted: Pixels, box: Box, share: float) -> bool:
        color = self.redactor.fill_color
        region = redacted[box.y : box.y2, box.x : box.x2]
        if color is None or region.size == 0:
            return False
        return float(np.all(region == np.array(color, dtype=np.uint8), axis=2).mean()) >= share

    def redact(self, pixels: Pixels, findings: Sequence[Finding]) -> Pixels:
        with self.stage("redact", MaskReason.REDACTOR_FAILED, findings):
            return self.redactor.apply(pixels, findings)
        raise AssertionError("unreachable")  # pragma: no cover

    def verify(self, pixels: Pixels, index: int, masks: Sequence[Box] = ()) -> Verdict:
        with self.stage("verify", MaskReason.VERIFIER_FAILED):
            verifier = RescanVerifier(self._verifier_engine, self.analyzer, self.key)
            return call_with_timeout(
                lambda: verifier.check_masked(pixels, index, masks), self.timeout, "verifier"
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def verify_read(self, pixels: Pixels) -> list[TextLine]:
        """The verifier engine's reading of (part of) a redacted frame, for the incremental path."""
        with self.stage("verify", MaskReason.VERIFIER_FAILED):
            engine = self._verifier_engine
            return call_with_timeout(lambda: engine.read(pixels), self.timeout, "verifier")
        raise AssertionError("unreachable")  # pragma: no cover

    def deny(self, frame: Frame) -> FrameOutcome:
        """A confidential window fills the frame: mask it without reading it."""
        return self.masked(frame, (), MaskReason.POLICY_DENIED)

    def masked(
        self,
        frame: Frame,
        findings: Sequence[Finding],
        reason: MaskReason,
        residual: Sequence[Finding] = (),
        tracked: Reading | None = None,
    ) -> FrameOutcome:
        """The frame masked whole for `reason`. `tracked`: its complete reading (lines, verified
        lines, redacted pixels) when only the verifier's residual made it fail, kept for the
        change tracker."""
        if residual:
            log.info("frame %d: verifier found %d residual value(s); masking", frame.index, len(residual))
        result = FrameResult(
            frame.index,
            frame.seconds,
            tuple(findings),
            masked_whole=True,
            mask_reason=reason,
            verifier_findings=tuple(residual),
            verified=False,
        )
        whole = Box(0, 0, frame.width, frame.height)
        masked = self.redactor.mask_whole(frame.pixels)
        layer = (LayerLine(whole, "<masked>"),)
        if tracked is None:
            return FrameOutcome(masked, result, layer, ())
        return FrameOutcome(masked, result, layer, tracked.lines, tracked.verified_lines, tracked.redacted)


VERIFIER_MASK = "verifier"  # the recognizer of a mask the verifier's finding added (see on_residual)
VERIFIER_MASK_MARGIN = 3
# Whole-frame re-scans after the verifier's masks before a frame is masked whole (see on_residual).
RECHECK_ROUNDS = 3
GLYPH_CACHE_SIZE = 256  # initials discs whose reading `FramePipeline._glyphs` remembers


def verifier_masks(residual: Sequence[Finding], verified: Sequence[TextLine], index: int) -> list[Finding]:
    """A mask per residual finding: its boxes and every cell of the verifier's reading they touch
    (a line cut at wide gaps and at vertical rules: an engine reads a table row as one line),
    grown a little; faces as found. Mask placeholders and rules (no letter or digit) are no cells."""
    cells = [
        cell
        for ln in verified
        if ln.engine != MASK_ENGINE
        for piece in split_at_gaps(ln)
        for cell in split_at_rules(piece)
        if any(c.isalnum() for c in cell.text)
    ]
    out: list[Finding] = []
    for f in residual:
        boxes = list(f.boxes)
        if f.type not in ("face", "avatar"):
            boxes += [c.box for c in cells if any(c.box.intersection_area(b) for b in f.boxes)]
        grown = tuple(b.grow(VERIFIER_MASK_MARGIN) for b in boxes)
        out.append(Finding(f.type, grown, VERIFIER_MASK, f.score, f.value_hmac, index, f.script))
    return out


class StageFailure(Exception):
    """Internal: a stage failed; the frame is masked whole for `reason`."""

    def __init__(self, reason: MaskReason, findings: Sequence[Finding] = ()) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.findings = tuple(findings)


def text_layer(lines: Sequence[TextLine], findings: Sequence[Finding]) -> tuple[LayerLine, ...]:
    """What the verifier read on the redacted frame, plus a `<type>` placeholder per mask. The
    verifier's second readings of ink its page read left out are for the detectors only: they
    repeat text in other words, and the layer is read as the screen's lines (task mining)."""
    layer = [LayerLine(ln.box, ln.text) for ln in lines if ln.engine != REREAD_ENGINE]
    layer += [LayerLine(Box.covering(list(f.boxes)), f"<{f.type}>") for f in findings]
    return tuple(sorted(layer, key=lambda ln: (ln.box.y, ln.box.x)))


def retarget(outcome: FrameOutcome, frame: Frame) -> FrameOutcome:
    """The same outcome for another frame with identical pixels (index and time updated)."""
    r = outcome.result
    result = FrameResult(
        index=frame.index,
        seconds=frame.seconds,
        findings=tuple(_renumber(r.findings, frame.index)),
        masked_whole=r.masked_whole,
        mask_reason=r.mask_reason,
        verifier_findings=r.verifier_findings,
        verified=r.verified,
    )
    return replace(outcome, result=result)


def _renumber(findings: tuple[Finding, ...], index: int) -> list[Finding]:
    return [replace(f, frame_index=index) for f in findings]
