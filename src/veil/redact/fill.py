"""Solid fill with a margin. Blur and pixelation are reversible enough to read digits back, so the
only redaction is an opaque box of one colour over the whole finding plus a margin."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from veil.models import Box, Finding, Pixels
from veil.options import RedactOptions
from veil.redact.base import Redactor
from veil.redact.pseudonym import Pseudonyms, label_font


class FillRedactor(Redactor):
    name = "fill"

    def __init__(self, options: RedactOptions | None = None) -> None:
        self.options = options or RedactOptions()
        self.pseudonyms = Pseudonyms()
        self.draws_labels = self.options.labels
        self.margin_px = self.options.margin_px
        self.fill_color = self.options.color
        self._whole: Pixels | None = None

    def apply(self, pixels: Pixels, findings: Sequence[Finding]) -> Pixels:
        out = pixels.copy()
        height, width = out.shape[:2]
        color = np.array(self.options.color, dtype=np.uint8)
        labelled: list[tuple[Box, str]] = []
        for finding in findings:
            for box in finding.boxes:
                b = box.grow(self.options.margin_px).clip(width, height)
                if b.area:
                    out[b.y : b.y2, b.x : b.x2] = color
                    if self.options.labels:
                        labelled.append((b, self.pseudonyms.label(finding)))
        return self._draw_labels(out, labelled) if labelled else out

    def _draw_labels(self, pixels: Pixels, labelled: list[tuple[Box, str]]) -> Pixels:
        """Write each label inside its (already opaque) mask, clipped to it."""
        image = Image.fromarray(pixels)
        draw = ImageDraw.Draw(image)
        ink = tuple(255 - c for c in self.options.color)
        for box, text in labelled:
            size = max(min(box.h - 4, 16), 8)
            font = label_font(size)
            if draw.textlength(text, font=font) > box.w - 4:
                continue  # a label that does not fit is left out: the mask is what matters
            draw.text((box.x + 2, box.y + (box.h - size) // 2 - 1), text, fill=ink, font=font)
        return np.asarray(image, dtype=np.uint8).copy()

    def mask_whole(self, pixels: Pixels) -> Pixels:
        """A solid frame of `pixels`' shape, read-only: the same array for every frame of that
        shape (a run of frames masked whole costs one fill, and the video sink converts it once)."""
        if self._whole is None or self._whole.shape != pixels.shape:
            out = np.empty(pixels.shape, np.uint8)
            out[...] = np.array(self.options.color, dtype=np.uint8)
            out.flags.writeable = False
            self._whole = out
        return self._whole
