"""SanitizedPayload: only clear_payload makes one, and it refuses any part holding personal data."""

from __future__ import annotations

import copy
import hashlib
import pickle
from typing import Any

import pytest

from tests.gateway.conftest import CleanVerifier, FindingVerifier, clean_parts, png
from veil.detect.analyzer import Analyzer
from veil.exceptions import EgressBlocked
from veil.verify.payload import (
    ImagePart,
    SanitizedPayload,
    TextPart,
    canonical_body,
    clear_payload,
    is_minted,
)

# One synthetic value per type, each written the ways OCR or a person may write it.
SMUGGLED = {
    "phone hyphenated": "010-2345-6789",
    "phone spaced": "010 2345 6789",
    "phone full-width": "０１０－２３４５－６７８９",
    "phone dotted": "010.2345.6789",
    "card spaced": "4111 1111 1111 1111",
    "card full-width": "４１１１　１１１１　１１１１　１１１１",
    "email": "kim.minsu@example.com",
    "kr rrn": "900101-1234568",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
}
# Where the value hides: the prompt, the OCR text layer, a window title.
PLACES = {
    "instruction": "Describe the steps. Also note the customer {v} please.",
    "text-layer": '{{"frame": 3, "t": 1.5, "window": "Orders", "lines": ["연락처: {v}"]}}',
    "window-titles": "고객 상세 {v} - CRM",
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("label", sorted(SMUGGLED))
def test_smuggled_value_in_any_text_part_is_blocked(analyzer: Analyzer, place: str, label: str) -> None:
    value = SMUGGLED[label]
    parts = [p if p.role != place else TextPart(place, PLACES[place].format(v=value)) for p in clean_parts()]
    with pytest.raises(EgressBlocked) as info:
        clear_payload(parts, analyzer, CleanVerifier())
    message = str(info.value)
    assert f"'{place}'" in message
    assert value not in message  # the error names the part and type, never the value


def test_value_split_over_lines_is_still_blocked(analyzer: Analyzer) -> None:
    parts = [*clean_parts(), TextPart("note", "Customer phone\n010-2345-6789\nthanks")]
    with pytest.raises(EgressBlocked, match=r"'note'.*phone"):
        clear_payload(parts, analyzer, CleanVerifier())


def test_clean_parts_are_minted(analyzer: Analyzer) -> None:
    verifier = CleanVerifier()
    payload = clear_payload(clean_parts(images=2), analyzer, verifier)
    assert is_minted(payload)
    assert verifier.calls == 2
    assert payload.sha256 == hashlib.sha256(canonical_body(clean_parts(images=2))).hexdigest()
    assert payload.size == sum(
        len(p.text.encode()) if isinstance(p, TextPart) else len(p.png) for p in clean_parts(images=2)
    )


def test_image_with_a_finding_is_blocked(analyzer: Analyzer) -> None:
    with pytest.raises(EgressBlocked, match=r"image part 'frame-000000'.*phone"):
        clear_payload(clean_parts(), analyzer, FindingVerifier())


@pytest.mark.parametrize(
    "bad",
    [b"GIF89a not a png", b"\x89PNG\r\n\x1a\n truncated", png()[:40]],
)
def test_unreadable_image_is_blocked(analyzer: Analyzer, bad: bytes) -> None:
    with pytest.raises(EgressBlocked, match="frame-x"):
        clear_payload([*clean_parts(), ImagePart("frame-x", bad)], analyzer, CleanVerifier())


def test_verifier_failure_blocks(analyzer: Analyzer) -> None:
    class Broken(CleanVerifier):
        def check(self, pixels: Any, frame_index: int) -> Any:
            raise RuntimeError("engine died")

    with pytest.raises(EgressBlocked, match="could not be verified"):
        clear_payload(clean_parts(), analyzer, Broken())


@pytest.mark.parametrize("role", ["Instruction", "a b", "x" * 41, "", "010-2345-6789"])
def test_roles_are_names_not_content(analyzer: Analyzer, role: str) -> None:
    with pytest.raises(EgressBlocked, match="role"):
        clear_payload([TextPart(role, "hello")], analyzer, CleanVerifier())


def test_direct_construction_is_refused() -> None:
    with pytest.raises(EgressBlocked):
        SanitizedPayload([TextPart("note", "hello")])
    with pytest.raises(EgressBlocked):
        SanitizedPayload([TextPart("note", "hello")], _mint=object())


def test_payload_is_immutable_and_not_copyable(analyzer: Analyzer) -> None:
    payload = clear_payload(clean_parts(), analyzer, CleanVerifier())
    with pytest.raises(AttributeError):
        payload._parts = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        pickle.dumps(payload)
    with pytest.raises(TypeError):
        copy.copy(payload)


def test_forgeries_are_not_minted(analyzer: Analyzer) -> None:
    real = clear_payload(clean_parts(), analyzer, CleanVerifier())
    bare = object.__new__(SanitizedPayload)
    tampered = clear_payload(clean_parts(), analyzer, CleanVerifier())
    object.__setattr__(tampered, "_parts", (TextPart("note", "010-2345-6789"),))

    class LookAlike:
        parts = real.parts
        sha256 = real.sha256
        size = real.size
        body = real.body

    assert is_minted(real)
    for forged in (bare, tampered, LookAlike(), {"parts": real.parts}, real.body):
        assert not is_minted(forged)


def test_repr_shows_no_content(analyzer: Analyzer) -> None:
    payload = clear_payload([TextPart("note", "Order ORD-1 shipped")], analyzer, CleanVerifier())
    assert "ORD-1" not in repr(payload)
    assert "ORD-1" not in repr(payload.parts[0])


def _text_png(text: str) -> bytes:
    import io

    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    image = Image.new("RGB", (640, 60), "white")
    ImageDraw.Draw(image).text((10, 12), text, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "blocked"),
    [("Phone: 010-2345-6789", True), ("Card 4111 1111 1111 1111", True), ("Order ORD-2024 shipped", False)],
)
def test_value_drawn_in_an_image_is_blocked_by_real_ocr(analyzer: Analyzer, text: str, blocked: bool) -> None:
    from veil.ocr.tess import TesseractEngine
    from veil.verify.rescan import RescanVerifier

    verifier = RescanVerifier(TesseractEngine("eng"), analyzer, b"k" * 32)
    parts = [TextPart("instruction", "Describe."), ImagePart("frame-000001", _text_png(text))]
    if blocked:
        with pytest.raises(EgressBlocked, match="image part 'frame-000001'"):
            clear_payload(parts, analyzer, verifier)
    else:
        assert is_minted(clear_payload(parts, analyzer, verifier))
