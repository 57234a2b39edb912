"""Busy-screen recordings: browser pages driven frame by frame (scrolls, typing, a modal, a window
switch), rendered by Debian's Chromium through the browser benchmark's machinery, truth from the
DOM. Frames are cached like the browser benchmark's (PNG + boxes, never a value)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench.browser.render import (
    COLLECT_JS,
    FrameSpec,
    Mark,
    Renderer,
    Shot,
    Word,
    _truth,
    page_html,
    screenshot,
)
from veil.models import Box

SIZE = (1280, 720)


@dataclass(frozen=True)
class Step:
    """One frame: which window is shown (0 or 1) and the script run before the screenshot.
    `scroll` says the step scrolls something (for the share of scrolled frames recognised)."""

    window: int
    script: str
    scroll: bool = False


@dataclass(frozen=True)
class Recording:
    name: str
    template: str
    language: str
    zoom: float
    css: str
    steps: tuple[Step, ...]
    other: str | None = None  # the second window's template (a window switch)
    seed: int = 1

    def spec(self, window: int = 0) -> FrameSpec:
        template = self.template if window == 0 or self.other is None else self.other
        return FrameSpec(template, self.language, dark=False, font=0, font_px=14, zoom=self.zoom,
                         size=SIZE, seed=self.seed + 17 * window, motion="busy")  # fmt: skip


def _scroll(selector: str, top: float, left: float = 0) -> str:
    target = "document.scrollingElement" if selector == "html" else f"document.querySelector('{selector}')"
    return f"(() => {{ const e = {target}; e.scrollTop = {top}; e.scrollLeft = {left}; }})()"


def _scrolls(selector: str, offsets: Sequence[float | tuple[float, float]]) -> tuple[Step, ...]:
    out, last = [], None
    for off in offsets:
        top, left = off if isinstance(off, tuple) else (off, 0)
        out.append(Step(0, _scroll(selector, top, left), scroll=last is not None and (top, left) != last))
        last = (top, left)
    return tuple(out)


MODAL = """(() => {
  if (document.getElementById('busy-modal')) return;
  const vals = Array.from(document.querySelectorAll('[data-v]')).slice(0, 4);
  const back = document.createElement('div');
  back.id = 'busy-modal';
  back.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:9';
  const box = document.createElement('div');
  box.style.cssText = 'background:var(--bg);padding:24px 28px;border-radius:10px;min-width:420px;line-height:2';
  box.innerHTML = '<b>Confirm</b>';
  for (const v of vals) { const d = document.createElement('div'); d.appendChild(v.cloneNode(true)); box.appendChild(d); }
  back.appendChild(box); document.body.appendChild(back);
})()"""
UNMODAL = "(() => { const m = document.getElementById('busy-modal'); if (m) m.remove(); })()"
MAIL = """((k) => {
  const bd = document.querySelector('.bd'); const items = document.querySelectorAll('.it');
  if (!bd.__orig) bd.__orig = Array.from(bd.children);
  const kids = bd.__orig.slice(); for (let i = 0; i < k; i++) kids.push(kids.shift());
  bd.replaceChildren(...kids);
  items.forEach((it, i) => { it.style.background = i === k ? 'var(--bubble)' : ''; });
  document.querySelector('.rd').scrollTop = 0;
})"""


def _type(fraction: float) -> str:
    return f"window.__veilType({fraction})"


STICKY_HEADER = "th{position:sticky;top:0;background:var(--bg);z-index:1}"
STICKY_COLUMN = (
    "td.rn,tr>th:first-child{position:sticky;left:0;z-index:1} tr:first-child th{position:sticky;top:0}"
    " td{min-width:9em}"
)
CHAT_PANE = (
    ".msgs{height:calc(100vh - 120px)!important;margin:60px auto!important;border:1px solid var(--line)}"
)

RECORDINGS: tuple[Recording, ...] = (
    # A table under a sticky header: two smooth scroll gestures, each spread over several frames.
    Recording("table_sticky_header", "order_admin", "en", 1.0, STICKY_HEADER,
              _scrolls(".main", (0, 24, 96, 180, 228, 240, 240, 290, 370, 420)), seed=3),
    # A chat pane scrolled inside a page at zoom 1.25 (fractional device-pixel offsets).
    Recording("chat_pane_zoom125", "long_chat", "fr", 1.25, CHAT_PANE,
              _scrolls(".msgs", (0, 37, 93, 150, 187, 199, 251, 313, 347, 359)), seed=5),
    # A spreadsheet with a sticky first column, scrolled sideways then down.
    Recording("sheet_sticky_column", "excel_grid", "ko", 1.0, STICKY_COLUMN,
              _scrolls("html", ((0, 0), (0, 60), (0, 140), (0, 200), (0, 220), (40, 220), (110, 220),
                                (180, 220), (230, 220), (250, 220))), seed=7),
    # A mail reader: another mail opened on most frames, its body scrolled on the others.
    Recording("mail_reader", "webmail", "ja", 1.0, "",
              tuple(Step(0, f"{MAIL}({k % 4})" if k < 8 else _scroll(".rd", 40 * (k - 7)), scroll=k >= 8)
                    for k in range(10)), seed=11),
    # Typing into a form, one chunk of a value per frame.
    Recording("form_typing", "hr_form", "en", 1.0, "", tuple(Step(0, _type((k + 1) / 10)) for k in range(10)),
              seed=13),
    # A modal opening over a card being typed into, then closing.
    Recording("modal", "crm_card", "ko", 1.0, "",
              tuple(Step(0, _type((k + 1) / 10) + ";" + (MODAL if 3 <= k < 7 else UNMODAL)) for k in range(10)),
              seed=17),
    # A window switch: two apps alternating every two frames, each scrolled a little while shown.
    Recording("window_switch", "order_admin", "en", 1.0, "",
              tuple(Step((k // 2) % 2, _scroll(".main" if (k // 2) % 2 == 0 else ".rd", 30 * k)) for k in range(10)),
              other="webmail", seed=19),
)  # fmt: skip


def _key(renderer: Renderer, rec: Recording, frames: int) -> Path:
    text = json.dumps([renderer._digest, asdict(rec), frames, _code()], sort_keys=True)
    return renderer.cache / ("busy-" + hashlib.sha256(text.encode()).hexdigest()[:20])


def _code() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def shots(renderer: Renderer, rec: Recording, frames: int) -> list[Shot]:
    """The recording's first `frames` frames, from the cache or rendered."""
    folder = _key(renderer, rec, frames)
    steps = rec.steps[:frames]
    if (folder / "done").exists():
        return [_load(rec, folder, k, step) for k, step in enumerate(steps)]
    out = _render(renderer, rec, steps)
    folder.mkdir(parents=True, exist_ok=True)
    for shot in out:
        Image.fromarray(shot.pixels).save(folder / f"frame{shot.step}.png")
        truth = {"marks": [asdict(m) for m in shot.marks], "words": [asdict(w) for w in shot.words]}
        (folder / f"truth{shot.step}.json").write_text(json.dumps(truth), encoding="utf-8")
    (folder / "done").write_text("", encoding="utf-8")
    return out


def _load(rec: Recording, folder: Path, k: int, step: Step) -> Shot:
    pixels = np.asarray(Image.open(folder / f"frame{k}.png").convert("RGB"), dtype=np.uint8)
    raw = json.loads((folder / f"truth{k}.json").read_text(encoding="utf-8"))
    marks = tuple(
        Mark(
            m["kind"], m["decoy"], m["listed"], tuple(Box(**b) for b in m["parts"]), m["shown"], m["partial"]
        )
        for m in raw["marks"]
    )
    words = tuple(Word(w["text"], Box(**w["box"])) for w in raw["words"])
    return Shot(rec.spec(step.window), k, pixels, marks, words)


def _render(renderer: Renderer, rec: Recording, steps: Sequence[Step]) -> list[Shot]:
    browser = renderer._launch()
    width, height = SIZE
    pages = []
    for window in range(2 if rec.other else 1):
        page = browser.new_page(
            viewport={"width": round(width / rec.zoom), "height": round(height / rec.zoom)},
            device_scale_factor=rec.zoom,
        )
        page.set_content(page_html(rec.spec(window)), wait_until="load")
        page.add_script_tag(content=COLLECT_JS)
        if rec.css:
            page.add_style_tag(content=rec.css)
        page.evaluate("document.fonts.ready.then(() => true)")
        pages.append(page)
    out = []
    try:
        for k, step in enumerate(steps):
            page = pages[step.window]
            page.evaluate(step.script)
            pixels = screenshot(page)
            marks, words = _truth(page.evaluate("() => window.__veilCollect()"), rec.zoom)
            out.append(Shot(rec.spec(step.window), k, pixels, marks, words))
    finally:
        for page in pages:
            page.close()
    return out
