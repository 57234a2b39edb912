"""Entry point: the only place where exceptions become exit codes."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from veil.exceptions import VeilError


def main(argv: list[str] | None = None) -> int:
    from veil.cli import app

    err = Console(stderr=True, highlight=False)
    try:
        result = app(args=argv, prog_name="veil", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except click.exceptions.Abort:
        err.print("veil: aborted")
        return 130
    except VeilError as exc:
        err.print(f"veil: error: {exc}", markup=False)
        return exc.exit_code
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
