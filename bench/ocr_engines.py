"""Measure the OCR engines on synthetic KO / JA / FR / EN lines and 1920x1080 frames.

    .venv/bin/python bench/ocr_engines.py [--lines 60] [--frames 1] [--engines rapidocr,tesseract,auto]

Per language and engine: character accuracy of single lines (1 - edit distance / length, after
NFKC and removing whitespace), exact-value recall of the phone numbers, ID digit runs and e-mails
on those lines and on full frames (a value counts when it appears, whitespace-free, in one line),
and milliseconds per 400x40-ish line and per 1920x1080 frame (1 onnxruntime thread).
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_corpus import Sample, render_frame, render_line, samples
from veil.models import TextLine
from veil.ocr.base import OcrEngine

LANGS = ("ko", "ja", "fr", "en")


def _engines() -> dict[str, Callable[[], OcrEngine]]:
    from veil.ocr.rapid import RapidOcrEngine
    from veil.ocr.routed import RoutedEngine
    from veil.ocr.tess import TesseractEngine

    return {
        "rapidocr": lambda: RapidOcrEngine(min_confidence=0.0),
        "tesseract": lambda: TesseractEngine("kor+jpn+fra+eng", 2.0),
        "auto": RoutedEngine,
        "tess-1.5x": lambda: TesseractEngine("kor+jpn+fra+eng", 1.5),
        "tess-1.0x": lambda: TesseractEngine("kor+jpn+fra+eng", 1.0),
        "tess-eng-1.5x": lambda: TesseractEngine("eng", 1.5),
    }


def norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def joined(lines: list[TextLine]) -> str:
    return norm("".join(ln.text for ln in sorted(lines, key=lambda ln: (ln.box.x, ln.box.y))))


def bench_lines(engine: OcrEngine, items: list[Sample]) -> tuple[float, float, float]:
    """(character accuracy, value recall, ms per line)."""
    acc, found, values, elapsed = 0.0, 0, 0, 0.0
    for s in items:
        image = render_line(s.text, s.font)
        start = time.perf_counter()
        got = joined(engine.read(image))
        elapsed += time.perf_counter() - start
        ref = norm(s.text)
        acc += max(0.0, 1 - edit_distance(ref, got) / len(ref))
        values += len(s.values)
        found += sum(norm(v) in got for v in s.values)
    return acc / len(items), found / max(values, 1), 1000 * elapsed / len(items)


def bench_frame(engine: OcrEngine, lang: str, seed: int) -> tuple[float, float]:
    """(value recall, ms) on one 1920x1080 frame of `lang` lines."""
    image, placed = render_frame(samples(lang, 60, seed=100 + seed), seed=seed)
    start = time.perf_counter()
    lines = engine.read(image)
    ms = 1000 * (time.perf_counter() - start)
    texts = [norm(ln.text) for ln in lines]
    values = [norm(v) for s in placed for v in s.values]
    found = sum(any(v in t for t in texts) for v in values)
    return found / max(len(values), 1), ms


def route_rates(n: int) -> None:
    """Share of lines the routed engine answers with Tesseract's re-read, per language and size."""
    from veil.ocr.routed import RoutedEngine

    engine = RoutedEngine()
    for lang in LANGS:
        for size in (14, 18, 24):
            items = samples(lang, n, seed=size)
            routed = 0
            for s in items:
                lines = engine.read(render_line(s.text, s.font, size=size))
                routed += any(ln.engine == "auto:tesseract" for ln in lines)
            print(f"route {lang} {size}px: {routed}/{len(items)} lines re-read by Tesseract", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=60, help="lines per language")
    parser.add_argument("--frames", type=int, default=1, help="frames per language")
    parser.add_argument("--engines", default="rapidocr,tesseract,auto")
    parser.add_argument("--route", action="store_true", help="only measure the routing rule")
    args = parser.parse_args()
    if args.route:
        route_rates(args.lines)
        return
    factories = _engines()
    print(
        "| engine | lang | char acc (lines) | value recall (lines) | ms/line "
        "| value recall (frame) | ms/frame |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.engines.split(","):
        engine = factories[name]()
        engine.read(render_line("warm up 0123", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
        for lang in LANGS:
            acc, rec, ms = bench_lines(engine, samples(lang, args.lines)) if args.lines else (0, 0, 0)
            frames = [bench_frame(engine, lang, i) for i in range(args.frames)]
            f_rec = sum(f[0] for f in frames) / max(len(frames), 1)
            f_ms = sum(f[1] for f in frames) / max(len(frames), 1)
            print(
                f"| {name} | {lang} | {acc:.3f} | {rec:.3f} | {ms:.0f} | {f_rec:.3f} | {f_ms:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
