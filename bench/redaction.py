"""Redaction benchmark: Veil and the peer (Presidio's image redactor) on the same synthetic screens.

    .venv/bin/python -m bench.redaction [--frames N] [--seed S] [--peer/--no-peer] [--json PATH]

Generates N business screens (frame i: language i mod 4, scene kind i mod 5, so 20 frames cover
every pair), runs each redactor frame by frame, and scores the redacted pixels against the ground
truth with `veil.synth.score` (diff before/after; a value counts only if all its ink is covered).
Prints one table: recall per language and type, decoys masked, masked area outside personal data,
seconds per frame. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from veil.models import Pixels
from veil.synth.fakedata import LANGUAGES, NAME_TYPE, STRUCTURED_TYPES
from veil.synth.score import DEFAULT_TOLERANCE_PX, Score, score_pixels
from veil.synth.screens import SCENE_KINDS, THEMES, Screen, ScreenSpec, render_screen

SIZES: tuple[tuple[int, int], ...] = ((1920, 1080), (1366, 768), (2560, 1440), (1600, 900))
FONT_PX: tuple[int, ...] = (14, 11, 16, 13, 18, 12, 15, 17)

# (pixels, screen language) -> (redacted pixels, whether the whole frame was masked)
Redact = Callable[[Pixels, str], tuple[Pixels, bool]]


@dataclass
class Run:
    name: str
    score: Score = field(default_factory=Score)
    seconds: list[float] = field(default_factory=list)
    masked_whole: int = 0
    # The same counts over the frames the redactor did not mask whole: its detection alone.
    partial: Score = field(default_factory=Score)

    @property
    def seconds_per_frame(self) -> float:
        return sum(self.seconds) / len(self.seconds) if self.seconds else float("nan")


def bench_specs(frames: int, seed: int, kinds: Sequence[str] = SCENE_KINDS) -> list[ScreenSpec]:
    """Frame i shows language i mod 4 and kind i mod len(kinds): with 5 kinds every pair comes
    once in 20 frames."""
    return [
        ScreenSpec(
            kind=kinds[i % len(kinds)],
            language=LANGUAGES[i % len(LANGUAGES)],
            theme=THEMES[(i // 2) % 2],
            font_px=FONT_PX[i % len(FONT_PX)],
            size=SIZES[i % len(SIZES)],
            seed=seed * 1000 + i,
        )
        for i in range(frames)
    ]


def veil_redactor() -> Redact:
    from veil.api import build_pipeline, redact_image
    from veil.options import Policy

    policy = Policy()
    pipeline = build_pipeline(policy)  # built once, as a long recording would use it

    def redact(pixels: Pixels, language: str) -> tuple[Pixels, bool]:
        out, result = redact_image(pixels, policy, pipeline)
        return out, result.masked_whole

    return redact


def peer_redactor() -> Redact:
    from bench.presidio_peer import PresidioPeer

    peer = PresidioPeer()
    return lambda pixels, language: (peer.redact(pixels, language), False)


def run_all(specs: Sequence[ScreenSpec], redactors: dict[str, Redact], console: Console) -> list[Run]:
    runs = [Run(name) for name in redactors]
    for n, spec in enumerate(specs, 1):
        screen: Screen = render_screen(spec)
        for run in runs:
            started = time.perf_counter()
            after, whole = redactors[run.name](screen.pixels.copy(), spec.language)
            run.seconds.append(time.perf_counter() - started)
            run.masked_whole += int(whole)
            frame_score = score_pixels(screen.items, screen.pixels, after)
            run.score = run.score + frame_score
            if not whole:
                run.partial = run.partial + frame_score
        console.log(f"frame {n}/{len(specs)} {spec.kind}/{spec.language} {spec.size[0]}x{spec.size[1]} done")
    return runs


def _pct(counts_recall: float) -> str:
    return "-" if math.isnan(counts_recall) else f"{100 * counts_recall:.1f}"


def _rows(runs: Sequence[Run]) -> list[tuple[str, str, int, list[float]]]:
    """(language, type, instances, recall per run) for every pair with instances, then totals."""
    rows = []
    for lang in LANGUAGES:
        for typ in (*STRUCTURED_TYPES, NAME_TYPE):
            n = runs[0].score.counts(lang, typ).instances
            if n:
                rows.append((lang, typ, n, [r.score.counts(lang, typ).recall for r in runs]))
        total = runs[0].score.counts(lang).instances
        rows.append((lang, "ALL structured", total, [r.score.counts(lang).recall for r in runs]))
    total = runs[0].score.counts().instances
    rows.append(("all", "ALL structured", total, [r.score.counts().recall for r in runs]))
    names = runs[0].score.counts(type_=NAME_TYPE).instances
    rows.append(
        ("all", f"{NAME_TYPE} (scored apart)", names, [r.score.counts(type_=NAME_TYPE).recall for r in runs])
    )
    return rows


def render_table(runs: Sequence[Run], frames: int) -> Table:
    table = Table(title=f"Redaction benchmark: {frames} synthetic screens, recall % (whole value covered)")
    table.add_column("lang")
    table.add_column("type")
    table.add_column("n", justify="right")
    for run in runs:
        table.add_column(f"{run.name} recall", justify="right")
    for lang, typ, n, recalls in _rows(runs):
        bold = typ.startswith("ALL")
        cells = [lang, typ, str(n), *(_pct(r) for r in recalls)]
        table.add_row(*[f"[bold]{c}[/bold]" if bold else c for c in cells])
    table.add_section()
    decoys = runs[0].score.decoys
    table.add_row("all", "decoys masked (count, %)", str(decoys),
                  *(f"{r.score.decoys_masked} ({_pct(r.score.decoy_rate)})" for r in runs))  # fmt: skip
    table.add_row("all", f"masked area outside personal data % (>{DEFAULT_TOLERANCE_PX}px)", "",
                  *(_pct(r.score.outside_share) for r in runs))  # fmt: skip
    table.add_row("all", "frames masked whole (fail-closed)", "", *(str(r.masked_whole) for r in runs))
    partial = [f"{_pct(r.partial.counts().recall)} (n={r.partial.counts().instances})" for r in runs]
    table.add_row("all", "structured recall % on frames not masked whole", "", *partial)
    table.add_row("all", "decoys masked % on frames not masked whole", "",
                  *(_pct(r.partial.decoy_rate) for r in runs))  # fmt: skip
    table.add_row("all", "seconds per frame", "", *(f"{r.seconds_per_frame:.2f}" for r in runs))
    return table


def to_json(runs: Sequence[Run], specs: Sequence[ScreenSpec]) -> dict[str, Any]:
    def nan_none(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 4)

    return {
        "frames": len(specs),
        "screens": [
            {"kind": s.kind, "language": s.language, "size": s.size, "font_px": s.font_px} for s in specs
        ],
        "tolerance_px": DEFAULT_TOLERANCE_PX,
        "redactors": {
            r.name: {
                "recall": [
                    {"language": lang, "type": typ, "instances": n, "recall": nan_none(rec[i])}
                    for lang, typ, n, rec in _rows(runs)
                ],
                "decoys": r.score.decoys,
                "decoys_masked": r.score.decoys_masked,
                "outside_share": round(r.score.outside_share, 4),
                "frames_masked_whole": r.masked_whole,
                "not_masked_whole": {
                    "structured_instances": r.partial.counts().instances,
                    "structured_recall": nan_none(r.partial.counts().recall),
                    "decoys": r.partial.decoys,
                    "decoys_masked": r.partial.decoys_masked,
                    "outside_share": round(r.partial.outside_share, 4),
                },
                "seconds_per_frame": nan_none(r.seconds_per_frame),
                "seconds": [round(s, 3) for s in r.seconds],
            }
            for i, r in enumerate(runs)
        },
    }


def parse_args(prog: str, doc: str, frames: int, argv: Sequence[str] | None) -> argparse.Namespace:
    """The options every redaction-quality benchmark takes."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("--frames", type=int, default=frames, help=f"screens to generate (default {frames})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                        help="also run Presidio's image redactor (default on)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the numbers to this file too")
    return parser.parse_args(argv)


def redactors_for(peer: bool, err: Console) -> dict[str, Redact] | None:
    """Veil, plus Presidio when asked; None (after saying why) when the peer cannot run."""
    redactors: dict[str, Redact] = {"Veil": veil_redactor()}
    if peer:
        from bench.presidio_peer import PeerUnavailable

        try:
            redactors["Presidio"] = peer_redactor()
        except PeerUnavailable as exc:
            err.print(f"[red]peer unavailable:[/red] {exc}")
            return None
    return redactors


def run_bench(
    args: argparse.Namespace,
    specs: Sequence[ScreenSpec],
    run: Callable[[Sequence[ScreenSpec], dict[str, Redact], Console], Sequence[Any]],
    table: Callable[[Sequence[Any], int], Table],
    to_dict: Callable[[Sequence[Any], Sequence[ScreenSpec]], dict[str, Any]],
    console: Console,
) -> int:
    """Run Veil (and the peer) on `specs`, print the table, write JSON when asked."""
    err = Console(stderr=True)
    redactors = redactors_for(args.peer, err)
    if redactors is None:
        return 2
    runs = run(specs, redactors, err)
    console.print(table(runs, len(specs)))
    if args.json:
        args.json.write_text(json.dumps(to_dict(runs, specs), indent=2), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args("python -m bench.redaction", __doc__ or "", 20, argv)
    specs = bench_specs(args.frames, args.seed)
    return run_bench(args, specs, run_all, render_table, to_json, Console())


if __name__ == "__main__":
    sys.exit(main())
