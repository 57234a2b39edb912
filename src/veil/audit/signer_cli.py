"""`veil audit signer serve`: hold the ledger key in its own process, behind a Unix socket.

Run it under another account than Veil; Veil then uses `VEIL_LEDGER_SIGNER=unix:PATH` (or the
policy's `ledger.signer`) and its key folder holds only the public key and the signed state file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from veil.audit.signer import make_signer_server
from veil.store.home import veil_home

app = typer.Typer(help="Hold the ledger key in a separate signer process.", no_args_is_help=True)


@app.command()
def serve(
    socket_path: Annotated[Path, typer.Option("--socket", help="Path of the Unix socket to create.")],
    key_dir: Annotated[
        Path | None,
        typer.Option(
            "--key-dir", help="Folder of the key and the signer's state (default: $VEIL_HOME/signer)."
        ),
    ] = None,
    allow_uid: Annotated[
        int | None,
        typer.Option(
            "--allow-uid", help="The only user id allowed to ask for signatures (default: own).", min=0
        ),
    ] = None,
    socket_group: Annotated[
        int | None,
        typer.Option(
            "--socket-group", help="Group id that may reach the socket (0660 in a 0710 folder).", min=0
        ),
    ] = None,
) -> None:
    """Sign ledger tree heads that extend the last checkpoint signed. Prints the verifier key,
    then serves until interrupted."""
    server = make_signer_server(
        key_dir or veil_home() / "signer",
        socket_path,
        os.getuid() if allow_uid is None else allow_uid,
        socket_group,
    )
    typer.echo(server.core.key.vkey)
    typer.echo(f"ledger signer listening on {socket_path}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        socket_path.unlink(missing_ok=True)
