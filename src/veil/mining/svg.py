"""Inline SVG for the report: process maps, bar charts and sanitized frame wireframes.
Everything is drawn here so the HTML needs no script, font or image from elsewhere."""

from __future__ import annotations

from html import escape

from veil.mining.base import Candidate
from veil.mining.textlayer import TextFrame

_NODE_W, _NODE_H, _STEP = 380, 30, 52
_PALETTE = ("#2f6f9f", "#c0713a", "#4f8a4f", "#8a5a9e", "#b0485a", "#5a7d8a", "#9a8a3a", "#6a6a6a")


def _open(width: int, height: int, css: str = "") -> str:
    """Scales down to its column, never up."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" role="img" class="{css}">'
    )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def process_map(c: Candidate) -> str:
    """Steps top to bottom; consecutive steps joined straight, skips and loops curved on the right.
    Line width follows how many instances took the edge."""
    n = len(c.nodes)
    top = 20
    height = top + (n + 1) * _STEP + 20
    width = _NODE_W + 200
    cx = 20 + _NODE_W // 2

    def y_of(k: int, end: bool = False) -> int:
        if k == -1:
            return top + (n + 1) * _STEP if end else top
        return top + (k + 1) * _STEP

    peak = max((cnt for _a, _b, cnt in c.edges), default=1)
    parts = [_open(width, height), f"<title>{escape(c.name)}</title>"]
    for a, b, cnt in c.edges:
        y1 = y_of(a) + (_NODE_H // 2 if a >= 0 else 8)
        y2 = y_of(b, end=True) - (_NODE_H // 2 if b >= 0 else 8)
        stroke = 1 + 5 * cnt / peak
        if (a == -1 and b == 0) or (b == a + 1) or (b == -1 and a == n - 1):
            parts.append(
                f'<line x1="{cx}" y1="{y1}" x2="{cx}" y2="{y2}" class="edge" stroke-width="{stroke:.1f}"/>'
            )
            parts.append(f'<text x="{cx + 8}" y="{(y1 + y2) // 2 + 4}" class="count">{cnt}</text>')
            continue
        bulge = 30 + 14 * min(abs(y2 - y1) // _STEP, 8)
        x0 = 20 + _NODE_W
        path = f"M{x0},{y1} C{x0 + bulge},{y1} {x0 + bulge},{y2} {x0},{y2}"
        parts.append(f'<path d="{path}" class="edge skip" stroke-width="{stroke:.1f}" fill="none"/>')
        parts.append(f'<text x="{x0 + bulge - 4}" y="{(y1 + y2) // 2 + 4}" class="count">{cnt}</text>')
    parts.append(f'<circle cx="{cx}" cy="{top}" r="8" class="start"/>')
    parts.append(f'<circle cx="{cx}" cy="{y_of(-1, end=True)}" r="8" class="end"/>')
    for k, step in enumerate(c.nodes):
        y = y_of(k) - _NODE_H // 2
        parts.append(f'<rect x="20" y="{y}" width="{_NODE_W}" height="{_NODE_H}" rx="6" class="node"/>')
        label = escape(_clip(step.describe(), 56))
        parts.append(f'<text x="{cx}" y="{y + 20}" text-anchor="middle" class="label">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: list[tuple[str, float]], unit: str, width: int = 640) -> str:
    """Horizontal bars, one per item, value written at the bar's end."""
    label_w, bar_h, gap = 260, 22, 8
    peak = max((v for _k, v in items), default=0.0) or 1.0
    height = len(items) * (bar_h + gap) + 10
    parts = [_open(width, height)]
    for i, (name, value) in enumerate(items):
        y = 5 + i * (bar_h + gap)
        w = (width - label_w - 90) * value / peak
        color = _PALETTE[i % len(_PALETTE)]
        label = escape(_clip(name, 34))
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">{label}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}" rx="3"/>')
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="count">{value:.1f} {escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def wireframe(frame: TextFrame, width: int = 560) -> str:
    """A sanitized frame drawn from its text layer: boxes and already-sanitized text, no pixels."""
    boxes = [li.box for li in frame.lines] + list(frame.changed)
    fw = frame.size[0] if frame.size else max((b.x2 for b in boxes), default=1)
    fh = frame.size[1] if frame.size else max((b.y2 for b in boxes), default=1)
    scale = width / max(fw, 1)
    height = max(int(fh * scale), 40)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" class="frame">'
    ]
    parts.append(f'<rect x="0" y="0" width="{width}" height="{height}" class="screen"/>')
    for b in frame.changed:
        if b.area > 0.5 * fw * fh:
            continue  # a whole-screen change highlights nothing
        parts.append(
            f'<rect x="{b.x * scale:.1f}" y="{b.y * scale:.1f}" width="{b.w * scale:.1f}" '
            f'height="{b.h * scale:.1f}" class="changed"/>'
        )
    for li in frame.lines:
        size = max(min(li.box.h * scale * 0.8, 14), 6)
        parts.append(
            f'<text x="{li.box.x * scale:.1f}" y="{(li.box.y + li.box.h) * scale:.1f}" '
            f'font-size="{size:.1f}" class="ocr">{escape(li.text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
