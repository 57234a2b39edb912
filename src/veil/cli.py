"""The `veil` command line. Results go to stdout (or files), progress and errors to stderr."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from veil.cli_common import JsonOpt, PolicyOpt, QuietOpt, VerboseOpt, setup_logging
from veil.exceptions import EXIT_CODES, EXIT_FRAMES_MASKED, EXIT_OK, InputError
from veil.names import shown_path
from veil.options import load_policy
from veil.report import RunReport

app = typer.Typer(
    name="veil",
    help="Redact personal data from screen recordings on premises, verify it, and prove what left.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        from veil import __version__

        typer.echo(f"veil {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Redact personal data from screen recordings on premises, verify it, and prove what left."""


class RichProgress:
    """rich progress bar on stderr with frames/s and ETA."""

    def __init__(self, total: int | None, description: str) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=False,
            disable=not stderr.is_terminal,
        )
        self._task = self._progress.add_task(description, total=total, rate="")

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, advance: int = 1) -> None:
        task = self._progress.tasks[0]
        rate = f"{task.speed:.2f} frames/s" if task.speed else ""
        self._progress.update(self._task, advance=advance, rate=rate)


def _summary_table(report: RunReport) -> Table:
    summary = report.summary()
    table = Table(title=f"veil redact: {summary['input']}", show_lines=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("frames", str(summary["frames"]))
    for kind, count in summary["findings_by_type"].items():
        table.add_row(f"findings: {kind}", str(count))
    table.add_row("frames masked whole", str(summary["frames_masked_whole"]))
    for reason, count in summary["mask_reasons"].items():
        table.add_row(f"  reason: {reason}", str(count))
    table.add_row("frames cleared by the verifier", str(summary["verifier_clean_frames"]))
    caught = sum(summary["caught_by_verifier_by_type"].values())
    if caught:
        table.add_row("values only the verifier caught (masked, frame re-scanned)", str(caught))
    return table


class Engine(StrEnum):
    """Where the frames are processed (`scale.engine`)."""

    local = "local"
    ray = "ray"


@app.command()
def redact(
    input: Annotated[
        Path, typer.Argument(help="Video (mp4, webm, mkv, mov), image (png, jpg, webp) or folder.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Default: <name>_redacted.<ext> next to the input.")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Report JSON path.")] = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    full: Annotated[
        bool, typer.Option("--full", help="Process every frame from scratch (slow reference path).")
    ] = False,
    labels: Annotated[
        bool, typer.Option("--labels", help='Draw consistent pseudonyms ("Customer 3") in the masks.')
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Worker processes (default: one per core)."),
    ] = None,
    engine: Annotated[
        Engine | None,
        typer.Option(
            "--engine",
            help="local (worker processes) or ray (RAY_ADDRESS: a cluster). Default: the policy's.",
        ),
    ] = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> int:
    """Redact personal data, verify every frame by an independent re-scan, write output and report."""
    from veil.api import RunOptions, redact_file

    setup_logging(verbose, quiet)
    loaded = load_policy(policy)  # a bad policy stops the run before anything is written
    if labels:
        loaded = loaded.model_copy(update={"redact": loaded.redact.model_copy(update={"labels": True})})
    result = redact_file(
        input,
        RunOptions(loaded, output, report, full, workers, engine=engine and engine.value),
        progress=None if quiet else RichProgress,
    )
    if as_json:
        stdout.print_json(json.dumps(result.summary(), ensure_ascii=False))
    elif not quiet:
        stdout.print(_summary_table(result))
        stdout.print(f"output: {shown_path(result.output)}", markup=False)
    return EXIT_FRAMES_MASKED if result.frames_masked else EXIT_OK


@app.command("scan-text")
def scan_text_command(
    jsonl: Annotated[bool, typer.Option("--jsonl", help='Input is JSONL: {"id": ..., "text": ...}.')] = False,
    policy: PolicyOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> int:
    """Read lines (or JSONL) on stdin, write JSONL findings with offsets; never the values."""
    from veil.detect.registry import default_analyzer

    setup_logging(verbose, quiet)
    analyzer = default_analyzer(load_policy(policy).detect)
    for number, raw in enumerate(sys.stdin, start=1):
        line = raw.rstrip("\n")
        ident: object = number
        text = line
        if jsonl:
            try:
                obj = json.loads(line)
                ident, text = obj.get("id", number), str(obj["text"])
            except (json.JSONDecodeError, KeyError, AttributeError) as exc:
                raise InputError(f"stdin line {number}: not a JSON object with a 'text' key") from exc
        for span in analyzer.analyze(text):
            record = {
                "id": ident,
                "start": span.start,
                "end": span.end,
                "type": span.type,
                "score": round(span.score, 3),
                "recognizer": span.recognizer,
            }
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return EXIT_OK


@app.command("exit-codes")
def exit_codes() -> int:
    """List the exit codes veil uses."""
    table = Table(title="veil exit codes")
    table.add_column("code", justify="right")
    table.add_column("meaning")
    for meaning, code in sorted(EXIT_CODES.items(), key=lambda kv: kv[1]):
        table.add_row(str(code), meaning)
    stdout.print(table)
    return EXIT_OK


@app.command()
def demo(
    out: Annotated[Path, typer.Option("-o", "--output", "--out", help="Folder for the demo files.")] = Path(
        "veil-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the generated recording.")] = 7,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> int:
    """Generate a synthetic screen recording (KO/JA/FR/EN), redact it, verify it and score it."""
    from veil.demo import run_demo
    from veil.synth.fakedata import LANGUAGES

    setup_logging(verbose, quiet)
    if not quiet:
        stderr.print(f"veil demo: generating a synthetic recording in {out}/ and redacting it …")
    result = run_demo(out, seed=seed, progress=RichProgress)
    summary = result.report.summary()
    recall = {lang: result.score.counts(language=lang) for lang in LANGUAGES}
    if as_json:
        summary["recall_structured"] = {k: [c.redacted, c.instances] for k, c in recall.items()}
        summary["leaks"] = result.leaks
        stdout.print_json(json.dumps(summary, ensure_ascii=False))
    elif not quiet:
        stdout.print(_summary_table(result.report))
        table = Table(title="structured personal values covered (ground truth of the generator)")
        for column in ("language", "covered", "instances", "recall"):
            table.add_column(column, justify="right")
        for lang, counts in recall.items():
            table.add_row(lang, str(counts.redacted), str(counts.instances), f"{counts.recall:.1%}")
        stdout.print(table)
        stdout.print(f"decoys masked: {result.score.decoys_masked}/{result.score.decoys}")
        files = (("before", result.before), ("after ", result.after), ("video ", result.report.output))
        stdout.print("\n".join(f"{what}: {shown_path(path)}" for what, path in files), markup=False)
    return EXIT_FRAMES_MASKED if result.report.frames_masked else EXIT_OK


def _mount_subcommands() -> None:
    from veil.access.cli import alarms_command
    from veil.access.cli import app as access_app
    from veil.agent.cli import app as record_app
    from veil.audit.cli import app as audit_app
    from veil.audit.witness_cli import app as witness_app
    from veil.gateway.analyze import analyze_command
    from veil.mining.cli import mine_command
    from veil.policy_cli import app as policy_app
    from veil.server.cli import app as serve_app
    from veil.store.cli import app as store_app

    app.add_typer(audit_app, name="audit", help="Verify the ledger, prove entries, export it.")
    app.add_typer(policy_app, name="policy")
    app.add_typer(witness_app, name="witness", help="Run a witness that cosigns ledger checkpoints.")
    app.add_typer(record_app, name="record")
    app.add_typer(store_app, name="store", help="The encrypted recording store: put, get, list, expire.")
    app.add_typer(access_app, name="access", help="Users, roles and break-glass access to raw footage.")
    app.command("alarms")(alarms_command)
    app.command("mine")(mine_command)
    app.command("analyze")(analyze_command)
    app.add_typer(serve_app, name="serve")


_mount_subcommands()
