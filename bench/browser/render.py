"""Drives Debian's Chromium through Playwright: renders each screen, reads every value's boxes from
the DOM (`getClientRects` of its span), and keeps PNG + truth in a cache outside git.

The truth cached on disk holds boxes, types and the non-personal words (for the text-layer
check), never a personal value. Nothing is downloaded: Playwright launches /usr/bin/chromium.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.browser.page import BASE_CSS, Page
from bench.browser.templates_more import TEMPLATES
from bench.browser.values import LANGUAGES, Values
from veil.models import Box, Pixels

CHROMIUM = os.environ.get("VEIL_BENCH_CHROMIUM", "/usr/bin/chromium")
SIZES: tuple[tuple[int, int], ...] = (
    (1920, 1080),
    (1366, 768),
    (2560, 1440),
    (1600, 900),
    (1440, 900),
    (1536, 864),
)
ZOOMS: tuple[float, ...] = (1.0, 1.25, 0.8, 1.5, 0.9, 1.1)
FONT_PX: tuple[int, ...] = (14, 13, 15, 12, 16)
SANS = {"ko": "'Noto Sans CJK KR'", "ja": "'Noto Sans CJK JP'", "fr": "'DejaVu Sans'", "en": "'DejaVu Sans'"}
FONTS: dict[str, tuple[str, ...]] = {
    "ko": ("'Noto Sans CJK KR'", "'Noto Serif CJK KR'", "'DejaVu Sans', 'Noto Sans CJK KR'"),
    "ja": ("'Noto Sans CJK JP'", "'Noto Serif CJK JP'", "'DejaVu Sans', 'Noto Sans CJK JP'"),
    "fr": ("'DejaVu Sans'", "'DejaVu Serif'", "'Noto Sans CJK JP'", "'DejaVu Sans Condensed', 'DejaVu Sans'"),
    "en": ("'DejaVu Sans'", "'Noto Sans CJK KR'", "'DejaVu Serif'", "'DejaVu Sans Condensed', 'DejaVu Sans'"),
}
MONO = {"ko": "'Noto Sans Mono CJK KR'", "ja": "'Noto Sans Mono CJK JP'"}
# Held out: never looked at while tuning detectors (see bench/README.md).
SEED_BASES = {"dev": 1, "heldout": 9001}
STEPS = 3  # frames in a typed or scrolled sequence
_HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class FrameSpec:
    template: str
    language: str
    dark: bool
    font: int
    font_px: int
    zoom: float
    size: tuple[int, int]
    seed: int
    motion: str = "still"  # still | typed | scrolled


@dataclass(frozen=True, slots=True)
class Mark:
    """A value or decoy as drawn: `kind` is its type or decoy kind; boxes in frame pixels."""

    kind: str
    decoy: bool
    listed: str
    parts: tuple[Box, ...]
    shown: bool  # wholly inside the viewport and not clipped or covered
    partial: bool = False  # being typed: only part of it on screen yet

    @property
    def box(self) -> Box:
        out = self.parts[0]
        for b in self.parts[1:]:
            out = out.union(b)
        return out


@dataclass(frozen=True, slots=True)
class Word:
    """A run of non-personal text drawn on the frame (for the text-layer check)."""

    text: str
    box: Box


@dataclass(frozen=True, slots=True, eq=False)
class Shot:
    spec: FrameSpec
    step: int
    pixels: Pixels
    marks: tuple[Mark, ...]
    words: tuple[Word, ...]


def frame_specs(seeds: str, count: int) -> list[FrameSpec]:
    """Frame i: template i mod 13 and language i mod 4 (52 frames cover every pair); every
    odd-numbered screen of an app with a field being typed or content longer than a page is a
    sequence of `STEPS` frames (typed, or scrolled by 30 % of a page per frame)."""
    base = SEED_BASES[seeds]
    names = list(TEMPLATES)
    out = []
    for i in range(count):
        name, lang = names[i % len(names)], LANGUAGES[i % len(LANGUAGES)]
        template = TEMPLATES[name]
        motion = "still"
        if i % 2 == 1:
            motion = "typed" if template.typed else "scrolled" if template.scroll else "still"
        out.append(FrameSpec(name, lang, dark=(i // 2) % 3 == 1, font=i // 4 % len(FONTS[lang]),
                             font_px=FONT_PX[i % len(FONT_PX)], zoom=ZOOMS[i % len(ZOOMS)],
                             size=SIZES[(i // 2) % len(SIZES)], seed=base + i, motion=motion))  # fmt: skip
    return out


def page_html(spec: FrameSpec) -> str:
    page = Page(spec.language, Values(spec.language, spec.seed), random.Random(spec.seed * 7 + 1))
    css, body = TEMPLATES[spec.template].render(page)
    fonts = FONTS[spec.language]
    family = fonts[spec.font % len(fonts)]
    mono = f"'DejaVu Sans Mono', {MONO[spec.language]}" if spec.language in MONO else "'DejaVu Sans Mono'"
    style = f"--fs:{spec.font_px}px;font-family:{family}, {SANS[spec.language]};--mono:{mono}"
    html_class = "dark" if spec.dark else ""
    head = (
        f'<head><meta charset="utf-8"><style>{BASE_CSS}{css}'
        "*{animation:none!important;transition:none!important;caret-color:transparent}</style></head>"
    )
    opening = f'<!doctype html><html lang="{spec.language}" class="{html_class}">'
    return f'{opening}{head}<body style="{style}">{body}</body></html>'


COLLECT_JS = (_HERE / "collect.js").read_text(encoding="utf-8")


def _box(r: Sequence[float], zoom: float) -> Box:
    x, y = math.floor(r[0] * zoom), math.floor(r[1] * zoom)
    return Box(x, y, math.ceil((r[0] + r[2]) * zoom) - x, math.ceil((r[1] + r[3]) * zoom) - y)


def _truth(raw: dict[str, Any], zoom: float) -> tuple[tuple[Mark, ...], tuple[Word, ...]]:
    marks = tuple(
        Mark(
            m["v"] or m["d"],
            m["v"] is None,
            m["n"],
            tuple(_box(r, zoom) for r in m["rects"]),
            m["shown"],
            m["partial"],
        )
        for m in raw["marks"]
    )
    words = tuple(Word(w["t"], _box(w["r"], zoom)) for w in raw["words"])
    return marks, words


def cache_dir() -> Path:
    root = os.environ.get("VEIL_BENCH_CACHE") or str(Path.home() / ".cache" / "veil-bench")
    return Path(root) / "browser"


# Two animation frames: the one in which the last scroll or input is laid out, and the one it is
# painted in. Without it a screenshot taken right after a scroll sometimes shows the frame before
# it, while the DOM already gives the boxes after it (truth and pixels would disagree).
_SETTLE_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def screenshot(page: Any) -> Pixels:
    """The page as RGB pixels, once what the last script changed is painted."""
    page.evaluate(_SETTLE_JS)
    png = page.screenshot(type="png")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.uint8)


def _code_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(_HERE.glob("*")):
        if path.suffix in (".py", ".js"):
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


class Renderer:
    """One headless Chromium for a whole run; `shots(spec)` yields the frames of one screen."""

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache if cache is not None else cache_dir()
        self._digest = _code_digest()
        self._pw: Any = None
        self._browser: Any = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._browser is not None:
            self._browser.close()
            self._pw.stop()

    def _launch(self) -> Any:
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(executable_path=CHROMIUM)
        return self._browser

    def _key(self, spec: FrameSpec) -> Path:
        text = json.dumps([self._digest, asdict(spec)], sort_keys=True)
        return self.cache / hashlib.sha256(text.encode()).hexdigest()[:20]

    def shots(self, spec: FrameSpec) -> list[Shot]:
        folder = self._key(spec)
        if (folder / "done").exists():
            return self._load(spec, folder)
        shots = list(self._render(spec))
        folder.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            Image.fromarray(shot.pixels).save(folder / f"frame{shot.step}.png")
            truth = {"marks": [asdict(m) for m in shot.marks], "words": [asdict(w) for w in shot.words]}
            (folder / f"truth{shot.step}.json").write_text(json.dumps(truth), encoding="utf-8")
        (folder / "done").write_text("", encoding="utf-8")
        return shots

    def _load(self, spec: FrameSpec, folder: Path) -> list[Shot]:
        out = []
        for step in range(STEPS if spec.motion != "still" else 1):
            pixels = np.asarray(Image.open(folder / f"frame{step}.png").convert("RGB"), dtype=np.uint8)
            raw = json.loads((folder / f"truth{step}.json").read_text(encoding="utf-8"))
            marks = tuple(
                Mark(
                    m["kind"],
                    m["decoy"],
                    m["listed"],
                    tuple(Box(**b) for b in m["parts"]),
                    m["shown"],
                    m["partial"],
                )
                for m in raw["marks"]
            )
            words = tuple(Word(w["text"], Box(**w["box"])) for w in raw["words"])
            out.append(Shot(spec, step, pixels, marks, words))
        return out

    def _render(self, spec: FrameSpec) -> Iterator[Shot]:
        width, height = spec.size
        page = self._launch().new_page(
            viewport={"width": round(width / spec.zoom), "height": round(height / spec.zoom)},
            device_scale_factor=spec.zoom,
        )
        try:
            page.set_content(page_html(spec), wait_until="load")
            page.add_script_tag(content=COLLECT_JS)
            page.evaluate("document.fonts.ready.then(() => true)")
            scroll = TEMPLATES[spec.template].scroll
            for step in range(STEPS if spec.motion != "still" else 1):
                if spec.motion == "typed":
                    page.evaluate("(f) => window.__veilType(f)", (step + 1) / STEPS)
                elif spec.motion == "scrolled":
                    page.evaluate("([sel, k]) => window.__veilScroll(sel, k)", [scroll, step])
                pixels = screenshot(page)
                marks, words = _truth(page.evaluate("() => window.__veilCollect()"), spec.zoom)
                yield Shot(spec, step, pixels, marks, words)
        finally:
            page.close()
