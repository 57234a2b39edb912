"""The options every `veil` command shares, so one convention holds everywhere:
`-o/--output`, `--json`, `--policy`, `-v/--verbose` (repeatable) and `-q/--quiet`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from veil import logs

PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="Policy YAML; embedded defaults when omitted.")
]
VerboseOpt = Annotated[int, typer.Option("--verbose", "-v", count=True, help="-v info, -vv debug logs.")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Errors only: no progress, no summary table, no warnings.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]


def setup_logging(verbose: int, quiet: bool = False) -> None:
    """-q: errors only; default: warnings; -v: info; -vv: debug (personal values are filtered out
    of every record whatever the level, see `veil.logs`)."""
    if quiet and verbose:
        raise typer.BadParameter("-q/--quiet and -v/--verbose exclude each other")
    level = logging.ERROR if quiet else logging.WARNING - 10 * min(verbose, 2)
    logs.configure(level)
