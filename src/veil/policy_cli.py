"""`veil policy init|show`: start a policy file from the commented template, print the effective one."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from veil.cli_common import JsonOpt, PolicyOpt
from veil.exceptions import EXIT_OK, OutputError
from veil.gateway.policy import load_policies

app = typer.Typer(help="Write a starting policy file, or print the effective policy.", no_args_is_help=True)


def template_text() -> str:
    return resources.files("veil").joinpath("policy-template.yaml").read_text(encoding="utf-8")


@app.command("init")
def init_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (default: stdout). Never overwrites.")
    ] = None,
) -> int:
    """The commented policy template, every key at its embedded default."""
    text = template_text()
    if output is None:
        typer.echo(text, nl=False)
        return EXIT_OK
    try:
        with output.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError as exc:
        raise OutputError(f"{output} exists; veil policy init never overwrites a policy") from exc
    except OSError as exc:
        raise OutputError(f"could not write {output}: {type(exc).__name__}") from exc
    typer.echo(f"policy: {output}", err=True)
    return EXIT_OK


@app.command("show")
def show_command(policy: PolicyOpt = None, as_json: JsonOpt = False) -> int:
    """The effective policy (the file validated over the embedded defaults), as YAML or JSON.
    Deny-list terms are printed as a count: they may name people."""
    redaction, egress = load_policies(policy)
    effective: dict[str, Any] = redaction.model_dump(mode="json")
    effective["egress"] = egress.model_dump(mode="json")
    deny = effective["detect"]["deny"]
    if deny:
        effective["detect"]["deny"] = [f"<{len(deny)} terms, see the policy file>"]
    if as_json:
        typer.echo(json.dumps(effective, ensure_ascii=False, indent=1))
    else:
        typer.echo(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), nl=False)
    return EXIT_OK
