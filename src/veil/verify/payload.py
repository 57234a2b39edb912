"""The one type the egress gateway sends: a payload the verifier has cleared.

`SanitizedPayload` can only be made by `clear_payload`, which re-scans every text part with the
detectors and every image with the verifier (independent OCR + the same detectors); any finding, or
any failure to scan, raises `EgressBlocked` naming the part and the type, never the value.

Images (PNG, or JPEG) are re-encoded from their pixels before they are scanned: transparency is
flattened onto an opaque white background, and the PNG written holds RGB pixels only (no text,
EXIF, ICC or other ancillary chunk, nothing after IEND). The cleared payload carries the re-encoded
bytes, so what the verifier read is exactly what is hashed, recorded and sent.

Python cannot make the mint absolute: code in the same process can reach the private mint token or
build an object with `object.__new__` and add it to the registry. So the gateway trusts nothing the
mint did: right before sending it re-scans the text parts with the detectors and every image part
with the verifier (`scan_text_part`, `scan_image_part`), and refuses an image whose bytes are not
the canonical re-encoding of its own pixels. A forgery thus gets no further than `clear_payload`
would let the same parts go: the same detectors and verifier decide. What it can skip is what
only removes content before the mint (keyframe selection, the text scrubbing of
`veil.gateway.build`); and what the detectors and the verifier cannot find, neither path stops.

The canonical body (what `sha256` hashes, and what the ledger records) is the compact, sorted-key
UTF-8 JSON of

    {"parts": [{"kind": "text", "role": R, "text": T},
               {"kind": "image", "media_type": "image/png", "sha256": H, "size": N}],
     "veil_payload": 1}

in part order, images by the SHA-256 and length of their PNG bytes. It holds exactly what goes on
the wire: an image's role is a local name for messages and is not sent, so it is not hashed either.
Anyone who receives the parts (a provider, an auditor, a test server) can rebuild the body with
`canonical_body` and compare hashes.
`size` is the number of bytes that leave: the UTF-8 length of the text parts plus the PNG bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from veil.detect.analyzer import SupportsAnalyze
from veil.exceptions import EgressBlocked
from veil.models import Pixels
from veil.verify.base import Verifier

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
VERIFY_TIMEOUT = 120.0  # seconds the verifier may take on one image (the OCR default timeout)
PAYLOAD_VERSION = 1
MAX_IMAGE_PIXELS = 40_000_000
# Roles are names chosen by code ("instruction", "frame-000012"), never content: they go on the wire.
_ROLE = re.compile(r"[a-z][a-z0-9-]{0,39}")


# What `clear_payload` needs of `veil.detect.analyzer.Analyzer`.
TextAnalyzer = SupportsAnalyze


@dataclass(frozen=True, slots=True)
class TextPart:
    role: str
    text: str

    def __repr__(self) -> str:
        return f"TextPart(role={self.role!r}, chars={len(self.text)})"


@dataclass(frozen=True, slots=True)
class ImagePart:
    role: str
    png: bytes

    def __repr__(self) -> str:
        return f"ImagePart(role={self.role!r}, bytes={len(self.png)})"


PayloadPart = TextPart | ImagePart


def canonical_body(parts: Iterable[PayloadPart]) -> bytes:
    """The exact bytes `SanitizedPayload.sha256` hashes (see the module docstring)."""
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            out.append({"kind": "text", "role": part.role, "text": part.text})
        else:
            out.append(
                {
                    "kind": "image",
                    "media_type": "image/png",
                    "sha256": hashlib.sha256(part.png).hexdigest(),
                    "size": len(part.png),
                }
            )
    doc = {"veil_payload": PAYLOAD_VERSION, "parts": out}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def payload_size(parts: Iterable[PayloadPart]) -> int:
    return sum(len(p.text.encode("utf-8")) if isinstance(p, TextPart) else len(p.png) for p in parts)


_MINT = object()
_MINTED: weakref.WeakSet[SanitizedPayload] = weakref.WeakSet()


class SanitizedPayload:
    """Immutable parts that passed `clear_payload`. Not picklable or copyable (a copy would not be
    minted); compare payloads by `sha256`."""

    __slots__ = ("__weakref__", "_body", "_parts", "_sha256", "_size")
    _parts: tuple[PayloadPart, ...]
    _body: bytes
    _sha256: str
    _size: int

    def __init__(self, parts: Sequence[PayloadPart], *, _mint: object = None) -> None:
        if _mint is not _MINT:
            raise EgressBlocked("a SanitizedPayload can only be made by veil.verify.payload.clear_payload")
        frozen = tuple(parts)
        body = canonical_body(frozen)
        object.__setattr__(self, "_parts", frozen)
        object.__setattr__(self, "_body", body)
        object.__setattr__(self, "_sha256", hashlib.sha256(body).hexdigest())
        object.__setattr__(self, "_size", payload_size(frozen))
        _MINTED.add(self)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SanitizedPayload is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("SanitizedPayload is immutable")

    def __reduce_ex__(self, protocol: object) -> Any:
        raise TypeError("a SanitizedPayload cannot be pickled or copied; clear the parts again")

    def __repr__(self) -> str:
        return f"SanitizedPayload(sha256={self._sha256[:12]}…, parts={len(self._parts)}, size={self._size})"

    @property
    def parts(self) -> tuple[PayloadPart, ...]:
        return self._parts

    @property
    def text_parts(self) -> tuple[TextPart, ...]:
        return tuple(p for p in self._parts if isinstance(p, TextPart))

    @property
    def image_parts(self) -> tuple[ImagePart, ...]:
        return tuple(p for p in self._parts if isinstance(p, ImagePart))

    @property
    def body(self) -> bytes:
        """The canonical serialised body (see the module docstring)."""
        return self._body

    @property
    def sha256(self) -> str:
        return self._sha256

    @property
    def size(self) -> int:
        return self._size

    def intact(self) -> bool:
        """True if the parts still hash to the recorded digest (a guard against tampering)."""
        parts = object.__getattribute__(self, "_parts")
        return hashlib.sha256(canonical_body(parts)).hexdigest() == self._sha256


def is_minted(obj: object) -> bool:
    """True only for an unaltered SanitizedPayload made by `clear_payload` in this process."""
    if type(obj) is not SanitizedPayload:
        return False
    try:
        return obj in _MINTED and obj.intact()
    except AttributeError:  # made with object.__new__: its slots were never set
        return False


def clear_payload(
    parts: Sequence[PayloadPart],
    analyzer: TextAnalyzer,
    verifier: Verifier,
    timeout_seconds: float = VERIFY_TIMEOUT,
) -> SanitizedPayload:
    """Re-scan every part; return a SanitizedPayload holding the text parts as given and each image
    re-encoded from its pixels (`canonical_png`), or raise EgressBlocked naming the first part that
    holds personal data (by role and type) or that could not be scanned in `timeout_seconds`."""
    if not parts:
        raise EgressBlocked("an empty payload is not sent")
    seen: set[str] = set()
    cleared: list[PayloadPart] = []
    for part in parts:
        _check_role(part, seen)
        if isinstance(part, TextPart):
            scan_text_part(part, analyzer)
            cleared.append(part)
        elif isinstance(part, ImagePart):
            pixels = decode_image(part)
            _verify_pixels(part.role, pixels, verifier, len(seen) - 1, timeout_seconds)
            cleared.append(ImagePart(part.role, encode_png(pixels)))
        else:
            raise EgressBlocked(f"payload part of type {type(part).__name__} is not a text or image part")
    return SanitizedPayload(cleared, _mint=_MINT)


def _check_role(part: object, seen: set[str]) -> None:
    role = getattr(part, "role", None)
    if not isinstance(role, str) or not _ROLE.fullmatch(role):
        raise EgressBlocked("payload part role must be a short lowercase name such as 'frame-12'")
    if role in seen:
        raise EgressBlocked(f"payload part role '{role}' is used twice")
    seen.add(role)


def scan_text_part(part: TextPart, analyzer: TextAnalyzer) -> None:
    """EgressBlocked if the analyzer finds anything in the text, as a whole or line by line (a line
    scanned alone cannot borrow a neighbour's context to look harmless), or fails."""
    if not isinstance(part.text, str):
        raise EgressBlocked(f"text part '{part.role}' is not a string")
    try:
        spans = list(analyzer.analyze(part.text))
        lines = part.text.splitlines()
        if len(lines) > 1:
            previous = ""
            for line in lines:
                spans.extend(analyzer.analyze(line, previous))
                previous = line
    except Exception as exc:  # noqa: BLE001 - any scan failure blocks the send
        raise EgressBlocked(
            f"text part '{part.role}' could not be re-scanned ({type(exc).__name__})"
        ) from None
    if spans:
        types = ", ".join(sorted({s.type for s in spans}))
        raise EgressBlocked(f"text part '{part.role}' contains personal data of type(s): {types}")


def decode_image(part: ImagePart) -> Pixels:
    """The RGB pixels a PNG or JPEG part shows, transparency flattened onto opaque white (so what
    only the alpha channel drew is in the pixels); EgressBlocked if it is neither or unreadable."""
    data = part.png
    if not isinstance(data, bytes) or not data.startswith((PNG_SIGNATURE, JPEG_SIGNATURE)):
        raise EgressBlocked(f"image part '{part.role}' is not PNG or JPEG")
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise EgressBlocked(f"image part '{part.role}' is too large to verify")
            return np.ascontiguousarray(np.asarray(_flattened(image), dtype=np.uint8))
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise EgressBlocked(f"image part '{part.role}' cannot be decoded ({type(exc).__name__})") from None


def _flattened(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return image.convert("RGB")


def encode_png(pixels: Pixels) -> bytes:
    """RGB pixels as a PNG with the critical chunks only (IHDR, IDAT, IEND)."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[:, :, :3], dtype=np.uint8), "RGB").save(
        out, format="PNG", optimize=False, compress_level=6
    )
    return out.getvalue()


def canonical_png(part: ImagePart) -> bytes:
    """The part's image re-encoded from its flattened RGB pixels alone: no ancillary chunk (text,
    EXIF, ICC, time), nothing after the image end, no alpha channel."""
    return encode_png(decode_image(part))


def scan_image_part(
    part: ImagePart, verifier: Verifier, index: int, timeout_seconds: float = VERIFY_TIMEOUT
) -> None:
    """EgressBlocked unless `part` is a canonical PNG (`canonical_png` of itself) whose pixels the
    verifier reads in time and finds nothing in."""
    pixels = decode_image(part)
    if encode_png(pixels) != part.png:
        raise EgressBlocked(
            f"image part '{part.role}' is not a canonical PNG (extra chunks, trailing bytes or alpha)"
        )
    _verify_pixels(part.role, pixels, verifier, index, timeout_seconds)


def _verify_pixels(role: str, pixels: Pixels, verifier: Verifier, index: int, timeout_seconds: float) -> None:
    from veil.pipeline import call_with_timeout  # the pipeline's own fail-closed timeout

    try:
        verdict = call_with_timeout(lambda: verifier.check(pixels, index), timeout_seconds, "verifier")
    except Exception as exc:  # noqa: BLE001 - an OCR or detector failure or timeout blocks the send
        raise EgressBlocked(f"image part '{role}' could not be verified ({type(exc).__name__})") from None
    if verdict.findings:
        types = ", ".join(sorted({f.type for f in verdict.findings}))
        raise EgressBlocked(f"image part '{role}' contains personal data of type(s): {types}")
