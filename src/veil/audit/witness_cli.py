"""`veil witness ...`: run a ledger witness (C2SP tlog-witness) with its own key and storage.

Run it at another site than the ledger, under another account, and give auditors its verifier key
(`veil witness key`) so they can require its cosignatures (`veil audit verify --witness KEY`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from veil.audit.cli import read_vkey
from veil.audit.cosign import load_or_create_witness
from veil.audit.keys import LedgerVerifier
from veil.audit.witness import Witness, make_server
from veil.store.home import veil_home

app = typer.Typer(
    help="Run a witness that cosigns ledger checkpoints (C2SP tlog-witness).", no_args_is_help=True
)

WitnessDirOption = Annotated[
    Path | None,
    typer.Option("--key-dir", help="Folder of the witness key and state (default: $VEIL_HOME/witness)."),
]
NameOption = Annotated[
    str | None, typer.Option("--name", help="Witness name for a new key (default: derived from the key).")
]


def default_witness_dir() -> Path:
    return veil_home() / "witness"


@app.command()
def key(key_dir: WitnessDirOption = None, name: NameOption = None) -> None:
    """Print the witness's verifier key (made on first use)."""
    typer.echo(load_or_create_witness(key_dir or default_witness_dir(), name).verifier.vkey)


@app.command()
def serve(
    log: Annotated[
        list[str],
        typer.Option("--log", help="A ledger's verifier key (or its ledger.vkey file). Repeatable."),
    ],
    key_dir: WitnessDirOption = None,
    name: NameOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=0, max=65535)] = 7380,
) -> None:
    """Serve POST /add-checkpoint: cosign checkpoints of the given ledgers that extend the last one
    cosigned. Prints the witness's verifier key, then serves until interrupted."""
    folder = key_dir or default_witness_dir()
    signer = load_or_create_witness(folder, name)
    witness = Witness(signer, folder, [LedgerVerifier.from_vkey(read_vkey(v)) for v in log])
    server = make_server(witness, host, port)
    typer.echo(signer.verifier.vkey)
    typer.echo(f"witness listening on http://{host}:{server.server_address[1]}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
