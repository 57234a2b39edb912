"""People benchmark: names, addresses, labelled fields and faces, Veil and Presidio on the same frames.

    .venv/bin/python -m bench.people [--frames N] [--seed S] [--peer/--no-peer] [--json PATH]

Frame i shows language i mod 4 and people scene i mod 7 (support chat, CRM card, e-mail with
signatures, video-call gallery, shipping labels, spreadsheet export, terminal rows), so 28 frames
cover every pair and 8 frames cover every scene. Scoring is `veil.synth.score` on the pixels
before and after, as in `bench.redaction`. Targets (issue 3): names and addresses >= 98 % per
language, labelled-field values and faces (all > 40 px) 100 %, decoys masked <= 10 %, masked
area outside personal data <= 25 %.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.redaction import Redact, bench_specs, parse_args, run_bench
from veil.synth.fakedata import LANGUAGES, NAME_TYPE
from veil.synth.people import ADDRESS_TYPE, AVATAR_TYPE, FACE_TYPE
from veil.synth.score import Counts, Score, fill_mask, score_mask
from veil.synth.screens import PEOPLE_SCENE_KINDS, ScreenSpec, TruthItem, render_screen

LABELLED = "labelled-field values"
# (row name, type or LABELLED, target recall, per language?)
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("names", NAME_TYPE, 0.98),
    ("addresses", ADDRESS_TYPE, 0.98),
    (LABELLED, LABELLED, 1.0),
    ("faces > 40 px", FACE_TYPE, 1.0),
    ("initials avatars", AVATAR_TYPE, 1.0),
)
DECOY_TARGET, OUTSIDE_TARGET = 0.10, 0.25


@dataclass
class PeopleRun:
    name: str
    score: Score = field(default_factory=Score)
    labelled: Score = field(default_factory=Score)  # the labelled items alone
    partial: Score = field(default_factory=Score)  # frames not masked whole
    seconds: list[float] = field(default_factory=list)
    masked_whole: int = 0

    @property
    def seconds_per_frame(self) -> float:
        return sum(self.seconds) / len(self.seconds) if self.seconds else float("nan")

    def counts(self, kind: str, language: str | None = None, partial: bool = False) -> Counts:
        if kind == LABELLED:
            total = Counts()
            for (lang, _typ), c in self.labelled.by_key.items():
                if language is None or lang == language:
                    total = total + c
            return total
        return (self.partial if partial else self.score).counts(language, kind)


def people_specs(frames: int, seed: int) -> list[ScreenSpec]:
    """Frame i: language i mod 4, scene i mod 7 (coprime: every pair in 28 frames)."""
    return bench_specs(frames, seed, PEOPLE_SCENE_KINDS)


def _labelled_only(items: Sequence[TruthItem]) -> list[TruthItem]:
    return [i for i in items if i.labelled and not i.decoy]


def run_people(
    specs: Sequence[ScreenSpec], redactors: dict[str, Redact], console: Console
) -> list[PeopleRun]:
    runs = [PeopleRun(name) for name in redactors]
    for n, spec in enumerate(specs, 1):
        screen = render_screen(spec)
        for run in runs:
            started = time.perf_counter()
            after, whole = redactors[run.name](screen.pixels.copy(), spec.language)
            run.seconds.append(time.perf_counter() - started)
            covered = fill_mask(screen.pixels, after)
            frame = score_mask(screen.items, covered)
            run.score = run.score + frame
            run.labelled = run.labelled + score_mask(_labelled_only(screen.items), covered)
            run.masked_whole += int(whole)
            if not whole:
                run.partial = run.partial + frame
        console.log(f"frame {n}/{len(specs)} {spec.kind}/{spec.language} {spec.size[0]}x{spec.size[1]} done")
    return runs


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.1f}"


def _cell(c: Counts, target: float | None = None) -> str:
    if not c.instances:
        return "-"
    mark = "" if target is None else (" ok" if c.recall >= target else " MISS")
    return f"{_pct(c.recall)} ({c.redacted}/{c.instances}){mark}"


def render_table(runs: Sequence[PeopleRun], frames: int) -> Table:
    table = Table(title=f"People benchmark: {frames} synthetic screens, recall % (redacted/instances)")
    table.add_column("lang")
    table.add_column("what")
    table.add_column("target", justify="right")
    for run in runs:
        table.add_column(run.name, justify="right")
    for lang in (*LANGUAGES, None):
        for label, kind, target in TARGETS:
            if not runs[0].counts(kind, lang).instances:
                continue
            cells = [_cell(r.counts(kind, lang), target) for r in runs]
            table.add_row(lang or "all", label, f">= {_pct(target)}", *cells)
        table.add_section()
    decoys = [f"{_pct(r.score.decoy_rate)} ({r.score.decoys_masked}/{r.score.decoys})" for r in runs]
    table.add_row("all", "decoys masked", f"<= {_pct(DECOY_TARGET)}", *decoys)
    table.add_row("all", "masked area outside personal data %", f"<= {_pct(OUTSIDE_TARGET)}",
                  *(_pct(r.score.outside_share) for r in runs))  # fmt: skip
    table.add_row("all", "frames masked whole (fail-closed)", "", *(str(r.masked_whole) for r in runs))
    for label, kind, _ in TARGETS[:2]:
        table.add_row("all", f"{label} on frames not masked whole", "",
                      *(_cell(r.counts(kind, partial=True)) for r in runs))  # fmt: skip
    table.add_row("all", "decoys masked % on frames not masked whole", "",
                  *(_pct(r.partial.decoy_rate) for r in runs))  # fmt: skip
    table.add_row("all", "seconds per frame", "", *(f"{r.seconds_per_frame:.2f}" for r in runs))
    return table


def to_json(runs: Sequence[PeopleRun], specs: Sequence[ScreenSpec]) -> dict[str, Any]:
    def nan_none(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 4)

    def recall(run: PeopleRun) -> list[dict[str, Any]]:
        out = []
        for lang in (*LANGUAGES, None):
            for label, kind, target in TARGETS:
                c = run.counts(kind, lang)
                if c.instances:
                    out.append({"language": lang or "all", "what": label, "target": target,
                                "instances": c.instances, "redacted": c.redacted,
                                "recall": nan_none(c.recall)})  # fmt: skip
        return out

    return {
        "frames": len(specs),
        "screens": [
            {"kind": s.kind, "language": s.language, "size": s.size, "font_px": s.font_px} for s in specs
        ],
        "redactors": {
            r.name: {
                "recall": recall(r),
                "decoys": r.score.decoys,
                "decoys_masked": r.score.decoys_masked,
                "outside_share": round(r.score.outside_share, 4),
                "frames_masked_whole": r.masked_whole,
                "seconds_per_frame": nan_none(r.seconds_per_frame),
            }
            for r in runs
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args("python -m bench.people", __doc__ or "", 14, argv)
    specs = people_specs(args.frames, args.seed)
    return run_bench(args, specs, run_people, render_table, to_json, Console(width=140))


if __name__ == "__main__":
    sys.exit(main())
