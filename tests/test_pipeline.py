"""The frame pipeline fails closed: every failure masks the whole frame and says why; the verifier
catches what a faulty primary pass left visible."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.plugins.ocr_faults import CrashingEngine, FixedEngine, GarbageEngine, HangingEngine, NullEngine
from veil.detect.registry import default_analyzer
from veil.models import Box, Finding, Frame, MaskReason, Pixels, TextLine
from veil.ocr.base import OcrEngine
from veil.options import RedactOptions
from veil.pipeline import RECHECK_ROUNDS, VERIFIER_MASK, FramePipeline
from veil.redact.fill import FillRedactor
from veil.verify.rescan import RescanVerifier

PHONE = "010-2345-6789"
TEXT = f"연락처:{PHONE}입니다"


class LeakyRedactor(FillRedactor):
    """Fault injection: a redactor that paints nothing (the bug the verifier exists for)."""

    def apply(self, pixels: Pixels, findings: Sequence[Finding]) -> Pixels:
        return pixels.copy()


class CrashingRedactor(FillRedactor):
    def apply(self, pixels: Pixels, findings: Sequence[Finding]) -> Pixels:
        raise MemoryError("injected")


def fixed_line(text: str = TEXT, x: int = 20, y: int = 40, char_w: int = 12) -> TextLine:
    boxes = tuple(Box(x + i * char_w, y, char_w, 20) for i in range(len(text)))
    return TextLine(text, Box(x, y, char_w * len(text), 20), boxes, 0.95, "fixed")


def pipeline(
    engine: OcrEngine,
    verifier: OcrEngine | None = None,
    redactor: FillRedactor | None = None,
    timeout: float = 30,
) -> FramePipeline:
    verifier_engine = verifier if verifier is not None else NullEngine()
    return FramePipeline(
        engine=lambda: engine,
        verifier_engine=lambda: verifier_engine,
        analyzer=default_analyzer(),
        redactor=redactor or FillRedactor(RedactOptions(margin_px=2)),
        key=b"k" * 32,
        timeout_seconds=timeout,
    )


def blank_frame(width: int = 400, height: int = 100) -> Frame:
    return Frame(index=3, pixels=np.full((height, width, 3), 255, np.uint8))


def test_finding_masks_exactly_the_value() -> None:
    outcome = pipeline(FixedEngine([fixed_line()])).process(blank_frame())
    (finding,) = outcome.result.findings
    assert finding.type == "phone"
    assert outcome.result.verified and not outcome.result.masked_whole
    start = TEXT.index(PHONE)
    box = finding.boxes[0]
    pad = 20 // 4  # span_boxes reaches a quarter line height past the end characters
    assert box.x == 20 + start * 12 - pad and box.x2 == 20 + (start + len(PHONE)) * 12 + pad
    painted = outcome.pixels[box.y : box.y2, box.x : box.x2]
    assert (painted == 0).all()
    assert (outcome.pixels[:, :10] == 255).all()  # the label's left margin is untouched
    assert PHONE not in repr(outcome.result)


@pytest.mark.parametrize(
    ("engine", "reason"),
    [
        (CrashingEngine(), MaskReason.OCR_FAILED),
        (GarbageEngine(), MaskReason.OCR_FAILED),
        (HangingEngine(2.0), MaskReason.OCR_TIMEOUT),
    ],
)
def test_primary_failure_masks_whole_frame(engine: OcrEngine, reason: MaskReason) -> None:
    outcome = pipeline(engine, timeout=0.3).process(blank_frame())
    assert outcome.result.masked_whole
    assert outcome.result.mask_reason == reason
    assert (outcome.pixels == 0).all()


@pytest.mark.parametrize("verifier", [CrashingEngine(), GarbageEngine(), HangingEngine(2.0)])
def test_verifier_that_cannot_look_masks_whole_frame(verifier: OcrEngine) -> None:
    outcome = pipeline(FixedEngine([fixed_line()]), verifier=verifier, timeout=0.3).process(blank_frame())
    assert outcome.result.masked_whole
    assert outcome.result.mask_reason == MaskReason.VERIFIER_FAILED
    assert (outcome.pixels == 0).all()


def test_redactor_failure_masks_whole_frame() -> None:
    outcome = pipeline(FixedEngine([fixed_line()]), redactor=CrashingRedactor()).process(blank_frame())
    assert outcome.result.mask_reason == MaskReason.REDACTOR_FAILED
    assert (outcome.pixels == 0).all()


def test_a_value_only_the_verifier_read_is_masked_and_the_frame_rechecked() -> None:
    # The verifier reads a value where the primary pass saw nothing: its line is masked, the whole
    # frame is re-scanned, and only then (nothing left) is it delivered, the residual recorded.
    elsewhere = fixed_line(y=70)
    outcome = pipeline(FixedEngine([fixed_line()]), verifier=FixedEngine([elsewhere])).process(
        blank_frame(height=120)
    )
    assert not outcome.result.masked_whole and outcome.result.verified
    assert [f.type for f in outcome.result.verifier_findings] == ["phone"]
    line = elsewhere.box
    assert (
        outcome.pixels[line.y : line.y2, line.x : line.x2] == 0
    ).all()  # the whole line, not just the value
    assert (outcome.pixels[:, :15] == 255).all()
    assert [f.recognizer for f in outcome.result.findings].count(VERIFIER_MASK) == 1


def test_with_mask_frame_a_value_only_the_verifier_read_masks_the_frame_whole() -> None:
    pipe = pipeline(FixedEngine([fixed_line()]), verifier=FixedEngine([fixed_line(y=70)]))
    pipe.recheck = False
    outcome = pipe.process(blank_frame(height=120))
    assert outcome.result.mask_reason == MaskReason.VERIFIER_FOUND
    assert [f.type for f in outcome.result.verifier_findings] == ["phone"]
    assert (outcome.pixels == 0).all()


class SecondReadingEngine(OcrEngine):
    """Reads `first` on its first call, `then` on every later one (a value the recheck finds)."""

    name = "second-reading"

    def __init__(self, first: Sequence[TextLine], then: Sequence[TextLine]) -> None:
        self.readings = [list(first), list(then)]

    def read(self, pixels: Pixels) -> list[TextLine]:
        return self.readings.pop(0) if len(self.readings) > 1 else list(self.readings[0])


def test_a_value_only_the_first_recheck_reads_is_masked_too_and_the_frame_delivered() -> None:
    # Masking the first residual changes how the engine cuts the text around it: the re-scan
    # reads a value it had not seen (a name in the next line read apart only now). It is masked
    # like the first, the whole frame re-scanned again, and the frame delivered once that is clean.
    phone, email = fixed_line(y=70), fixed_line("kim@example.com", y=100)
    verifier = SecondReadingEngine([phone], [phone, email])
    outcome = pipeline(FixedEngine([fixed_line()]), verifier=verifier).process(blank_frame(height=140))
    assert not outcome.result.masked_whole and outcome.result.verified
    assert sorted(f.type for f in outcome.result.verifier_findings) == ["email", "phone"]
    for line in (phone.box, email.box):
        assert (outcome.pixels[line.y : line.y2, line.x : line.x2] == 0).all()
    assert (outcome.pixels[:, :15] == 255).all()


class EndlessEngine(OcrEngine):
    """Reads one more e-mail on every call, in a line of its own: no re-scan is ever clean."""

    name = "endless"

    def __init__(self) -> None:
        self.calls = 0

    def read(self, pixels: Pixels) -> list[TextLine]:
        self.calls += 1
        return [fixed_line(f"user{i}@example.com", y=40 + 24 * i) for i in range(1, self.calls + 1)]


def test_a_frame_whose_rechecks_keep_finding_values_is_masked_whole() -> None:
    verifier = EndlessEngine()
    outcome = pipeline(FixedEngine([fixed_line()]), verifier=verifier).process(blank_frame(height=400))
    assert outcome.result.mask_reason == MaskReason.VERIFIER_FOUND
    assert verifier.calls == 1 + RECHECK_ROUNDS  # the first scan, then each re-scan: bounded
    assert {f.type for f in outcome.result.verifier_findings} == {"email"}
    assert (outcome.pixels == 0).all()


def test_what_the_verifier_reads_inside_painted_masks_is_not_content() -> None:
    # An engine reads a solid mask's edges as letters; inside a mask we painted (checked on the
    # pixels) there is nothing to read, so such a reading is not a residual. The label before
    # the mask is still read.
    outcome = pipeline(FixedEngine([fixed_line()]), verifier=FixedEngine([fixed_line()])).process(
        blank_frame()
    )
    assert outcome.result.verified and not outcome.result.masked_whole
    # (The mask reaches a little past the value: its neighbours ":" and "입" are under it too.)
    assert [ln.text for ln in outcome.text_layer if not ln.text.startswith("<")] == ["연락처", "니다"]


def rendered_phone_frame() -> Frame:
    image = Image.new("RGB", (640, 80), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 26)
    ImageDraw.Draw(image).text((20, 20), f"Phone: {PHONE}", fill="black", font=font)
    return Frame(index=0, pixels=np.asarray(image, dtype=np.uint8).copy())


@pytest.mark.slow
def test_real_verifier_catches_a_leaky_redactor() -> None:
    """A primary pass that found the value but a redactor that left it visible: the independent
    verifier (real OCR on the output pixels) sees it, and the frame is masked whole."""
    from veil.ocr.registry import make_verifier_engine
    from veil.options import OcrOptions

    frame = rendered_phone_frame()
    real = make_verifier_engine(OcrOptions())
    outcome = pipeline(FixedEngine([fixed_line()]), verifier=real, redactor=LeakyRedactor()).process(frame)
    assert outcome.result.mask_reason == MaskReason.VERIFIER_FOUND
    assert (outcome.pixels == 0).all()


@pytest.mark.slow
@pytest.mark.parametrize(("ink", "paper"), [("white", "black"), ("black", "white")])
def test_real_verifier_catches_a_leaky_redactor_on_any_background(ink: str, paper: str) -> None:
    """The real primary engine finds the value, the redactor paints nothing: on a black terminal
    the unpainted "mask" is mostly the fill colour already, yet it is not taken for a mask."""
    from veil.ocr.registry import make_engine, make_verifier_engine
    from veil.options import OcrOptions

    image = Image.new("RGB", (640, 80), paper)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 22)
    ImageDraw.Draw(image).text((20, 24), f"Phone: {PHONE}", fill=ink, font=font)
    frame = Frame(index=0, pixels=np.asarray(image, dtype=np.uint8).copy())
    options = OcrOptions()
    primary, real = make_engine(options.engine, options), make_verifier_engine(options)
    outcome = pipeline(primary, verifier=real, redactor=LeakyRedactor()).process(frame)
    assert [f.type for f in outcome.result.findings] == ["phone"]
    assert outcome.result.mask_reason == MaskReason.VERIFIER_FOUND


@pytest.mark.slow
def test_real_verifier_catches_a_blind_primary_engine() -> None:
    from veil.ocr.registry import make_verifier_engine
    from veil.options import OcrOptions

    verifier = make_verifier_engine(OcrOptions())
    frame = rendered_phone_frame()
    ink = frame.pixels.min(axis=2) < 128
    outcome = pipeline(NullEngine(), verifier=verifier).process(frame)
    # The verifier found the phone, masked its line and re-scanned the frame clean.
    assert [f.type for f in outcome.result.verifier_findings] == ["phone"]
    assert outcome.result.verified and not outcome.result.masked_whole
    assert (outcome.pixels[ink] == 0).all()  # every pixel of the line's ink is under the mask
    again = RescanVerifier(verifier, default_analyzer(), b"k" * 32).check(outcome.pixels, 0)
    assert not again.findings


def test_identical_frames_are_served_from_cache() -> None:
    engine = FixedEngine([fixed_line()])
    pipe = pipeline(engine)
    first = pipe.process(blank_frame())
    second = pipe.process(Frame(index=4, pixels=blank_frame().pixels))
    assert engine.calls == 1
    assert second.result.index == 4
    assert [f.frame_index for f in second.result.findings] == [4]
    assert [f.type for f in first.result.findings] == [f.type for f in second.result.findings]


def test_a_masked_value_stays_a_cell_of_the_layout_for_the_verifier() -> None:
    # "E-mail | kim@… | IBAN": the verifier misreads the IBAN label as "IE". With the e-mail masked,
    # the E-mail label's nearest cell is the mask, so "IE" is not taken for an e-mail being typed.
    label, value, iban = (
        fixed_line("E-mail", x=20),
        fixed_line("kim@example.com", x=120),
        fixed_line("IBAN", x=420),
    )
    outcome = pipeline(
        FixedEngine([label, value, iban]), verifier=FixedEngine([label, fixed_line("IE", x=420)])
    ).process(blank_frame(width=600))
    assert outcome.result.verified, outcome.result.verifier_findings


def test_a_fragment_touching_a_mask_is_still_caught() -> None:
    # The primary pass found only the start of the number; the verifier reads the rest right
    # beside the mask: it joins the mask's row, which the 연락처 label announces.
    label = fixed_line("연락처", x=20)
    head = fixed_line("010-2345-", x=100)
    tail = fixed_line("6789", x=100 + 12 * 9 + 6)
    labelled_head = pipeline(FixedEngine([label, head]), verifier=FixedEngine([label, tail]))
    outcome = labelled_head.process(blank_frame())
    assert [f.type for f in outcome.result.verifier_findings] == ["phone"]
    assert (outcome.pixels[tail.box.y : tail.box.y2, tail.box.x : tail.box.x2] == 0).all()


def test_an_initials_avatar_beside_a_found_name_is_masked() -> None:
    from veil.detect.avatars import AvatarDetector
    from veil.synth.people import disc_picture

    pixels = np.full((100, 400, 3), 255, np.uint8)
    disc = disc_picture(32, (30, 136, 229), (255, 255, 255), "MD")
    pixels[30:62, 20:52] = disc
    name = fixed_line("Marie Dupont", x=60, y=36)  # a name the detectors find, right of the disc
    step = pipeline(FixedEngine([name]))
    step.avatar_detector = AvatarDetector()
    outcome = step.process(Frame(index=0, pixels=pixels))
    avatars = [f for f in outcome.result.findings if f.type == "avatar"]
    assert len(avatars) == 1 and avatars[0].boxes[0].contains(Box(20, 30, 32, 32))
    assert (outcome.pixels[30:62, 20:52] == 0).all()


@pytest.mark.parametrize(("glyphs", "named"), [("MD", True), ("QX", False)])
def test_a_name_no_detector_takes_is_found_by_its_initials_disc(glyphs: str, named: bool) -> None:
    """A participant list: a disc "MD" beside "Marie Dupont" names her though the detectors find
    nothing on the line (here: an analyzer that finds nothing); a disc whose glyphs are not the
    line's initials names nothing and, with no name beside it, is no avatar."""
    from veil.detect.analyzer import Analyzer
    from veil.detect.avatars import AvatarDetector
    from veil.detect.fakes import NullRecognizer
    from veil.synth.people import disc_picture

    class Screen(FixedEngine):  # the name on the frame; the disc's glyphs in the disc alone
        def read(self, pixels: Pixels) -> list[TextLine]:
            return [fixed_line(glyphs, x=4, y=8, char_w=10)] if pixels.shape[1] < 60 else list(self.lines)

    pixels = np.full((100, 400, 3), 255, np.uint8)
    pixels[30:62, 20:52] = disc_picture(32, (30, 136, 229), (255, 255, 255), glyphs)
    name = fixed_line("Marie Dupont", x=60, y=36)
    step = pipeline(Screen([name]))
    step.analyzer = Analyzer([NullRecognizer()])
    step.avatar_detector = AvatarDetector()
    outcome = step.process(Frame(index=0, pixels=pixels))
    kinds = sorted(f.type for f in outcome.result.findings)
    if named:
        assert kinds == ["avatar", "person_name"]
        (person,) = [f for f in outcome.result.findings if f.type == "person_name"]
        assert person.boxes[0].contains(Box(60, 36, 12 * len("Marie Dupont"), 20))
        assert (outcome.pixels[36:56, 60 : 60 + 12 * len("Marie Dupont")] == 0).all()
    else:
        assert kinds == []


def test_a_disc_read_that_hangs_masks_the_frame_and_rebuilds_the_engine() -> None:
    """Reading a disc's glyphs is an OCR call like any other: a timeout fails closed (the frame is
    masked whole) and the engine is rebuilt from its factory, not kept hung."""
    import time as clock

    from veil.detect.avatars import AvatarDetector
    from veil.synth.people import disc_picture

    name = fixed_line("Zorvan Quillet", x=60, y=36)

    class HangsOnDiscs(FixedEngine):
        def read(self, pixels: Pixels) -> list[TextLine]:
            if pixels.shape[1] < 60:
                clock.sleep(2)
            return list(self.lines)

    built: list[OcrEngine] = []

    def factory() -> OcrEngine:
        built.append(HangsOnDiscs([name]))
        return built[-1]

    step = FramePipeline(
        engine=factory,
        verifier_engine=NullEngine,
        analyzer=default_analyzer(),
        redactor=FillRedactor(RedactOptions(margin_px=2)),
        key=b"k" * 32,
        timeout_seconds=0.3,
        avatar_detector=AvatarDetector(),
    )
    pixels = np.full((100, 400, 3), 255, np.uint8)
    pixels[30:62, 20:52] = disc_picture(32, (30, 136, 229), (255, 255, 255), "ZQ")
    outcome = step.process(Frame(index=0, pixels=pixels))
    assert outcome.result.masked_whole
    assert (outcome.pixels == 0).all()
    assert len(built) == 2  # the hung engine was replaced
