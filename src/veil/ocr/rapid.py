"""PP-OCRv6 small (detector + recogniser) through the `rapidocr` wheel, on onnxruntime.

The two models ship inside the wheel (`rapidocr/models/`). We pass their paths explicitly, which
is the one code path in rapidocr that never downloads; the recogniser's character list is read
from the ONNX metadata, so no dictionary file is fetched either. The angle classifier is not used:
screen text is upright.

We drive rapidocr's `TextDetector` and `TextRecognizer` ourselves rather than its `RapidOCR`
pipeline because (1) the pipeline shrinks images over 2,000 px and upscales short crops to a 736 px
short side (a 400x40 crop becomes 7,360x736 and costs seconds), and (2) its word boxes drop
spaces and can misalign with lines when one is filtered out. Here the detector sees the frame at
native scale (at 960 px neighbouring table cells merge: DESIGN.md), small crops are upscaled at
most `max_upscale` times, and each character's box comes from the CTC column where the recogniser
emitted it. We also build the two onnxruntime sessions ourselves and hand them to rapidocr: their
idle threads sleep instead of spinning (a busy screen asks for many small runs; spinning between
them cost a sixth of the recogniser's CPU time, bench/README).

Recognitions are kept by the ink they read (`veil.ocr.inkcache`); a line re-read alone (see
`_AT_DROPPED`) is never served from there. A reading depends on the ink and on the crop around
it (the detector's margins set the recogniser's scale), so a kept reading is one reading of that
ink, not a worse one; but a path that kept one may read the same screen differently from a path
that did not (bench/README, busy screens).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veil.exceptions import EngineError
from veil.models import Box, Pixels, TextLine
from veil.ocr._common import boxes_from_centers, check_pixels, interpolate_centers
from veil.ocr.base import OcrEngine
from veil.ocr.inkcache import InkCache, ink_key

_DET_MODEL = "PP-OCRv6_det_small.onnx"
_REC_MODEL = "PP-OCRv6_rec_small.onnx"
_DET_MULTIPLE = 32  # the detector network needs sides that are multiples of 32
_PAD = 8  # pixels of background added around the image so edge text is detected
# Top-level domains of the addresses a screen shows most (generic, and the countries we read).
_TLDS = "com|net|org|info|biz|edu|gov|io|co|me|jp|kr|fr|uk|de|eu"
# A token that reads like an e-mail address without its "@": a dotted name ending in a common
# top-level domain, not inside a URL or an address ("yamada.demo40example.net"). PP-OCR drops the
# "@" of some lines it recognises in a batch (each crop padded to the widest of the batch) and
# reads it when the line is recognised alone. A host name matches too, at the cost of one re-read
# (~0.1 s for a 440 px line; on the 20 default bench screens one line in all was re-read).
_AT_DROPPED = re.compile(
    rf"(?<![\w@.%+/-])(?!www\.)[A-Za-z0-9][\w.%+-]*\.(?:{_TLDS})(?![\w@-])(?!\.\w)",
    re.ASCII | re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RawLine:
    """A detected line before filtering: its box, text, confidence and per-character centres (x)."""

    box: Box
    text: str
    confidence: float
    centers: tuple[float, ...]


def _models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


class RapidOcrEngine(OcrEngine):
    """PP-OCRv6 small. `threads` sets onnxruntime's intra-op threads (default 1: one engine per core
    scales better than one engine on two cores). Lines under `min_confidence` are dropped."""

    name = "rapidocr"

    def __init__(
        self,
        threads: int = 1,
        *,
        min_side: int = 736,
        max_upscale: float = 2.0,
        min_confidence: float = 0.5,
        merge_gap: float = 0.25,
    ) -> None:
        if threads < 1:
            raise EngineError(f"rapidocr threads must be >= 1, got {threads}")
        self.threads = threads
        self.min_side = min_side
        self.max_upscale = max_upscale
        self.min_confidence = min_confidence
        self.merge_gap = merge_gap
        self._lock = threading.Lock()
        self._det: Any = None
        self._rec: Any = None
        self._lines: InkCache[RawLine] = InkCache()

    def read(self, pixels: Pixels) -> list[TextLine]:
        return self._kept(self.read_raw(pixels))

    def to_text_line(self, raw: RawLine) -> TextLine:
        chars = boxes_from_centers(raw.centers, raw.box)
        return TextLine(raw.text, raw.box, chars, raw.confidence, self.name)

    def read_part(self, pixels: Pixels) -> list[TextLine]:
        return self._kept(self.read_raw(pixels, native=True))

    def _kept(self, lines: list[RawLine]) -> list[TextLine]:
        return [self.to_text_line(r) for r in lines if r.text.strip() and r.confidence >= self.min_confidence]

    def read_raw(self, pixels: Pixels, *, native: bool = False) -> list[RawLine]:
        """Every detected line, including empty or low-confidence ones (the routed engine needs them).
        `native`: detect at the image's own scale (a crop of a frame; see `OcrEngine.read_part`)."""
        image = check_pixels(pixels)
        with self._lock:  # onnxruntime sessions are thread-safe, but lazy loading is not
            self._load()
        try:
            boxes = self.detect(image, native=native)
            return [self.with_dropped_at(image, raw) for raw in self.recognize(image, boxes)]
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure inside rapidocr/onnxruntime fails closed
            # `from None`: a chained third-party message is not ours to vouch for.
            raise EngineError(f"rapidocr failed: {type(exc).__name__}") from None

    def detect(self, image: Pixels, *, native: bool = False) -> list[Box]:
        """Line boxes in `image` coordinates; words the detector split on one line are merged.
        Small images are enlarged for the detector unless `native`."""
        scale = 1.0 if native else self._det_scale(image)
        padded = cv2.copyMakeBorder(image, _PAD, _PAD, _PAD, _PAD, cv2.BORDER_REPLICATE)
        h, w = padded.shape[:2]
        size = (_round32(w * scale), _round32(h * scale))
        scaled = cv2.resize(padded, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
        out = self._det(scaled)
        if out.boxes is None:
            return []
        sx, sy = size[0] / w, size[1] / h
        boxes: list[Box] = []
        for quad in np.asarray(out.boxes, dtype=np.float64):
            x0, x1 = quad[:, 0].min() / sx - _PAD, quad[:, 0].max() / sx - _PAD
            y0, y1 = quad[:, 1].min() / sy - _PAD, quad[:, 1].max() / sy - _PAD
            box = Box(int(x0), int(y0), int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))
            box = box.clip(image.shape[1], image.shape[0])
            if box.area > 0:
                boxes.append(box)
        return merge_words(boxes, self.merge_gap)

    def recognize(self, image: Pixels, boxes: list[Box], *, cached: bool = True) -> list[RawLine]:
        """Recognise the text in each box (one line each) of `image`; ink recognised before is
        not recognised again unless `cached` is False (see the module docstring)."""
        if not boxes:
            return []
        with self._lock:
            self._load()
        from rapidocr.ch_ppocr_rec import TextRecInput

        keys = [ink_key(image, b) if cached else None for b in boxes]
        lines: list[RawLine | None] = []
        for box, key in zip(boxes, keys, strict=True):
            hit = self._lines.get(key)
            # Stored relative to its ink's left edge: moved to this box's ink.
            lines.append(None if hit is None or key is None else _moved(hit, box, key.x))
        todo = [i for i, line in enumerate(lines) if line is None]
        if todo:
            crops = [np.ascontiguousarray(image[b.y : b.y2, b.x : b.x2]) for b in (boxes[i] for i in todo)]
            out = self._rec(TextRecInput(img=crops, return_word_box=True))
            for i, text, score, info in zip(todo, out.txts, out.scores, out.word_results, strict=True):
                box, key = boxes[i], keys[i]
                cols = [c for word in info.word_cols for c in word]
                span = float(info.line_txt_len) or 1.0
                # A CTC column covers span/box.w of the crop; the character sits at its column's middle.
                known = [box.x + (c + 0.5) * box.w / span for c in cols]
                centers = interpolate_centers(text, known) if text else []
                line = lines[i] = RawLine(box, text, float(score), tuple(centers))
                if key is not None:
                    self._lines.put(key, _moved(line, box, -key.x))
        return [line for line in lines if line is not None]

    def with_dropped_at(self, image: Pixels, raw: RawLine) -> RawLine:
        """`raw`, or the line recognised alone when `raw` holds an e-mail address missing its "@"
        (`looks_like_at_dropped`) and the reading alone has more "@" than the batch's."""
        if not looks_like_at_dropped(raw.text):
            return raw
        (alone,) = self.recognize(image, [raw.box], cached=False)
        if alone.text.count("@") > raw.text.count("@") and alone.confidence >= self.min_confidence:
            key = ink_key(image, raw.box)
            if key is not None:  # this ink's better reading, so it is not re-read alone again
                self._lines.put(key, _moved(alone, raw.box, -key.x))
            return alone
        return raw

    def _det_scale(self, image: Pixels) -> float:
        short = min(image.shape[:2]) + 2 * _PAD
        return float(min(max(self.min_side / short, 1.0), self.max_upscale))

    def _load(self) -> None:
        if self._det is not None:
            return
        try:
            from omegaconf import flag_override
            from rapidocr.ch_ppocr_det import TextDetector
            from rapidocr.ch_ppocr_rec import TextRecognizer
            from rapidocr.main import DEFAULT_CFG_PATH
            from rapidocr.utils.log import logger
            from rapidocr.utils.parse_parameters import ParseParams

            logger.setLevel("WARNING")
            cfg = ParseParams.load(DEFAULT_CFG_PATH)
            models = _models_dir()
            for section, model in (("Det", _DET_MODEL), ("Rec", _REC_MODEL)):
                part = cfg[section]
                part.engine_cfg = cfg.EngineConfig.onnxruntime
                part.model_path = str(models / model)
                part.model_root_dir = str(models)
                if not (models / model).is_file():
                    raise EngineError(f"PP-OCR model missing from the rapidocr wheel: {model}")
                with flag_override(part, "allow_objects", True):  # rapidocr takes a ready session
                    part.session = _session(models / model, self.threads)
            cfg.Rec.font_path = None
            # We scale for the detector ourselves; its own resize must only round to multiples of 32.
            cfg.Det.limit_type = "max"
            cfg.Det.limit_side_len = 1_000_000
            self._rec = TextRecognizer(cfg.Rec)
            self._det = TextDetector(cfg.Det)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"rapidocr could not load its models: {type(exc).__name__}: {exc}") from exc


def _session(path: Path, threads: int) -> Any:
    """An onnxruntime session whose idle threads sleep: by default they spin for a while after
    each run, burning a core between the many small runs a busy screen asks for."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def _moved(line: RawLine, box: Box, dx: int) -> RawLine:
    return replace(line, box=box, centers=tuple(c + dx for c in line.centers))


def looks_like_at_dropped(text: str) -> bool:
    """Whether `text` holds a token that reads like an e-mail address whose "@" was dropped."""
    return _AT_DROPPED.search(text) is not None


def merge_words(boxes: list[Box], gap: float) -> list[Box]:
    """Join boxes on one text row whose horizontal gap is under `gap` x their height.

    The detector often returns each word of a line on its own ("06", "12", "34"); a detector that
    works on lines needs them whole. Table cells sit further apart than a word space, so they stay
    separate.
    """
    merged: list[Box] = []
    for box in sorted(boxes, key=lambda b: (b.x, b.y)):
        for i, line in enumerate(merged):
            if _same_row(line, box) and box.x - line.x2 <= gap * max(line.h, box.h):
                merged[i] = line.union(box)
                break
        else:
            merged.append(box)
    return sorted(merged, key=lambda b: (b.y, b.x))


def _same_row(a: Box, b: Box) -> bool:
    overlap = min(a.y2, b.y2) - max(a.y, b.y)
    return overlap >= 0.6 * min(a.h, b.h)


def _round32(value: float) -> int:
    return max(_DET_MULTIPLE, round(value / _DET_MULTIPLE) * _DET_MULTIPLE)
