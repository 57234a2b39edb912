"""Face pictures for the meeting panes: scikit-image's public-domain astronaut portrait, as a data URI."""

from __future__ import annotations

import base64
import io

from PIL import Image

from veil.synth.people import face_picture


def face_data_uri(face_px: int, mirrored: bool = False) -> tuple[str, tuple[int, int, int, int]]:
    """A PNG data URI of a head-and-shoulders crop whose face is `face_px` high, and the face's
    box (x, y, w, h) in the picture's CSS pixels."""
    pixels, face = face_picture(face_px, mirrored=mirrored)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return uri, (face.x, face.y, face.w, face.h)
