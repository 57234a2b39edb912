"""OCR engines by name. Built-in engines are registered exactly as a third-party one would be.

    make_engine("auto", options)        PP-OCRv6 + Tesseract kor+eng for Korean lines (RoutedEngine)
    make_engine("rapidocr", options)    PP-OCRv6 small alone (no Hangul)
    make_engine("tesseract", options)   Tesseract kor+jpn+fra+eng in one pass, 2x upscale
    make_verifier_engine(options)       the engine that re-scans redacted frames (below)
    register_engine(name, factory)      add an engine: factory(options) -> OcrEngine

Tesseract is one kor+jpn+fra+eng pass rather than one pass per language: per-language passes read
better on lines of their own language (DESIGN.md: 91.9 / 81.5 / 96.5 / 98.3 vs 82.8 / 72.2 / 93.5 /
95.7 strict recall ko / ja / fr / en) but a frame's language is not known beforehand, so they would
cost four full-frame passes (~4 x 3.8 s) instead of one (~5 s).

The verifier must not share the primary engine's blind spots, so its default is a different
engine family from the "auto" engine: Tesseract `kor+jpn+fra+eng` over the whole frame at 1.5x,
in a mode that reads again, line by line, any text-like ink its page segmentation left out (a
screen holding one short Korean line alone came back empty).
Measured with `bench/ocr_engines.py` on this 2-core machine (1920x1080 synthetic frames of ~50
lines, 1 thread; timings taken with other work on the second core, so +-30 %):

    verifier candidate          value recall ko / ja / fr / en      ms per frame
    tesseract all langs 2.0x    0.93 / 1.00 / 0.95 / 0.88           3,400-5,500
    tesseract all langs 1.5x    0.93 / 1.00 / 1.00 / 0.93           2,800-7,700
    tesseract all langs 1.0x    0.93 / 0.97 / 1.00 / 0.95           8,000-11,700 (slower: noisier pages)
    tesseract eng only 1.5x     0.93 / 0.92 / 0.95 / 0.88           1,300-2,000

1.5x keeps the recall of 2x at similar or lower cost; eng-only is faster but loses Japanese and
English values. PP-OCR as the verifier would repeat the primary pass's reading (same detector, same
recogniser) and so miss what it missed. When the primary engine is "tesseract", the verifier is the
routed PP-OCR engine (the other family).
"""

from __future__ import annotations

from collections.abc import Callable

from veil.exceptions import PolicyError
from veil.ocr.base import OcrEngine
from veil.options import OcrOptions

EngineFactory = Callable[[OcrOptions], OcrEngine]

ALL_LANGUAGES = "kor+jpn+fra+eng"
VERIFIER_UPSCALE = 1.5

_ENGINES: dict[str, EngineFactory] = {}


def register_engine(name: str, factory: EngineFactory, *, replace: bool = False) -> None:
    """Make `factory` available as engine `name`; registering a taken name needs `replace=True`."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise PolicyError(f"invalid OCR engine name {name!r}: use letters, digits, '-' or '_'")
    if name in _ENGINES and not replace:
        raise PolicyError(f"OCR engine '{name}' is already registered")
    _ENGINES[name] = factory


def engine_names() -> list[str]:
    return sorted(_ENGINES)


def make_engine(name: str, options: OcrOptions) -> OcrEngine:
    """A new engine instance called `name`, configured from `options`."""
    factory = _ENGINES.get(name)
    if factory is None:
        raise PolicyError(f"unknown OCR engine '{name}' (known: {', '.join(engine_names())})")
    return factory(options)


def make_verifier_engine(options: OcrOptions) -> OcrEngine:
    """The engine that re-scans redacted frames, independent of `options.engine` (module docstring)."""
    choice = options.verifier_engine
    if choice == "auto":
        choice = "tesseract" if options.engine != "tesseract" else "auto"
    if choice == "tesseract":
        return _tesseract(options, VERIFIER_UPSCALE, read_all_ink=True)
    return make_engine(choice, options)


def _auto(options: OcrOptions) -> OcrEngine:
    from veil.ocr.rapid import RapidOcrEngine
    from veil.ocr.routed import RoutedEngine

    rapid = RapidOcrEngine(threads=options.threads, min_confidence=0.0)
    return RoutedEngine(rapid, min_confidence=options.min_confidence)


def _rapidocr(options: OcrOptions) -> OcrEngine:
    from veil.ocr.rapid import RapidOcrEngine

    return RapidOcrEngine(threads=options.threads, min_confidence=options.min_confidence)


def _tesseract(options: OcrOptions, upscale: float = 2.0, *, read_all_ink: bool = False) -> OcrEngine:
    from veil.ocr.tess import TesseractEngine

    return TesseractEngine(
        ALL_LANGUAGES, upscale, min_confidence=options.min_confidence, read_all_ink=read_all_ink
    )


register_engine("auto", _auto)
register_engine("rapidocr", _rapidocr)
register_engine("tesseract", _tesseract)
