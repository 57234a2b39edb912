"""Solid fill with a margin. Blur and pixelation are reversible enough to read digits back, so the
only redaction is an opaque box of one colour over the whole finding plus a margin."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from veil.models import Finding, Pixels
from veil.options import RedactOptions
from veil.redact.base import Redactor


class FillRedactor(Redactor):
    name = "fill"

    def __init__(self, options: RedactOptions | None = None) -> None:
        self.options = options or RedactOptions()

    def apply(self, pixels: Pixels, findings: Sequence[Finding]) -> Pixels:
        out = pixels.copy()
        height, width = out.shape[:2]
        color = np.array(self.options.color, dtype=np.uint8)
        for finding in findings:
            for box in finding.boxes:
                b = box.grow(self.options.margin_px).clip(width, height)
                if b.area:
                    out[b.y : b.y2, b.x : b.x2] = color
        return out

    def mask_whole(self, pixels: Pixels) -> Pixels:
        out = np.empty_like(pixels)
        out[...] = np.array(self.options.color, dtype=np.uint8)
        return out
