"""Browser screen benchmark: Veil and Presidio on business apps rendered by headless Chromium.

    python -m bench.browser_screens [--seeds dev|heldout] [--frames N] [--no-peer] [--json PATH]
                                    [--breakdown]

Thirteen app templates (order admin, support chat, CRM card, bank transfer, webmail, video
meeting, psql/mysql terminal, Excel-like grid, CSV export, HR form, shipping labels, invoice
viewer, long chat) in ko/ja/fr/en, several fonts per script, zoom 80-150 %, 1366x768 to
2560x1440, light and dark, some as typed or scrolled sequences of three frames. The truth comes
from the DOM (each value's span boxes), the score from the pixels (the ink rule, see
`bench.browser.scoring`). Recall is reported on the frames each redactor delivers (not masked
whole), apart from the share of frames masked whole. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.browser.render import FrameSpec, Renderer, frame_specs
from bench.browser.scoring import FrameOutcome, ValueOutcome, score_frame
from bench.browser.values import DECOY_KINDS, LANGUAGES, PERSONAL_TYPES
from veil.models import Box, Pixels

# Presidio's image redactor has no recognizer for these: left out of its totals (shown "n/a").
PEER_LEFT_OUT = frozenset({"address", "avatar", "face"})
DEFAULT_FRAMES = {"dev": 13, "heldout": 26}


@dataclass(frozen=True)
class Output:
    pixels: Pixels
    masked_whole: bool
    layer: tuple[tuple[Box, str], ...] | None = None  # the sanitized text layer (Veil only)
    reason: str = ""  # why the frame was masked whole (Veil's MaskReason)


Runner = Callable[[Pixels, str], Output]


def veil_runner() -> Runner:
    from veil.api import build_pipeline
    from veil.models import Frame
    from veil.options import Policy

    pipeline = build_pipeline(Policy())

    def run(pixels: Pixels, language: str) -> Output:
        done = pipeline.process(Frame(index=0, pixels=pixels))
        layer = tuple((line.box, line.text) for line in done.text_layer)
        reason = str(done.result.mask_reason) if done.result.mask_reason else ""
        return Output(done.pixels, done.result.masked_whole, layer, reason)

    return run


def peer_runner() -> Runner:
    from bench.presidio_peer import PresidioPeer

    peer = PresidioPeer(extra=True)
    return lambda pixels, language: Output(peer.redact(pixels, language), False)


@dataclass
class Tally:
    name: str
    frames: list[FrameOutcome] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)  # why frames were masked whole

    def values(self, delivered: bool = True, **match: Any) -> list[ValueOutcome]:
        """Personal values (not partially typed) matching `match`, on delivered frames only
        unless `delivered` is False."""
        out = []
        for frame in self.frames:
            if delivered and frame.masked_whole:
                continue
            for v in frame.outcomes:
                if v.decoy or v.partial or any(getattr(v, k) != want for k, want in match.items()):
                    continue
                if self.name != "Veil" and v.kind in PEER_LEFT_OUT:
                    continue
                out.append(v)
        return out

    def decoys(self, kind: str | None = None) -> list[ValueOutcome]:
        return [v for f in self.frames if not f.masked_whole for v in f.outcomes
                if v.decoy and (kind is None or v.kind == kind)]  # fmt: skip


def run_all(specs: Sequence[FrameSpec], runners: dict[str, Runner], renderer: Renderer,
            console: Console) -> dict[str, Tally]:  # fmt: skip
    tallies = {name: Tally(name) for name in runners}
    for n, spec in enumerate(specs, 1):
        for shot in renderer.shots(spec):
            for name, runner in runners.items():
                started = time.perf_counter()
                out = runner(shot.pixels.copy(), spec.language)
                seconds = time.perf_counter() - started
                tallies[name].frames.append(
                    score_frame(shot, out.pixels, out.masked_whole, seconds, out.layer)
                )
                if out.masked_whole:
                    tallies[name].reasons[out.reason or "unknown"] += 1
        console.log(f"screen {n}/{len(specs)} {spec.template}/{spec.language} {spec.motion} "
                    f"{spec.size[0]}x{spec.size[1]} zoom {spec.zoom} done")  # fmt: skip
    return tallies


def incremental_tally(specs: Sequence[FrameSpec], renderer: Renderer, console: Console) -> Tally:
    """The typed and scrolled sequences through Veil's incremental path: each sequence redacted
    as a folder of frames by `veil.api.redact_file` (ledger off, one process), scored the same way
    (the text layer is not: it is written as changes between frames)."""
    import tempfile

    from PIL import Image

    from veil.api import RunOptions, redact_file
    from veil.options import LedgerOptions, Policy

    policy = Policy(ledger=LedgerOptions(enabled=False))
    tally = Tally("Veil incremental")
    with tempfile.TemporaryDirectory(prefix="veil-bench-seq-") as tmp:
        for k, spec in enumerate(s for s in specs if s.motion != "still"):
            shots = renderer.shots(spec)
            source, output = Path(tmp) / f"seq{k}", Path(tmp) / f"seq{k}_redacted"
            source.mkdir()
            for shot in shots:
                Image.fromarray(shot.pixels).save(source / f"frame_{shot.step:03d}.png")
            report_path = Path(tmp) / f"seq{k}.report.json"
            started = time.perf_counter()
            redact_file(source, RunOptions(policy, output=output, report=report_path, workers=1))
            seconds = (time.perf_counter() - started) / len(shots)
            records = json.loads(report_path.read_text(encoding="utf-8"))["frames"]
            for shot, record in zip(shots, records, strict=True):
                after = np.asarray(Image.open(output / f"frame_{shot.step:03d}.png").convert("RGB"))
                tally.frames.append(score_frame(shot, after, bool(record["masked_whole"]), seconds))
            console.log(f"sequence {k + 1} {spec.template}/{spec.language} {spec.motion}: incremental done")
    return tally


def sequence_table(per_frame: Tally, incremental: Tally) -> Table:
    """The sequences' frames: Veil frame by frame against its incremental path."""
    alone = Tally("Veil frame by frame", [f for f in per_frame.frames if f.motion != "still"])
    runs = (alone, incremental)
    table = Table(
        title=f"Typed and scrolled sequences ({len(incremental.frames)} frames): frame by frame vs "
        "the incremental path"
    )
    for col in ("what", *(r.name for r in runs)):
        table.add_column(col, justify="left" if col == "what" else "right")
    table.add_row(
        "frames masked whole", *(_pct(sum(f.masked_whole for f in r.frames), len(r.frames)) for r in runs)
    )
    table.add_row("recall on delivered frames, all types", *(_cell(r) for r in runs))
    table.add_row("recall on all frames (masked whole = hidden)", *(_cell(r, delivered=False) for r in runs))
    table.add_row("values being typed (partial)", *(_pct(*_recall(_typed(r))) for r in runs))
    table.add_row("decoys masked", *(_pct(*_recall(r.decoys())) for r in runs))
    table.add_row(
        "seconds per frame",
        *(f"{sum(f.seconds for f in r.frames) / max(len(r.frames), 1):.2f}" for r in runs),
    )
    return table


def _pct(part: int, whole: int) -> str:
    return "-" if not whole else f"{100 * part / whole:.1f} ({part}/{whole})"


def _recall(values: Iterable[ValueOutcome]) -> tuple[int, int]:
    vals = list(values)
    return sum(v.hidden for v in vals), len(vals)


def _cell(tally: Tally, kind: str | None = None, **match: Any) -> str:
    if kind is not None and tally.name != "Veil" and kind in PEER_LEFT_OUT:
        return "n/a"
    if kind is not None:
        match["kind"] = kind
    return _pct(*_recall(tally.values(**match)))


def _common(tally: Tally, **match: Any) -> tuple[int, int]:
    """Recall over the types both redactors cover."""
    return _recall(v for v in tally.values(**match) if v.kind not in PEER_LEFT_OUT)


def _typed(tally: Tally) -> list[ValueOutcome]:
    """Values caught while being typed (part of them on screen), on delivered frames."""
    return [v for f in tally.frames if not f.masked_whole for v in f.outcomes if v.partial and not v.decoy]


def render_table(tallies: dict[str, Tally], screens: int, seeds: str) -> Table:
    runs = list(tallies.values())
    frames = len(runs[0].frames)
    title = f"Browser screens ({seeds}): {screens} screens, {frames} frames; recall % (hidden/values) "
    table = Table(title=title + "on delivered frames (not masked whole), ink rule >= 95 %")
    for col in ("type", "lang"):
        table.add_column(col)
    for run in runs:
        table.add_column(run.name, justify="right")
    for kind in PERSONAL_TYPES:
        for lang in LANGUAGES:
            if runs[0].values(delivered=False, kind=kind, language=lang):
                table.add_row(kind, lang, *(_cell(r, kind, language=lang) for r in runs))
    table.add_section()
    for lang in (*LANGUAGES, None):
        match = {"language": lang} if lang else {}
        table.add_row(
            "[bold]all types[/bold]", lang or "all", _cell(runs[0], **match), *("n/a" for _ in runs[1:])
        )
        table.add_row(
            "[bold]types both cover[/bold]", lang or "all", *(_pct(*_common(r, **match)) for r in runs)
        )
    table.add_section()
    for listed in ("in", "out"):
        table.add_row(f"names {'in' if listed == 'in' else 'out of'} the detectors' lists", "all",
                      *(_cell(r, "person_name", listed=listed) for r in runs))  # fmt: skip
    partial = [_pct(*_recall(_typed(r))) for r in runs]
    table.add_row("values being typed (partial)", "all", *partial)
    table.add_section()
    table.add_row(
        "frames masked whole",
        "all",
        *(_pct(sum(f.masked_whole for f in r.frames), len(r.frames)) for r in runs),
    )
    everywhere = [
        _cell(r, delivered=False) if r.name == "Veil" else _pct(*_common(r, delivered=False)) for r in runs
    ]
    table.add_row("recall on all frames (masked whole = hidden)", "all", *everywhere)
    for kind in DECOY_KINDS:
        table.add_row(f"decoys masked: {kind}", "all", *(_pct(*_recall(r.decoys(kind))) for r in runs))
    table.add_row("[bold]decoys masked (all)[/bold]", "all", *(_pct(*_recall(r.decoys())) for r in runs))
    outside = []
    for r in runs:
        delivered = [f for f in r.frames if not f.masked_whole]
        masked = sum(f.masked_px for f in delivered)
        outside.append("-" if not masked else f"{100 * sum(f.outside_px for f in delivered) / masked:.1f}")
    table.add_row("masked area outside personal data %", "all", *outside)
    cer = []
    for r in runs:
        chars = sum(f.cer_chars for f in r.frames)
        cer.append(
            "n/a" if not chars else f"{100 * sum(f.cer_errors for f in r.frames) / chars:.1f} ({chars} chars)"
        )
    table.add_row("text layer CER % (uncovered DOM text)", "all", *cer)
    seconds = [f"{sum(f.seconds for f in r.frames) / max(len(r.frames), 1):.2f}" for r in runs]
    table.add_row("seconds per frame", "all", *seconds)
    return table


def breakdown_table(tally: Tally) -> Table:
    """Where the misses sit: template x type x language, personal values not hidden."""
    misses: dict[tuple[str, str, str], list[int]] = {}
    for v in tally.values():
        cell = misses.setdefault((v.template, v.kind, v.language), [0, 0])
        cell[0] += int(not v.hidden)
        cell[1] += 1
    table = Table(title=f"{tally.name}: misses on delivered frames by template, type, language")
    for col in ("template", "type", "lang", "missed/values"):
        table.add_column(col)
    for (template, kind, lang), (missed, n) in sorted(misses.items(), key=lambda kv: -kv[1][0]):
        if missed:
            table.add_row(template, kind, lang, f"{missed}/{n}")
    whole: dict[str, list[int]] = {}
    for f in tally.frames:
        if f.outcomes:
            cell = whole.setdefault(f.outcomes[0].template, [0, 0])
            cell[0] += int(f.masked_whole)
            cell[1] += 1
    table.add_section()
    for template, (k, n) in sorted(whole.items()):
        if k:
            table.add_row(template, "frames masked whole", "", f"{k}/{n}")
    for reason, k in sorted(tally.reasons.items()):
        table.add_row("all", f"masked whole because: {reason}", "", str(k))
    return table


def to_json(tallies: dict[str, Tally], specs: Sequence[FrameSpec], seeds: str) -> dict[str, Any]:
    def rec(values: list[ValueOutcome]) -> dict[str, Any]:
        hidden, n = _recall(values)
        return {"hidden": hidden, "values": n, "recall": None if not n else round(hidden / n, 4)}

    out: dict[str, Any] = {"seeds": seeds, "redactors": {}}
    out["screens"] = [{"template": s.template, "language": s.language, "size": s.size, "zoom": s.zoom,
                       "motion": s.motion, "dark": s.dark, "seed": s.seed} for s in specs]  # fmt: skip
    for name, t in tallies.items():
        by = [
            {"type": k, "language": lang, **rec(t.values(kind=k, language=lang))}
            for k in PERSONAL_TYPES
            for lang in LANGUAGES
            if t.values(delivered=False, kind=k, language=lang)
        ]
        out["redactors"][name] = {
            "recall_delivered": by,
            "names_in_list": rec(t.values(kind="person_name", listed="in")),
            "names_out_of_list": rec(t.values(kind="person_name", listed="out")),
            "frames": len(t.frames),
            "frames_masked_whole": sum(f.masked_whole for f in t.frames),
            "mask_reasons": dict(t.reasons),
            "decoys": {k: rec(t.decoys(k)) for k in DECOY_KINDS},
            "masked_px": sum(f.masked_px for f in t.frames if not f.masked_whole),
            "outside_px": sum(f.outside_px for f in t.frames if not f.masked_whole),
            "cer_errors": sum(f.cer_errors for f in t.frames),
            "cer_chars": sum(f.cer_chars for f in t.frames),
            "seconds": [round(f.seconds, 3) for f in t.frames],
            "left_out_types": sorted(PEER_LEFT_OUT) if name != "Veil" else [],
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.browser_screens", description=(__doc__ or "").splitlines()[0]
    )
    seeds_help = "dev (seeds 1..N) or the held-out range (9001..): see bench/README.md"
    parser.add_argument("--seeds", choices=("dev", "heldout"), default="dev", help=seeds_help)
    parser.add_argument("--frames", type=int, help="screens (default: 13 dev, 26 held out)")
    skip_help = (
        "leave out the first N of those screens (a held-out range not yet seen: --frames 104 --skip 52)"
    )
    parser.add_argument("--skip", type=int, default=0, help=skip_help)
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                        help="also run Presidio's image redactor (default on)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the numbers (never a value) to this file too")
    parser.add_argument("--breakdown", action="store_true", help="also print Veil's misses by template")
    incremental_help = "also run the sequences through Veil's incremental path (redact_file)"
    parser.add_argument("--incremental", action="store_true", help=incremental_help)
    parser.add_argument(
        "--cache", type=Path, help="folder for rendered screens (default ~/.cache/veil-bench)"
    )
    args = parser.parse_args(argv)
    err, console = Console(stderr=True), Console(width=150)
    specs = frame_specs(args.seeds, args.frames or DEFAULT_FRAMES[args.seeds])[args.skip :]
    runners: dict[str, Runner] = {"Veil": veil_runner()}
    if args.peer:
        from bench.presidio_peer import PeerUnavailable

        try:
            runners["Presidio"] = peer_runner()
        except PeerUnavailable as exc:
            err.print(f"[red]peer unavailable:[/red] {exc}")
            return 2
    with Renderer(args.cache / "browser" if args.cache else None) as renderer:
        tallies = run_all(specs, runners, renderer, err)
        incremental = incremental_tally(specs, renderer, err) if args.incremental else None
    console.print(render_table(tallies, len(specs), args.seeds))
    if incremental is not None:
        console.print(sequence_table(tallies["Veil"], incremental))
    if args.breakdown:
        console.print(breakdown_table(tallies["Veil"]))
    if args.json:
        args.json.write_text(json.dumps(to_json(tallies, specs, args.seeds), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
