"""`veil mine INPUT... -o DIR`: event log -> task instances -> ranked automation candidates.

INPUT may be a sanitized text layer (`*.jsonl`), a Veil report (`*.json` naming its text layer),
a recording whose text layer `<stem>.textlayer.jsonl` sits beside it, an Action Logger CSV, an XES
log (needs the `mining` extra), or a folder of these. Writes `report.html`, `events.csv` and, when
pm4py is installed (or `--xes` demands it), `events.xes` (by default not for Action Logger CSVs
over 16 MiB: see Memory).

`--describe [--provider NAME] [--policy P.yaml]` also asks the destination, through the egress
gateway only, for each candidate's plain-language procedure (see `veil.mining.describe`); they go
into the report and `procedures.json`. If any candidate was blocked by the gateway the command
ends with EgressBlocked's exit code (6), else if a destination failed with EgressFailed's (10),
after writing every output.

Memory: Action Logger CSVs mined without XES (`--no-xes`, pm4py not installed, or by default a log
over 16 MiB) on the local engine take the bounded path (`veil.mining.bounded`): the events are
spilled as numbers to a private folder (0700, removed on success, error and interrupt), sorted by
user and time on disk and read back a block of sessions at a time, so the peak does not grow with
the number of events (it grows with the log's vocabulary: distinct screens, field combinations and
values); the outputs are byte for byte those of the in-memory path. Every other run (text layers,
XES inputs, `--engine ray`, and any run that writes XES, which pm4py builds from a table of the
whole log) holds the events (about 190 bytes each) and per-event arrays until the outputs are
written (see bench/README.md, Memory).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from pathlib import Path
from typing import Annotated

import typer

from veil.cli_common import JsonOpt, QuietOpt, VerboseOpt, setup_logging
from veil.exceptions import EgressBlocked, InputError, OutputError
from veil.gateway.base import ProviderError
from veil.gateway.services import Services
from veil.mining.actionlogger import UserIds, read_action_logger
from veil.mining.base import Candidate, Segmentation, UIEvent
from veil.mining.bounded import mine_csv
from veil.mining.describe import (
    DescribeOptions,
    DescribePlan,
    Procedure,
    describe,
    prepare,
    screen_names,
    write_procedures,
)
from veil.mining.export import event_table, write_events_csv
from veil.mining.report import FrameLookup, MiningResult, render_figures, render_report
from veil.mining.routines import RoutineOptions, rank_candidates
from veil.mining.segment import SegmentOptions, segment
from veil.mining.textlayer import TextFrame, derive_events, read_text_layer
from veil.mining.xes import EXTRA_HINT, pm4py_available, read_xes, write_xes

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v"})
TEXT_LAYER_SUFFIX = ".textlayer.jsonl"

log = logging.getLogger(__name__)

_TIME = attrgetter("timestamp")  # an event's sort key (faster than a lambda)


@dataclass(frozen=True, slots=True)
class MineOptions:
    xes: bool | None = None  # None: write XES when pm4py is installed
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    routines: RoutineOptions = field(default_factory=RoutineOptions)
    describe: DescribeOptions | None = None  # None: no procedures, nothing sent
    engine: str = "local"  # "ray": events per recording and the segmentation as Ray tasks


@dataclass(frozen=True, slots=True)
class MineSummary:
    report: Path
    exports: tuple[Path, ...]
    events: int
    candidates: tuple[Candidate, ...]
    procedures: tuple[Procedure, ...] = ()
    procedures_file: Path | None = None


def _expand(inputs: list[Path]) -> Iterator[Path]:
    for path in inputs:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in {".csv", ".xes", ".jsonl"} or p.name.lower().endswith(".xes.gz")
            )
            if not found:
                raise InputError(f"no UI log or text layer in folder: {path}")
            yield from found
        elif not path.exists():
            raise InputError(f"input not found: {path}")
        else:
            yield path


def _report_text_layer(path: Path) -> Path:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name}: unreadable Veil report ({type(exc).__name__})") from exc
    named = report.get("text_layer") if isinstance(report, dict) else None
    candidate = (
        path.parent / named if isinstance(named, str) else path.with_name(path.stem + TEXT_LAYER_SUFFIX)
    )
    if not candidate.is_file():
        raise InputError(f"{path.name}: the report's sanitized text layer was not found ({candidate.name})")
    return candidate


def resolve(path: Path) -> tuple[str, Path]:
    """(kind, file) for one input file: kind is 'textlayer', 'csv' or 'xes'."""
    name = path.name.lower()
    if name.endswith(".jsonl"):
        return "textlayer", path
    if name.endswith((".xes", ".xes.gz")):
        return "xes", path
    if name.endswith(".csv"):
        return "csv", path
    if name.endswith(".json"):
        return "textlayer", _report_text_layer(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        layer = path.with_name(path.stem + TEXT_LAYER_SUFFIX)
        if layer.is_file():
            return "textlayer", layer
        raise InputError(
            f"{path.name}: mining reads a recording's sanitized text layer; run `veil redact` on it first"
            f" (expected {layer.name} beside it)"
        )
    raise InputError(f"{path.name}: unknown input kind (expected .jsonl, .json, .csv, .xes or a recording)")


def load_events(inputs: list[Path], engine: str = "local") -> tuple[list[UIEvent], dict[str, Path]]:
    """All events of all inputs in time order, and the text layer file of each source name."""
    files = [resolve(path) for path in _expand(inputs)]
    if engine == "ray":
        from veil.scale import mining as on_ray  # imports ray: only when asked for

        return on_ray.load_events(files)
    users = UserIds()
    events: list[UIEvent] = []
    layers: dict[str, Path] = {}
    for kind, file in files:
        if kind == "textlayer":
            events.extend(derive_events(read_text_layer(file), source=file.name))
            layers[file.name] = file
        elif kind == "csv":
            events.extend(read_action_logger(file, users))
        else:
            events.extend(read_xes(file, users))
    if not events:
        raise InputError("the inputs hold no UI events")
    events.sort(key=_TIME)
    return events, layers


def _frame_lookup(layers: dict[str, Path]) -> FrameLookup:
    def find(source: str, number: int) -> TextFrame | None:
        path = layers.get(source)
        if path is None:
            return None
        return next((f for f in read_text_layer(path) if f.frame == number), None)

    return find


def mine(
    inputs: list[Path], out: Path, options: MineOptions | None = None, *, services: Services | None = None
) -> MineSummary:
    """Mine `inputs` and write the report and exports into `out`; `services` are the gateway's
    (analyzer, ledger) for `--describe`."""
    opt = options or MineOptions()
    if opt.xes and not pm4py_available():
        raise InputError(EXTRA_HINT)
    plan = prepare(opt.describe) if opt.describe else None  # a send that cannot happen stops us here
    files = [resolve(path) for path in _expand(inputs)]
    want_xes, xes_note = xes_choice(files, opt.xes)
    if bounded_fits(files, opt, want_xes):
        return _mine_bounded([file for _kind, file in files], inputs, out, opt, plan, services, xes_note)
    events, layers = load_events(inputs, opt.engine)
    if opt.engine == "ray":
        from veil.scale.mining import segment_remote

        seg = segment_remote(events, opt.segment)
    else:
        seg = segment(events, opt.segment)
    candidates = rank_candidates(events, seg, opt.routines)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"could not create output folder {out}: {type(exc).__name__}") from exc
    names = {c.type_id: c.name for c in candidates}
    exports = [write_events_csv(events, seg, names, out / "events.csv")]
    notes: list[str] = []
    if want_xes:  # pm4py needs the whole table
        exports.append(write_xes(event_table(events, seg, names), out / "events.xes"))
    elif xes_note:
        notes.append(xes_note)
    procedures: tuple[Procedure, ...] = ()
    procedures_file = None
    if plan is not None:
        procedures = describe(candidates, screen_names(events, seg), plan, services)
        procedures_file = write_procedures(out / "procedures.json", procedures)
    result = MiningResult(
        events=tuple(events),
        segmentation=seg,
        candidates=tuple(candidates),
        inputs=tuple(str(p) for p in inputs),
        exports=tuple(p.name for p in exports),
        notes=tuple(notes),
        procedures=procedures,
    )
    report = out / "report.html"
    _write_text(report, render_report(result, _frame_lookup(layers)))
    return MineSummary(report, tuple(exports), len(events), tuple(candidates), procedures, procedures_file)


# Above this much Action Logger CSV, XES is written only on `--xes`: pm4py builds it from a table
# of the whole log (~3 KB an event), the one output that would hold the log in memory.
XES_DEFAULT_MAX_BYTES = 16 * 2**20


def xes_choice(files: list[tuple[str, Path]], asked: bool | None) -> tuple[bool, str | None]:
    """(write events.xes, the report's note when not). `asked` None (the default): when pm4py is
    installed, except for Action Logger CSVs over `XES_DEFAULT_MAX_BYTES` in all."""
    if asked is not None:
        return asked, None if asked else "No XES export (--no-xes)."
    if not pm4py_available():
        return False, f"No XES export: {EXTRA_HINT}."
    if (
        all(kind == "csv" for kind, _file in files)
        and sum(_size(f) for _k, f in files) > XES_DEFAULT_MAX_BYTES
    ):
        log.info("no events.xes for a log over %d MiB unless --xes asks for it", XES_DEFAULT_MAX_BYTES >> 20)
        return False, (
            f"No XES export: the log is over {XES_DEFAULT_MAX_BYTES >> 20} MiB and XES is built in memory; "
            "--xes writes it."
        )
    return True, None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # read later, where a missing file is an InputError


def bounded_fits(files: list[tuple[str, Path]], opt: MineOptions, want_xes: bool) -> bool:
    """Whether `mine` takes the bounded path: Action Logger CSVs only, on this machine, no XES."""
    return opt.engine == "local" and not want_xes and all(kind == "csv" for kind, _file in files)


def _mine_bounded(
    files: list[Path],
    inputs: list[Path],
    out: Path,
    opt: MineOptions,
    plan: DescribePlan | None,
    services: Services | None,
    xes_note: str | None,
) -> MineSummary:
    """`mine` on Action Logger CSVs without XES, in bounded memory (`veil.mining.bounded`)."""
    found = mine_csv(files, out, opt.segment, opt.routines)
    procedures: tuple[Procedure, ...] = ()
    procedures_file = None
    if plan is not None:
        procedures = describe(found.candidates, found.screens, plan, services)
        procedures_file = write_procedures(out / "procedures.json", procedures)
    result = MiningResult(
        events=(),
        segmentation=Segmentation((), (), ()),
        candidates=found.candidates,
        inputs=tuple(str(p) for p in inputs),
        exports=(found.events_csv.name,),
        notes=(xes_note,) if xes_note else (),
        procedures=procedures,
    )
    report = out / "report.html"
    _write_text(report, render_figures(found.figures, result, lambda _c: []))
    return MineSummary(
        report, (found.events_csv,), found.events, found.candidates, procedures, procedures_file
    )


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise OutputError(f"could not write {path}: {type(exc).__name__}") from exc


class MineEngine(StrEnum):
    local = "local"
    ray = "ray"


def mine_command(
    inputs: Annotated[
        list[Path], typer.Argument(help="Text layers, Veil reports, recordings, UI logs or folders.")
    ],
    out: Annotated[
        Path, typer.Option("-o", "--output", "--out", help="Folder for report.html and the exports.")
    ],
    xes: Annotated[
        bool | None,
        typer.Option(
            "--xes/--no-xes",
            help="Write events.xes (default: when pm4py is installed, except for Action Logger CSVs over"
            " 16 MiB). XES holds the whole log in memory; without it Action Logger CSVs are mined in"
            " bounded memory.",
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many candidates to report.")] = 10,
    describe: Annotated[
        bool,
        typer.Option("--describe", help="Ask --provider, through the egress gateway, for each procedure."),
    ] = False,
    provider: Annotated[
        str, typer.Option("--provider", help="Destination name from the policy, or 'local' (no network).")
    ] = "local",
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy YAML with the egress destinations.")
    ] = None,
    engine: Annotated[
        MineEngine,
        typer.Option("--engine", help="local, or ray: a task per recording (RAY_ADDRESS: a cluster)."),
    ] = MineEngine.local,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Find repetitive routines in sanitized recordings or UI logs and rank automation candidates."""
    setup_logging(verbose, quiet)
    wanted = DescribeOptions(provider, policy) if describe else None
    chosen = MineOptions(xes=xes, routines=RoutineOptions(top=top), describe=wanted, engine=engine.value)
    summary = mine(inputs, out, chosen)
    if as_json:
        typer.echo(json.dumps(_summary_json(summary), ensure_ascii=False, indent=1))
    elif not quiet:
        typer.echo(f"report: {summary.report}")
        for path in summary.exports:
            typer.echo(f"export: {path}")
        if summary.procedures_file is not None:
            typer.echo(f"procedures: {summary.procedures_file}")
        for rank, c in enumerate(summary.candidates[:3], start=1):
            typer.echo(
                f"{rank}. {c.name}: {c.instances} instances, {c.hours_saved_per_month:.1f} h/month to save"
            )
    _raise_for_procedures(summary)


def _summary_json(summary: MineSummary) -> dict[str, object]:
    return {
        "report": str(summary.report),
        "exports": [str(p) for p in summary.exports],
        "events": summary.events,
        "procedures": None if summary.procedures_file is None else str(summary.procedures_file),
        "candidates": [
            {
                "name": c.name,
                "instances": c.instances,
                "hours_saved_per_month": round(c.hours_saved_per_month, 2),
            }
            for c in summary.candidates
        ],
    }


def _raise_for_procedures(summary: MineSummary) -> None:
    """Every output is written; now say, through the exit code, what was not described."""
    blocked = sum(p.status == "blocked" for p in summary.procedures)
    failed = sum(p.status == "failed" for p in summary.procedures)
    total = len(summary.procedures)
    if blocked:
        raise EgressBlocked(
            f"{blocked} of {total} procedures were blocked by the egress gateway (see {summary.report})"
        )
    if failed:
        raise ProviderError(f"{failed} of {total} procedures got no answer (see {summary.report})")
