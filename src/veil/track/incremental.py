"""The incremental path: OCR only what changed since the previous frame.

Per frame: diff against the previous frame; if a region scrolled (up, down or sideways), shift its
known lines instead of re-reading them, except what stays in view of a line the region's edge cuts;
merge what still changed into rectangles grown to whole text lines; OCR and verify only those
rectangles (faces: crops around them, each holding whole any known face it touches);
run the detectors over all lines (kept + new) so labels and headers outside a rectangle still give
context. Lines, and so findings, outside the rectangles carry over: a mask stays on until the
pixels under it change, so a value seen once is masked in every frame it stays visible.
A frame whose pixels are those of one of the last few frames read is that frame's outcome again;
a frame too changed to track from the previous one is tracked from the closest of them, if one is
close enough (`veil.track.seen`: a window switched back to).

Fail-closed rules are those of the full path (`FramePipeline`), whose stage methods this reuses.
A frame whose change is too large (window switch, repaint), the first frame, the frame after one
masked for a failure, and every `refresh_every`-th frame go through the full path. A frame masked
for a verifier residual was read completely: the next frame is tracked from that reading, and
stays masked while the residual is on screen.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from veil.models import Box, Finding, Frame, FrameResult, MaskReason, Pixels, TextLine
from veil.pipeline import (
    FrameOutcome,
    FramePipeline,
    Reading,
    StageFailure,
    frame_digest,
    retarget,
    text_layer,
    verifier_masks,
)
from veil.track.diff import changed_mask, dirty_boxes, grow_and_merge, reached_lines, regions
from veil.track.scroll import Shift, detect_scroll, exposed_strip, shifted
from veil.track.seen import Seen, SeenFrames
from veil.verify.rescan import mask_cells, outside_masks

BAND_MARGIN = 6
FACE_MARGIN = 16  # pixels around a change searched for a face, at least
BAND_CACHE_SIZE = 512
MIN_SCROLL_REGION = 120
STRIP_OVERLAP = 24  # pixels of the scrolled content next to the exposed strip read with it, at least
RECHECK_NEAR = 24  # pixels around a mask the verifier's finding added that are read again, at least
VERIFY_EVERY = 30  # incremental frames between two re-scans of the whole redacted frame
# A plan re-reading more than this share of the frame is compared with plans against the closest
# `SEEN_TRIES` frames seen before (see `veil.track.seen`).
SEEN_WORTH = 0.1
SEEN_TRIES = 2


def _carried_findings(last: FrameOutcome, plan: _Plan, index: int, found: Sequence[Finding]) -> list[Finding]:
    """The last frame's masks where nothing was re-read, carried whether or not this frame's
    detection finds them again (faces apart: `_faces` tracks them). Their pixels did not change,
    or moved unchanged with a scroll, so the value under each is still there; but detection reads
    a line in the context of the others (a table's header, its columns, the row's other cells),
    and the incremental path's lines are not the full read's: a name found in the last frame may
    not be found again in this one. The verifier's own masks (see `FramePipeline.on_residual`) are
    carried the same way: the primary pass never finds those. A scroll moves the masks inside the
    scrolled region with its content; a mask the region's edge cuts as its content leaves view
    keeps what stays in view (its line is not read again: `_shift_lines`), and after a scroll a
    mask whose pixels did not change stays though a rectangle re-read around it does not find the
    value again (a name half under a sticky header, read with the header); a mask a new finding
    already covers is not repeated."""
    out = []
    for f in last.result.findings:
        if f.type == "face":
            continue
        boxes = f.boxes
        if plan.region is not None and any(b.intersection_area(plan.region) for b in boxes):
            if plan.shift is None:
                continue
            boxes = _scrolled_boxes(boxes, plan.region, plan.shift)
            if not boxes:
                continue
        reread = reached_lines(plan.rects, boxes)  # read again this frame: found again or gone
        if any(hit and not _unchanged(b, plan) for b, hit in zip(boxes, reread, strict=True)):
            continue
        if _covered(boxes, found):
            continue
        out.append(replace(f, boxes=boxes, frame_index=index))
    return out


def _unchanged(box: Box, plan: _Plan) -> bool:
    """Whether a scroll left every pixel under `box` as it was (moved with the content): the value
    there is the one masked before, whatever re-reading the rectangle around it finds."""
    if plan.changed is None:
        return False
    height, width = plan.changed.shape
    inside = box.clip(width, height)  # a mask may reach past the frame's edge
    return inside.area > 0 and not plan.changed[inside.y : inside.y2, inside.x : inside.x2].any()


def _scrolled_boxes(boxes: Sequence[Box], region: Box, shift: Shift) -> tuple[Box, ...]:
    """A mask's boxes after `region` scrolled by `shift`, each on its own line of the value (a
    wrapped cell's name has one per line): inside the region, moved with the content and cut to
    it; straddling its edge before, dropped (that line is read again); outside it, unmoved."""
    out = []
    for b in boxes:
        if region.contains(b):
            c = _inside(b.moved(-shift.dx, -shift.dy), region)
            if c.w > 0 and c.h > 0:
                out.append(c)
        elif not region.intersection_area(b):
            out.append(b)
    return tuple(out)


def _area(rects: Sequence[Box]) -> int:
    return sum(r.area for r in rects)


def _covered(boxes: Sequence[Box], found: Sequence[Finding]) -> bool:
    """Whether every box is at least half inside one box of `found`."""
    return all(any(2 * b.intersection_area(o) >= b.area for f in found for o in f.boxes) for b in boxes)


def _not_reread(lines: Sequence[TextLine], rects: Sequence[Box]) -> list[TextLine]:
    """The `lines` re-reading `rects` does not re-read (see `veil.track.diff.regions`)."""
    hit = reached_lines(rects, [ln.box for ln in lines])
    return [ln for ln, reread in zip(lines, hit, strict=True) if not reread]


def _shift_lines(
    lines: Sequence[TextLine], region: Box, shift: Shift, width: int, height: int
) -> tuple[list[TextLine], list[Box], list[Box]]:
    """Lines inside the scrolled region move with its content; those scrolled out of it are dropped.
    Also returns the boxes of the lines that straddle the region's edge before the shift (part
    stayed, part moved: read again), and what stays in view of the lines the region's edge cuts
    as the content leaves by it. That is ink read before, and less of it: the primary pass does
    not read it again (the masks on it are carried, cut to the region: `_carried_findings`); the
    verifier does (a phone number's last digits are as readable as the whole)."""
    kept: list[TextLine] = []
    straddling: list[Box] = []
    leaving: list[Box] = []
    for ln in lines:
        if not region.contains(ln.box):
            if region.intersection_area(ln.box) == 0:
                kept.append(ln)
            else:  # straddles the region's edge: part stayed, part moved with the region
                straddling.append(ln.box.clip(width, height))
                moved = ln.moved(-shift.dx, -shift.dy)
                if region.intersection_area(moved.box):
                    straddling.append(_inside(moved.box, region))
            continue
        moved = ln.moved(-shift.dx, -shift.dy)
        if region.contains(moved.box):
            kept.append(moved)
        elif region.intersection_area(moved.box):
            leaving.append(_inside(moved.box, region))
    return kept, straddling, leaving


def _strip_to_read(region: Box, shift: Shift, lines: Sequence[TextLine]) -> Box:
    """The strip that scrolled into view, grown into the region by a line and a half: the line the
    viewport's edge cut in the last frame (only its top showed; read as something else, or not at
    all) now straddles the strip's inner edge, and must be read whole, not as two halves."""
    strip = exposed_strip(region, shift)
    heights = sorted(ln.box.h for ln in lines)
    grow = max(STRIP_OVERLAP, heights[len(heights) // 2] * 3 // 2) if heights else STRIP_OVERLAP
    if shift.dy > 0:
        grown = Box(strip.x, strip.y - grow, strip.w, strip.h + grow)
    elif shift.dy < 0:
        grown = Box(strip.x, strip.y, strip.w, strip.h + grow)
    elif shift.dx > 0:
        grown = Box(strip.x - grow, strip.y, strip.w + grow, strip.h)
    else:
        grown = Box(strip.x, strip.y, strip.w + grow, strip.h)
    return _inside(grown, region)


def _with_marked(mask: np.ndarray, marked: Sequence[Box]) -> np.ndarray:
    """`mask` with the `marked` boxes (scrolled into view, or left of a line the scroll cut)
    counted as changed whatever the pixels say."""
    if not marked:
        return mask
    mask = mask.copy()
    for box in marked:
        mask[box.y : box.y2, box.x : box.x2] = True
    return mask


def _inside(box: Box, region: Box) -> Box:
    x, y = max(box.x, region.x), max(box.y, region.y)
    return Box(x, y, min(box.x2, region.x2) - x, min(box.y2, region.y2) - y)


@dataclass(frozen=True, slots=True)
class _Plan:
    rects: tuple[Box, ...]
    lines: tuple[TextLine, ...]
    verified: tuple[TextLine, ...]
    region: Box | None  # the scrolled region, when `shift` is not None
    shift: Shift | None
    # For the verifier, changed whatever the pixels say: scrolled into view, and its lines cut by the scroll.
    verifier_exposed: tuple[Box, ...]
    verifier_cut: tuple[Box, ...]
    # After a scroll, the pixels that differ from the last frame shifted with it.
    changed: np.ndarray | None = None
    # Where pixels changed (and the strip a scroll exposed), before growing to text lines: where
    # faces are searched (a face is no text line).
    dirty: tuple[Box, ...] = ()


class IncrementalPipeline:
    def __init__(
        self,
        full: FramePipeline,
        refresh_every: int = 150,
        max_dirty_share: float = 0.45,
        verify_every: int = VERIFY_EVERY,
    ) -> None:
        self.full = full
        self.refresh_every = refresh_every
        self.verify_every = verify_every
        self._since_full_verify = 0
        self.max_dirty_share = max_dirty_share
        self.stats: Counter[str] = Counter()
        self._prev: Pixels | None = None
        self._last: FrameOutcome | None = None
        self._since_full = 0
        # Exact pixels of a band -> what was read there: content scrolled or switched back to
        # costs a hash. (Lines are stored relative to the band, so position does not matter.)
        self._band_cache: OrderedDict[tuple[bool, tuple[int, ...], bytes], list[TextLine]] = OrderedDict()
        # The last few distinct frames read: a screen shown again costs a hash, and a window
        # switched back to is tracked from the frame that last showed it.
        self._seen = SeenFrames()

    @property
    def timings(self) -> defaultdict[str, float]:
        return self.full.timings

    def process(self, frame: Frame) -> FrameOutcome:
        self.stats["frames"] += 1
        self.stats["pixels"] += frame.width * frame.height
        key = frame_digest(frame.pixels)
        try:
            outcome = self._process(frame, key)
        except StageFailure as failure:
            outcome = self.full.masked(frame, failure.findings, failure.reason)
        if outcome.result.masked_whole and outcome.redacted is None:
            # A failure: start the next frame from scratch, forgetting the screens seen before.
            self._prev, self._last = None, None
            self._seen.clear()
            return outcome
        if outcome.redacted is not None:
            # Masked for a residual the verifier found: the reading was complete, so the next
            # frame is tracked from it (the residual, if still there, is found again).
            self._prev, self._last = frame.pixels, replace(outcome, pixels=outcome.redacted, redacted=None)
        else:
            self._prev, self._last = frame.pixels, outcome
        self._seen.add(key, Seen(frame.pixels, outcome, self._last))
        return outcome

    def deny(self, frame: Frame) -> FrameOutcome:
        self._prev, self._last = None, None
        self._seen.clear()
        return self.full.deny(frame)

    def _full_path(self, frame: Frame, key: bytes) -> FrameOutcome:
        self.stats["frames_full"] += 1
        self.stats["ocr_pixels"] += frame.width * frame.height
        self._since_full = self._since_full_verify = 0
        return self.full.process(frame, key)

    def _process(self, frame: Frame, key: bytes) -> FrameOutcome:
        prev, last = self._prev, self._last
        self._since_full += 1
        stale = self._since_full >= self.refresh_every
        if prev is None or last is None or prev.shape != frame.pixels.shape or stale:
            return self._full_path(frame, key)
        seen = self._seen.get(key)
        if seen is not None:  # the very pixels of a frame read before: its outcome again
            self.stats["frames_still" if seen.pixels is prev else "frames_seen_before"] += 1
            return retarget(seen.delivered, frame)
        with self.full.stage("diff", MaskReason.UNREADABLE_FRAME):
            plan, last = self._best_plan(frame, prev, last)
        if plan is None:
            return self._full_path(frame, key)
        if not plan.rects and plan.shift is None:
            self.stats["frames_still"] += 1
            return self._reuse(frame, last)
        return self._update(frame, last, plan)

    def _best_plan(self, frame: Frame, prev: Pixels, last: FrameOutcome) -> tuple[_Plan | None, FrameOutcome]:
        """The plan against the last frame, or, when that leaves much to read and found no scroll
        (a window switch), against the closest frame seen before if it leaves less; and the
        reading it goes on from. (Content that scrolled is tracked from the last frame: measured
        on the busy-screen benchmark, planning a smooth scroll against an older frame let a value
        through the incremental verifier that a whole re-scan found.)"""
        plan = self._plan(prev, frame, last)
        much = plan is None or _area(plan.rects) > SEEN_WORTH * frame.width * frame.height
        if much and (plan is None or plan.shift is None):
            for seen in itertools.islice(self._seen.closest(frame.pixels, skip=prev), SEEN_TRIES):
                other = self._plan(seen.pixels, frame, seen.tracked)
                if other is not None and (plan is None or _area(other.rects) < _area(plan.rects)):
                    self.stats["frames_from_seen"] += 1
                    plan, last = other, seen.tracked
                    break
        if plan is not None:
            self.stats["frames_scrolled"] += int(plan.shift is not None)
        return plan, last

    def _plan(self, prev: Pixels, frame: Frame, last: FrameOutcome) -> _Plan | None:
        """What to re-read: None means the full path (too much changed)."""
        mask = changed_mask(prev, frame.pixels)
        lines, verified = last.lines, last.verified_lines
        if not mask.any():
            return _Plan((), lines, verified, None, None, (), ())
        # Grown to the primary lines only: the verifier's engine now and then returns a "line" the
        # size of a whole table, which would swallow the fixed header and defeat scroll detection.
        # (Verified lines that straddle the region are re-read by the verifier.)
        changed = Box.covering(dirty_boxes(mask, dilate=0)).clip(frame.width, frame.height)
        region, shift = _scrolled_region(prev, frame.pixels, changed, lines)
        marked: list[Box] = []  # the strip scrolled into view
        cut: list[Box] = []  # lines the scroll cut
        verifier_cut: list[Box] = []
        if shift is not None:
            mask = changed_mask(shifted(prev, region, shift), frame.pixels)
            size = frame.width, frame.height
            lines_kept, lines_straddling, _ = _shift_lines(lines, region, shift, *size)
            verified_kept, verified_straddling, verified_leaving = _shift_lines(
                verified, region, shift, *size
            )
            lines, verified = tuple(lines_kept), tuple(verified_kept)
            # Read whatever the pixels say; what the leaving edge cuts was read before (`_shift_lines`).
            marked = [_strip_to_read(region, shift, lines)]
            cut = lines_straddling
            verifier_cut = [*verified_straddling, *verified_leaving]
        if float(_with_marked(mask, [*marked, *cut]).mean()) > self.max_dirty_share:
            return None
        line_boxes = [ln.box for ln in lines]
        size = frame.width, frame.height
        dirty = dirty_boxes(mask)
        rects = regions(dirty, line_boxes, *size, BAND_MARGIN, marked, frame.pixels, cut)
        scrolled_changes = mask if shift is not None else None
        return _Plan(
            tuple(rects),
            lines,
            verified,
            region,
            shift,
            tuple(marked),
            tuple(verifier_cut),
            scrolled_changes,
            (*dirty, *marked),
        )

    def _reuse(self, frame: Frame, last: FrameOutcome) -> FrameOutcome:
        # Pixels changed by less than the noise threshold: same lines, same findings, masks re-applied.
        redacted = self.full.redact(frame.pixels, last.result.findings)
        moved = retarget(last, frame)
        if last.result.masked_whole:  # the same residual is still on screen
            tracked = Reading(redacted, moved.lines, moved.verified_lines)
            r = moved.result
            return self.full.masked(
                frame, r.findings, MaskReason.VERIFIER_FOUND, r.verifier_findings, tracked
            )
        return FrameOutcome(redacted, moved.result, moved.text_layer, moved.lines, moved.verified_lines)

    def _read_rects(self, pixels: Pixels, rects: Sequence[Box], verifier: bool) -> list[TextLine]:
        out: list[TextLine] = []
        for rect in rects:
            crop = np.ascontiguousarray(pixels[rect.y : rect.y2, rect.x : rect.x2])
            key = (verifier, crop.shape, hashlib.blake2b(crop.tobytes(), digest_size=16).digest())
            read = self._band_cache.get(key)
            if read is None:
                read = self.full.verify_read(crop) if verifier else self.full.read(crop, part=True)
                self._band_cache[key] = read
                if len(self._band_cache) > BAND_CACHE_SIZE:
                    self._band_cache.popitem(last=False)
                if not verifier:
                    self.stats["ocr_pixels"] += crop.shape[0] * crop.shape[1]
            else:
                self._band_cache.move_to_end(key)
                self.stats["band_cache_hits"] += 1
            out += [ln.moved(rect.x, rect.y) for ln in read]
        return out

    def _update(self, frame: Frame, last: FrameOutcome, plan: _Plan) -> FrameOutcome:
        self.stats["frames_incremental"] += 1
        kept = _not_reread(plan.lines, plan.rects)
        lines = kept + self._read_rects(frame.pixels, plan.rects, verifier=False)
        text = self.full.find(lines, frame.index)
        avatars = self.full.avatars(frame.pixels, text, frame.index, lines)
        findings = text + self._faces(frame, last, plan) + avatars
        findings += _carried_findings(last, plan, frame.index, findings)
        redacted = self.full.redact(frame.pixels, findings)
        # The verifier's own bookkeeping: re-read wherever the *redacted output* differs from the
        # previous redacted output (scroll compensated), whatever the primary pass believes. A mask
        # that moved, appeared or vanished is re-read; only output pixels verified before are not.
        before = last.pixels
        if plan.region is not None and plan.shift is not None:
            before = shifted(before, plan.region, plan.shift)
        self._since_full_verify += 1
        whole = self._since_full_verify >= self.verify_every
        if whole:  # on a schedule: the verifier re-scans the whole redacted frame
            self._since_full_verify = 0
            self.stats["verifier_full_rescans"] += 1
        residual, verified, _ = self._verify_changes(frame, plan, before, redacted, findings, (), whole)
        if residual:
            return self._recheck(frame, plan, before, findings, residual, lines, verified, redacted)
        result = FrameResult(frame.index, frame.seconds, tuple(findings), verified=True)
        return FrameOutcome(redacted, result, text_layer(verified, findings), tuple(lines), tuple(verified))

    def _verify_changes(
        self,
        frame: Frame,
        plan: _Plan,
        before: Pixels,
        redacted: Pixels,
        findings: Sequence[Finding],
        near: Sequence[Box],
        whole: bool = False,
    ) -> tuple[list[Finding], list[TextLine], list[Box]]:
        """The verifier on what the redacted output changed since the last output `before` (scroll
        compensated) outside our masks, on what a scroll exposed or cut, and on `near` (read
        whatever the pixels say); its reading of the rest is kept. (A pixel a mask now covers
        hides more than before: a mask moved by a pixel or grown is not re-read for itself; one
        that shrank or went uncovers pixels outside it, which are.) Returns the residual findings,
        the verifier's lines and the rectangles it re-read. `whole`: the whole frame is re-read."""
        size = frame.width, frame.height
        # Our own solid masks on this output (each checked on the pixels to be painted).
        masks = self.full.painted_masks(findings, redacted)
        if whole:
            vrects = changed = [Box(0, 0, *size)]
        else:
            output_changed = changed_mask(before, redacted)
            for m in masks:  # covered now: nothing there to read (a mask's edge moved by a pixel)
                output_changed[m.y : m.y2, m.x : m.x2] = False
            vdirty = dirty_boxes(output_changed)
            marked = [*plan.verifier_exposed, *near]
            lines = [ln.box for ln in plan.verified]
            vrects = regions(vdirty, lines, *size, BAND_MARGIN, marked, redacted, plan.verifier_cut)
            changed = [*vdirty, *marked]
        kept_verified = _not_reread(plan.verified, vrects)
        verified = kept_verified + self._read_rects(redacted, vrects, verifier=True)
        # What the verifier reads inside our own solid masks is not screen content.
        verified = outside_masks(verified, masks)
        residual = self.full.find([*verified, *mask_cells(masks)], frame.index)
        painted_faces = [f.boxes[0] for f in findings if f.type == "face"]
        for c in face_crops(changed, painted_faces, *size):
            crop = redacted[c.y : c.y2, c.x : c.x2]
            residual += self.full.faces(crop, frame.index, verifier=True, dx=c.x, dy=c.y)
        return self.full.not_our_labels(residual, findings, redacted), verified, vrects

    def _recheck(
        self,
        frame: Frame,
        plan: _Plan,
        before: Pixels,
        findings: Sequence[Finding],
        residual: Sequence[Finding],
        lines: Sequence[TextLine],
        verified: Sequence[TextLine],
        redacted: Pixels,
    ) -> FrameOutcome:
        """The verifier found values the primary pass missed: mask them as the full path does
        (`FramePipeline.on_residual`: every cell of the verifier's reading that holds one), then
        re-scan what changed plus the neighbourhood of every new mask (its line grown by a line's
        height: masking a value changes how the engine cuts the text around it). Any value left
        is a doubt: the full path's re-scan of the whole frame decides (and masks it whole if
        that finds one too). With `mask-frame`, the full path's rule as it is."""
        if not self.full.recheck:
            return self.full.on_residual(frame, findings, residual, lines, verified, redacted)
        self.stats["verifier_rechecks"] += 1
        extra = verifier_masks(residual, verified, frame.index)
        widened = [*findings, *extra]
        again = self.full.redact(frame.pixels, widened)
        size = frame.width, frame.height
        near = [b.grow(max(RECHECK_NEAR, b.h)).clip(*size) for f in extra for b in f.boxes]
        left, reread, _ = self._verify_changes(frame, plan, before, again, widened, near)
        if left:
            self.stats["verifier_rechecks_whole"] += 1
            return self.full.on_residual(frame, findings, residual, lines, verified, redacted)
        result = FrameResult(
            frame.index, frame.seconds, tuple(widened), verifier_findings=tuple(residual), verified=True
        )
        return FrameOutcome(again, result, text_layer(reread, widened), tuple(lines), tuple(reread))

    def _faces(self, frame: Frame, last: FrameOutcome, plan: _Plan) -> list[Finding]:
        """Faces in crops around what changed (each holding whole any face of the last frame it
        touches: a blink changes a few rows, the detector needs the whole face), plus the last
        frame's faces outside them (moved by a scroll)."""
        before: list[Finding] = []
        for face in last.result.findings:
            if face.type != "face":
                continue
            box = face.boxes[0]
            if plan.region is not None and plan.shift is not None and plan.region.contains(box):
                box = box.moved(-plan.shift.dx, -plan.shift.dy)
            before.append(replace(face, boxes=(box,), frame_index=frame.index))
        crops = face_crops(plan.dirty, [f.boxes[0] for f in before], frame.width, frame.height)
        found = [f for f in before if not any(c.intersection_area(f.boxes[0]) for c in crops)]
        for c in crops:
            found += self.full.faces(frame.pixels[c.y : c.y2, c.x : c.x2], frame.index, dx=c.x, dy=c.y)
        return found


def face_crops(rects: Sequence[Box], faces: Sequence[Box], width: int, height: int) -> list[Box]:
    """Where to look for faces after `rects` changed: each rectangle grown by a quarter of its
    smaller side (a face that appears is all change), joined with every known face it touches grown by a
    quarter (a face that moves a little is not), crops that meet merged."""
    crops = [r.grow(max(FACE_MARGIN, min(r.w, r.h) // 4)).clip(width, height) for r in rects]
    known = [f.grow(max(f.w, f.h) // 4).clip(width, height) for f in faces]

    def take_in(crop: Box) -> Box:  # every known face the crop touches, until none is left out
        while touched := [f for f in known if crop.intersection_area(f) and not crop.contains(f)]:
            crop = functools.reduce(Box.union, touched, crop)
        return crop

    return grow_and_merge(crops, take_in)


def _scrolled_region(
    prev: Pixels, cur: Pixels, changed: Box, lines: Sequence[TextLine]
) -> tuple[Box, Shift | None]:
    """The region that scrolled, and by how much (None: no scroll). Tried first: `changed` grown
    until no known line straddles its border. A fixed line (a table's header row, a toolbar, a
    frozen column) whose box the engine drew a few pixels into the scrolled content grows that
    over content that did not move, and the shift no longer agrees: then `changed` grown sideways
    only (a vertical scroll under a header), lengthways only (a sideways scroll beside a frozen
    column), and as it is. Only the band of that region that agrees with the shift is returned
    (`detect_scroll`: a table under a sticky header, a grid beside a sticky column); the lines
    straddling the region found are re-read (`_shift_lines`)."""
    height, width = cur.shape[:2]
    tried: list[Box] = []
    for axes in ("xy", "x", "y", ""):
        region = _grow_to_lines(changed, lines, axes).clip(width, height)
        if region in tried:
            continue
        tried.append(region)
        if region.h >= MIN_SCROLL_REGION and (found := detect_scroll(prev, cur, region)) is not None:
            return found
    return tried[0], None


def _grow_to_lines(region: Box, lines: Sequence[TextLine], axes: str = "xy") -> Box:
    """Grow `region` along `axes` until no known line straddles its border that way: a line half
    inside would otherwise be dropped by the scroll shift without being re-read."""
    grown = True
    while grown:
        grown = False
        for ln in lines:
            if not region.intersection_area(ln.box) or region.contains(ln.box):
                continue
            union = region.union(ln.box)
            x, x2 = (union.x, union.x2) if "x" in axes else (region.x, region.x2)
            y, y2 = (union.y, union.y2) if "y" in axes else (region.y, region.y2)
            if (x, y, x2, y2) != (region.x, region.y, region.x2, region.y2):
                region, grown = Box(x, y, x2 - x, y2 - y), True
    return region


def findings_only_in(full: Sequence[Finding], incremental: Sequence[Finding]) -> list[Finding]:
    """Findings of the full path whose boxes the incremental path does not cover (for the
    equivalence check: this must be empty)."""
    covered = [b for f in incremental for b in f.boxes]
    return [f for f in full if not all(any(c.contains(b) for c in covered) for b in f.boxes)]
