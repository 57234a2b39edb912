"""The redactor interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from veil.models import Finding, Pixels


class Redactor(ABC):
    name: str = "abstract"
    draws_labels: bool = False  # whether masks carry pseudonym text the verifier may read
    margin_px: int = 0
    fill_color: tuple[int, int, int] | None = None  # the masks' colour, when they are solid

    @abstractmethod
    def apply(self, pixels: Pixels, findings: Sequence[Finding]) -> Pixels:
        """Return a new image with every finding's boxes covered; `pixels` is not modified."""

    @abstractmethod
    def mask_whole(self, pixels: Pixels) -> Pixels:
        """Return an image of the same size with nothing of `pixels` left."""
