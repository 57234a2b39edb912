"""Scores one redacted browser frame against the DOM truth, independently of the redactor.

Ink rule: a value counts as hidden when at least 95 % of its glyph ink (pixels of the original
frame, inside its boxes, that differ from the local background) is covered on the output by a
solid fill (`veil.synth.score.fill_mask`: the changed regions painted in one colour). A decoy
counts as masked when half its ink is covered. Masked area outside personal data is the covered
area farther than 8 px from every personal value's box (shown or not), as a share of all covered
area. Text-layer quality: character error rate of the sanitized text layer against the DOM's
non-personal words that the output leaves uncovered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.browser.render import Mark, Shot, Word
from veil.models import Box, Pixels
from veil.synth.score import DEFAULT_TOLERANCE_PX, Mask, fill_mask

HIDDEN_SHARE = 0.95
DECOY_MASKED_SHARE = 0.5
INK_DELTA = 48  # max channel difference from the background that counts as ink
_PLACEHOLDER = re.compile(r"<[a-z_]+(?::[0-9a-f]+)?>")


@dataclass(frozen=True, slots=True)
class ValueOutcome:
    """One value or decoy on one frame, as one redactor left it (no text, only where and what)."""

    template: str
    language: str
    kind: str
    decoy: bool
    listed: str
    partial: bool
    masked_whole: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    outcomes: tuple[ValueOutcome, ...]
    masked_px: int
    outside_px: int
    masked_whole: bool
    seconds: float
    cer_errors: int = 0  # edit distance of the text layer to the uncovered DOM words
    cer_chars: int = 0  # characters in those words
    motion: str = "still"  # the screen's: still, typed or scrolled


def ink_mask(before: Pixels, box: Box) -> npt.NDArray[np.bool_]:
    """Pixels inside `box` that differ from its background (the commonest colour on its edge)."""
    region = before[box.y : box.y2, box.x : box.x2].astype(np.int16)
    if region.size == 0:
        return np.zeros((0, 0), dtype=bool)
    edge = np.concatenate([region[0], region[-1], region[:, 0], region[:, -1]])
    colours, counts = np.unique(edge, axis=0, return_counts=True)
    background = colours[int(np.argmax(counts))]
    return np.asarray(np.abs(region - background).max(axis=2) > INK_DELTA)


def covered_ink_share(before: Pixels, covered: Mask, parts: Iterable[Box]) -> float | None:
    """The share of a value's ink that `covered` hides; None when its boxes hold no ink."""
    height, width = covered.shape
    ink = hid = 0
    for part in parts:
        box = part.clip(width, height)
        if not box.area:
            continue
        mask = ink_mask(before, box)
        ink += int(mask.sum())
        hid += int((mask & covered[box.y : box.y2, box.x : box.x2]).sum())
    return hid / ink if ink else None


def personal_zone(marks: Iterable[Mark], shape: tuple[int, int]) -> Mask:
    height, width = shape
    zone = np.zeros(shape, dtype=bool)
    for mark in marks:
        if mark.decoy:
            continue
        for part in mark.parts:
            b = part.grow(DEFAULT_TOLERANCE_PX).clip(width, height)
            zone[b.y : b.y2, b.x : b.x2] = True
    return zone


def score_frame(
    shot: Shot,
    after: Pixels,
    masked_whole: bool,
    seconds: float,
    layer: Sequence[tuple[Box, str]] | None = None,
) -> FrameOutcome:
    """Every shown value and decoy of `shot`, hidden or not on `after`, the masked area, and
    when a text `layer` is given (and the frame was delivered) its character errors."""
    covered = fill_mask(shot.pixels, after)
    outcomes = []
    leaked: list[Box] = []
    for mark in shot.marks:
        if not mark.shown:
            continue
        share = covered_ink_share(shot.pixels, covered, mark.parts)
        if share is None:
            continue
        hidden = share >= (DECOY_MASKED_SHARE if mark.decoy else HIDDEN_SHARE)
        if not mark.decoy and not hidden:
            leaked.extend(mark.parts)
        outcomes.append(
            ValueOutcome(
                shot.spec.template,
                shot.spec.language,
                mark.kind,
                mark.decoy,
                mark.listed,
                mark.partial,
                masked_whole,
                hidden,
            )
        )
    zone = personal_zone(shot.marks, covered.shape)
    errors, chars = (0, 0)
    if layer is not None and not masked_whole:
        errors, chars = text_errors(shot.words, layer, covered, leaked)
    return FrameOutcome(
        tuple(outcomes),
        int(covered.sum()),
        int((covered & ~zone).sum()),
        masked_whole,
        seconds,
        errors,
        chars,
        shot.spec.motion,
    )


def _rows(items: Sequence[tuple[Box, str]]) -> str:
    """Items grouped into visual rows (by vertical centre), each row read left to right, with
    whitespace dropped (OCR and the DOM space CJK text differently)."""
    ordered = sorted(items, key=lambda it: it[0].y + it[0].h / 2)
    rows: list[list[tuple[Box, str]]] = []
    for box, text in ordered:
        centre = box.y + box.h / 2
        if rows:
            first = rows[-1][0][0]
            if abs(centre - (first.y + first.h / 2)) <= 0.5 * max(first.h, box.h):
                rows[-1].append((box, text))
                continue
        rows.append([(box, text)])
    return "".join("".join(t for _, t in sorted(row, key=lambda it: it[0].x)) for row in rows)


def _whitespace_free(text: str) -> str:
    return re.sub(r"\s+", "", text)


def text_errors(
    words: Iterable[Word], layer: Iterable[tuple[Box, str]], covered: Mask, leaked: Sequence[Box] = ()
) -> tuple[int, int]:
    """(edit distance, reference characters) of the text layer, placeholders dropped, against the
    DOM's non-personal words that the output leaves uncovered. Matched by place, not by reading
    order: each layer line is compared with the words whose centres lie in its box; words no line
    claims count as deleted. Lines lying mostly on `leaked` values (personal values the redactor
    missed: counted in recall already) are left out; a missed value inside a longer line counts
    as inserted characters."""
    from rapidfuzz.distance import Levenshtein

    reference = []
    for word in words:
        region = covered[word.box.y : word.box.y2, word.box.x : word.box.x2]
        if region.size and region.mean() < 0.5:
            reference.append((word.box, _whitespace_free(word.text)))
    centres = np.array([(b.x + b.w / 2, b.y + b.h / 2) for b, _ in reference]).reshape(-1, 2)
    free = np.ones(len(reference), dtype=bool)
    leak = np.zeros(covered.shape, dtype=bool)
    for b in leaked:
        c = b.clip(leak.shape[1], leak.shape[0])
        leak[c.y : c.y2, c.x : c.x2] = True
    errors = 0
    for box, text in layer:
        hyp = _whitespace_free(_PLACEHOLDER.sub("", text))
        on_leak = leak[max(box.y, 0) : box.y2, max(box.x, 0) : box.x2]
        if not hyp or (on_leak.size and on_leak.mean() >= 0.5):
            continue
        g = box.grow(3)
        inside = (
            free
            & (centres[:, 0] >= g.x)
            & (centres[:, 0] < g.x2)
            & (centres[:, 1] >= g.y)
            & (centres[:, 1] < g.y2)
        )
        free &= ~inside
        errors += int(Levenshtein.distance(_rows([reference[k] for k in np.flatnonzero(inside)]), hyp))
    errors += sum(len(reference[k][1]) for k in np.flatnonzero(free))
    return errors, sum(len(t) for _, t in reference)
