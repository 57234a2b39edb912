"""The one OCR engine interface. Engines are registered by name in `veil.ocr.registry`."""

from __future__ import annotations

from abc import ABC, abstractmethod

from veil.models import Pixels, TextLine


class OcrEngine(ABC):
    """Reads an RGB image and returns its text lines, each with one box per character.

    Coordinates are in the pixels of the image given. An engine raises `veil.exceptions.EngineError`
    (or `EngineTimeout`) when it cannot read the image; it never returns a partial result silently.
    """

    name: str = "abstract"

    @abstractmethod
    def read(self, pixels: Pixels) -> list[TextLine]:
        """Recognise all text lines of `pixels` (H x W x 3 uint8, RGB)."""

    def read_part(self, pixels: Pixels) -> list[TextLine]:
        """`read` for a crop cut from a larger frame (a changed band of a screen recording): its
        text stands at the frame's scale, so an engine that enlarges small images to find their
        text must not enlarge it (reading it exactly as in the whole frame, at a fraction of the
        cost). Engines without such a rule read it as any image."""
        return self.read(pixels)


# The verifier's second readings (see `veil.ocr.tess`) of ink its page read left out or shredded:
# for the detectors, not the text layer.
REREAD_ENGINE = "tesseract-reread"
