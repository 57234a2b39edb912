"""Entry point: the only place where exceptions become exit codes."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from veil.exceptions import VeilError


def main(argv: list[str] | None = None) -> int:
    from veil.cli import app

    err = Console(stderr=True, highlight=False)
    try:
        result = app(args=argv, prog_name="veil", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.exceptions.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        return int(getattr(exc, "exit_code", 2))
    except typer.Abort:
        err.print("veil: aborted")
        return 130
    except VeilError as exc:
        err.print(f"veil: error: {exc}", markup=False)
        return exc.exit_code
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
