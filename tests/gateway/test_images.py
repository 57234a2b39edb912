"""What images may leave: real rendered Korean and Japanese screens cleared (or refused) by the real
verifier, payload forgeries the gateway's own image re-scan stops, and data hidden in an image file
(text chunks, bytes after the end, alpha-only text, EXIF / GPS / author) that never reaches a payload."""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, PngImagePlugin

from tests.gateway.conftest import CleanVerifier, destination, egress_entries
from tests.gateway.screens import (
    JA_NAME,
    JP,
    KO_NAME,
    KO_PHONE,
    KO_SMALL_PHONE,
    KR,
    font,
    png_bytes,
    render,
)
from veil.audit.store import Ledger
from veil.detect.analyzer import Analyzer
from veil.exceptions import EgressBlocked
from veil.gateway.providers.fake import FakeProvider
from veil.models import Pixels
from veil.verify import payload as payload_module
from veil.verify.base import Verdict, Verifier
from veil.verify.payload import (
    ImagePart,
    PayloadPart,
    SanitizedPayload,
    TextPart,
    canonical_png,
    clear_payload,
    encode_png,
    is_minted,
)

VALUES = (KO_NAME, KO_PHONE, KO_SMALL_PHONE, JA_NAME, "2345", "9876", "山田")
CRITICAL = {b"IHDR", b"IDAT", b"IEND"}


@pytest.fixture(scope="module")
def real_verifier(analyzer: Analyzer) -> Verifier:
    """The verifier `veil analyze` uses by default: Tesseract (ko/ja/fr/en, 2x) + the detectors."""
    from veil.ocr.registry import make_verifier_engine
    from veil.options import Policy
    from veil.verify.rescan import RescanVerifier

    return RescanVerifier(make_verifier_engine(Policy().ocr), analyzer, b"k" * 32)


@pytest.fixture(scope="module")
def redacted_card(tmp_path_factory: pytest.TempPathFactory) -> Pixels:
    """The customer card as veil's own redaction API leaves it."""
    from veil.api import redact_image
    from veil.options import Policy

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VEIL_HOME", str(tmp_path_factory.mktemp("home")))
        pixels, result = redact_image(render(), Policy())
    assert result.findings, "the redaction found nothing on the customer card"
    return pixels


def _parts(image: bytes) -> list[PayloadPart]:
    return [TextPart("instruction", "Describe the steps."), ImagePart("frame-000001", image)]


def _no_value_in(message: str) -> None:
    assert not any(v in message for v in VALUES)


def chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, data) of each PNG chunk, then ("TAIL", rest) if bytes follow IEND."""
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        yield kind, data[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"IEND":
            break
    if at < len(data):
        yield b"TAIL", data[at:]


def _image_of(payload: SanitizedPayload) -> bytes:
    (image,) = payload.image_parts
    return image.png


# --- D: real screens, real verifier ---------------------------------------------------------------


def test_real_verifier_refuses_the_raw_cjk_screen(analyzer: Analyzer, real_verifier: Verifier) -> None:
    with pytest.raises(EgressBlocked, match=r"image part 'frame-000001' contains personal data") as info:
        clear_payload(_parts(png_bytes(render())), analyzer, real_verifier)
    _no_value_in(str(info.value))


SCREENS = {
    "korean phone": ((f"연락처: {KO_PHONE}", KR, 16),),
    "korean phone, small font": ((f"비상 연락처: {KO_SMALL_PHONE}", KR, 13),),
    "korean name and phone": ((f"고객명: {KO_NAME}", KR, 16), (f"연락처: {KO_PHONE}", KR, 16)),
    "japanese name": ((f"氏名：{JA_NAME}", JP, 22),),
    "japanese name, small font": ((f"氏名：{JA_NAME}", JP, 13),),
}


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_real_verifier_refuses_each_value(analyzer: Analyzer, real_verifier: Verifier, screen: str) -> None:
    with pytest.raises(EgressBlocked, match="contains personal data"):
        clear_payload(_parts(png_bytes(render(SCREENS[screen]))), analyzer, real_verifier)


@pytest.mark.parametrize("size", [13, 16, 22, 28])
def test_real_verifier_refuses_a_lone_korean_name_line(
    analyzer: Analyzer, real_verifier: Verifier, size: int
) -> None:
    # Tesseract's page segmentation read nothing (or "H ae où re +") of this screen: the verifier
    # reads again every blob of text-like ink its page read left out or shredded.
    with pytest.raises(EgressBlocked, match="contains personal data"):
        clear_payload(_parts(png_bytes(render(((f"고객명: {KO_NAME}", KR, size),)))), analyzer, real_verifier)


def test_redacted_screen_is_cleared_and_sent(
    analyzer: Analyzer,
    real_verifier: Verifier,
    redacted_card: Pixels,
    make_gateway: Any,
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    payload = clear_payload(_parts(png_bytes(redacted_card)), analyzer, real_verifier)
    fake = FakeProvider()
    answer = make_gateway(providers={"remote": fake}, verifier=real_verifier).send(payload, "remote")
    assert [p.sha256 for p in fake.sent] == [payload.sha256] == [answer.payload_sha256]
    assert [e["kind"] for e in egress_entries(ledger, tmp_path)] == ["egress-intent", "egress-completed"]


def test_raw_screen_is_refused_by_gateway_send(
    analyzer: Analyzer, real_verifier: Verifier, make_gateway: Any, ledger: Ledger, tmp_path: Path
) -> None:
    # Minted with a verifier that finds nothing (a weaker or broken one): the gateway's own
    # re-scan with the real verifier refuses it, and nothing is recorded as sent.
    payload = clear_payload(_parts(png_bytes(render())), analyzer, CleanVerifier())
    fake = FakeProvider()
    with pytest.raises(EgressBlocked, match=r"image part 'frame-000001' contains personal data") as info:
        make_gateway(providers={"remote": fake}, verifier=real_verifier).send(payload, "remote")
    _no_value_in(str(info.value))
    assert fake.sent == [] and ledger.size() == 0


# --- A: forged payloads ---------------------------------------------------------------------------


def _forge_with_token(parts: list[PayloadPart]) -> SanitizedPayload:
    return SanitizedPayload(parts, _mint=payload_module._MINT)


def _forge_with_new(parts: list[PayloadPart]) -> SanitizedPayload:
    forged = object.__new__(SanitizedPayload)
    body = payload_module.canonical_body(parts)
    object.__setattr__(forged, "_parts", tuple(parts))
    object.__setattr__(forged, "_body", body)
    object.__setattr__(forged, "_sha256", hashlib.sha256(body).hexdigest())
    object.__setattr__(forged, "_size", payload_module.payload_size(parts))
    payload_module._MINTED.add(forged)
    return forged


FORGERS = {"private mint token": _forge_with_token, "object.__new__ plus the registry": _forge_with_new}


@pytest.mark.parametrize("how", sorted(FORGERS))
def test_forged_payload_with_a_raw_screen_is_refused(
    how: str, real_verifier: Verifier, make_gateway: Any, ledger: Ledger, tmp_path: Path
) -> None:
    forged = FORGERS[how](_parts(encode_png(render())))
    assert is_minted(forged)  # the forgery passes the type gate: only the re-scan can stop it
    fake = FakeProvider()
    with pytest.raises(EgressBlocked, match=r"image part 'frame-000001' contains personal data"):
        make_gateway(providers={"remote": fake}, verifier=real_verifier).send(forged, "remote")
    assert fake.sent == [] and ledger.size() == 0


@pytest.mark.parametrize("how", sorted(FORGERS))
def test_forged_payload_with_hidden_bytes_is_refused(
    how: str, make_gateway: Any, ledger: Ledger, tmp_path: Path
) -> None:
    # Clean pixels, but a value rides in a text chunk / after IEND: not the canonical encoding.
    hidden = _with_text_chunk(encode_png(render(())), "Comment", f"call {KO_PHONE}")
    for image in (hidden, encode_png(render(())) + KO_PHONE.encode()):
        fake = FakeProvider()
        forged = FORGERS[how](_parts(image))
        with pytest.raises(EgressBlocked, match="not a canonical PNG"):
            make_gateway(providers={"remote": fake}).send(forged, "remote")
        assert fake.sent == []
    assert ledger.size() == 0


def test_gateway_without_a_verifier_refuses_images(
    analyzer: Analyzer, make_payload: Any, ledger: Ledger, no_kill: Path
) -> None:
    from veil.gateway.gateway import Gateway
    from veil.gateway.policy import EgressPolicy

    gateway = Gateway(EgressPolicy(destinations=(destination(),)), ledger, None, analyzer)
    with pytest.raises(EgressBlocked, match="no verifier"):
        gateway.send(make_payload(), "remote")


class _Hangs(Verifier):
    def __init__(self) -> None:
        self.release = threading.Event()

    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        self.release.wait(10)
        return Verdict((), ())


class _Fails(Verifier):
    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        raise RuntimeError("engine died")


@pytest.mark.parametrize("broken", ["error", "timeout"])
def test_gateway_verifier_error_or_timeout_blocks(
    broken: str,
    analyzer: Analyzer,
    make_payload: Any,
    ledger: Ledger,
    store: Any,
    tmp_path: Path,
    no_kill: Path,
) -> None:
    from veil.gateway.gateway import Gateway
    from veil.gateway.policy import EgressPolicy

    verifier: Verifier = _Hangs() if broken == "timeout" else _Fails()
    fake = FakeProvider()
    gateway = Gateway(
        EgressPolicy(destinations=(destination(),)),
        ledger,
        store,
        analyzer,
        providers={"remote": fake},
        verifier=verifier,
        verify_timeout=0.2,
    )
    try:
        with pytest.raises(EgressBlocked, match="could not be verified"):
            gateway.send(make_payload(), "remote")
    finally:
        if isinstance(verifier, _Hangs):
            verifier.release.set()
    assert fake.sent == [] and ledger.size() == 0


def test_clear_payload_verifier_timeout_blocks(analyzer: Analyzer) -> None:
    verifier = _Hangs()
    try:
        with pytest.raises(EgressBlocked, match=r"could not be verified \(EngineTimeout\)"):
            clear_payload(_parts(encode_png(render(()))), analyzer, verifier, timeout_seconds=0.2)
    finally:
        verifier.release.set()


# --- B: data hidden in the image file -------------------------------------------------------------


def _with_text_chunk(png: bytes, key: str, text: str) -> bytes:
    data = key.encode("latin-1") + b"\0" + text.encode("utf-8")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data))
    end = png.rindex(b"IEND") - 4
    return png[:end] + chunk + png[end:]


def _metadata_png() -> bytes:
    image = Image.fromarray(render(()))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Smith")
    info.add_itxt("Description", f"고객 {KO_NAME} {KO_PHONE}")
    exif = Image.Exif()
    exif[0x013B] = "Jane Smith"  # Artist
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, exif=exif.tobytes(), dpi=(144, 144))
    return out.getvalue()


def _metadata_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Jane Smith"
    exif[0x010E] = f"고객 {KO_PHONE}"  # ImageDescription
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}
    out = io.BytesIO()
    Image.fromarray(render(())).save(
        out, format="JPEG", quality=95, exif=exif.tobytes(), comment=b"Jane Smith"
    )
    return out.getvalue()


SMUGGLED = {
    "text chunk": lambda: _with_text_chunk(png_bytes(render(())), "Comment", f"call {KO_PHONE}"),
    "bytes after IEND": lambda: png_bytes(render(())) + f"{KO_NAME} {KO_PHONE}".encode(),
    "png exif, gps and author": _metadata_png,
    "jpeg exif, gps and author": _metadata_jpeg,
}


@pytest.mark.parametrize("how", sorted(SMUGGLED))
def test_hidden_data_never_reaches_the_payload(how: str, analyzer: Analyzer, make_gateway: Any) -> None:
    source = SMUGGLED[how]()
    verifier = CleanVerifier()
    payload = clear_payload(_parts(source), analyzer, verifier)
    sent = _image_of(payload)
    assert [kind for kind, _ in chunks(sent)] == [b"IHDR", b"IDAT", b"IEND"]
    for needle in (KO_PHONE, "Jane Smith", KO_NAME):
        assert needle.encode("utf-8") not in sent and needle.encode("utf-8") not in payload.body
    with Image.open(io.BytesIO(sent)) as image:
        assert image.mode == "RGB" and not image.getexif() and "exif" not in image.info
    # What is hashed and sent is the re-encoding of exactly the pixels the verifier read.
    assert sent == encode_png(np.asarray(Image.open(io.BytesIO(sent))))
    fake = FakeProvider()
    make_gateway(providers={"remote": fake}).send(payload, "remote")
    assert _image_of(fake.sent[0]) == sent


def _alpha_only(text: str) -> bytes:
    """Black RGB everywhere; the text exists only in the alpha channel (opaque strokes on a
    transparent field), so it shows once a viewer composites the image on a light page."""
    alpha = Image.new("L", (640, 70), 0)
    ImageDraw.Draw(alpha).text((20, 20), text, fill=255, font=font(KR, 22))
    rgba = Image.new("RGBA", alpha.size, (0, 0, 0, 0))
    rgba.putalpha(alpha)
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    return out.getvalue()


def test_text_only_in_the_alpha_channel_is_seen_and_refused(
    analyzer: Analyzer, real_verifier: Verifier
) -> None:
    hidden = _alpha_only(f"연락처: {KO_PHONE}")
    # Dropping alpha shows an all-black image: nothing to read. Composited, the phone shows.
    assert not np.asarray(Image.open(io.BytesIO(hidden)).convert("RGB")).any()
    with pytest.raises(EgressBlocked, match=r"image part 'frame-000001' contains personal data.*phone"):
        clear_payload(_parts(hidden), analyzer, real_verifier)


def test_transparency_is_flattened_onto_opaque_white(analyzer: Analyzer) -> None:
    hidden = _alpha_only("ORD-2024-118843")
    sent = _image_of(clear_payload(_parts(hidden), analyzer, CleanVerifier()))
    with Image.open(io.BytesIO(sent)) as image:
        assert image.mode == "RGB"
        pixels = np.asarray(image)
    assert pixels[0, 0].tolist() == [255, 255, 255] and (pixels == 0).all(axis=2).any()
    assert sent == canonical_png(ImagePart("x", hidden))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_input_metadata_never_reaches_an_analyze_payload(
    kind: str, tmp_path: Path, no_kill: Path, analyzer: Analyzer
) -> None:
    """A screenshot with EXIF (GPS, artist, description) and text chunks, through `veil analyze`:
    the payload's image is the bare re-encoding of the redacted pixels."""
    from veil.gateway.analyze import analyze
    from veil.gateway.services import Services

    source = tmp_path / f"screen.{'jpg' if kind == 'jpeg' else 'png'}"
    source.write_bytes(_metadata_jpeg() if kind == "jpeg" else _metadata_png())
    result = analyze(source, "local", None, True, tmp_path / "out", services=Services(analyzer=analyzer))
    assert result.payload_path is not None and result.keyframes
    images = sorted(result.payload_path.glob("*.png"))
    assert len(images) == len(result.keyframes)
    for file in result.payload_path.iterdir():
        data = file.read_bytes()
        for needle in ("Jane Smith", KO_PHONE, KO_NAME):
            assert needle.encode("utf-8") not in data, file.name
    for image in images:
        assert [kind for kind, _ in chunks(image.read_bytes())] == [b"IHDR", b"IDAT", b"IEND"]
