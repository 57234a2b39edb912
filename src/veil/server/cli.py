"""`veil serve`: run the server; `veil serve device-add` and `veil serve user-add` for the admin."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from veil.access.roles import Role
from veil.exceptions import EXIT_OK, InputError

app = typer.Typer(
    help="Run the Veil server (agents' uplink, dashboard, employee portal); register devices and users.",
    invoke_without_command=True,
)

CatalogOpt = Annotated[
    str | None,
    typer.Option("--catalog-url", help="Catalog database URL (default: VEIL_CATALOG_URL, else SQLite)."),
]
LedgerOpt = Annotated[str | None, typer.Option("--ledger-url", help="SQLAlchemy URL of the ledger.")]


@app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    catalog_url: CatalogOpt = None,
    ledger_url: LedgerOpt = None,
    https: Annotated[bool, typer.Option(help="Served behind TLS: Secure cookies and HSTS.")] = False,
    proxy_header: Annotated[
        str | None,
        typer.Option(help="User name header (e.g. X-Remote-User), trusted from --trusted-proxy only."),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None, typer.Option(help="Address or network of the reverse proxy (repeatable).")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Batch jobs (task mining, redaction jobs): 'local' or 'ray' (a cluster through RAY_ADDRESS)."
        ),
    ] = "local",
    max_upload_mb: Annotated[
        int, typer.Option(min=1, help="Largest recording accepted for a redaction job, in MiB.")
    ] = 2048,
) -> None:
    """Serve the web interface and the agents' API until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from veil.server.app import create_app
    from veil.server.settings import Settings

    settings = Settings(
        catalog_url=catalog_url,
        ledger_url=ledger_url,
        https=https,
        proxy_header=proxy_header,
        trusted_proxies=tuple(trusted_proxy or ()),
        engine=engine,
        max_upload_bytes=max_upload_mb * 2**20,
    )
    if engine not in ("local", "ray"):
        raise InputError(f"--engine must be 'local' or 'ray', not {engine!r}")
    if proxy_header and not trusted_proxy:
        raise InputError("--proxy-header needs at least one --trusted-proxy address")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", server_header=False)


@app.command("device-add")
def device_add(
    owner: Annotated[str, typer.Option(help="User name of the employee whose computer this is.")],
    public_key: Annotated[Path, typer.Option(help="PEM file printed by `veil record init`.")],
    catalog_url: CatalogOpt = None,
    ledger_url: LedgerOpt = None,
) -> int:
    """Register a capture agent's public key; prints the device id to give to the agent."""
    from veil.server.agent_api import register_device
    from veil.server.context import Context
    from veil.server.settings import Settings

    try:
        pem = public_key.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the public key file: {type(exc).__name__}") from exc
    ctx = Context.open(Settings(catalog_url=catalog_url, ledger_url=ledger_url))
    try:
        typer.echo(register_device(ctx, owner, pem, by="cli"))
    finally:
        ctx.close()
    return EXIT_OK


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise InputError("no password on standard input")
        return line
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat: "):
        raise InputError("the passwords differ")
    return first


@app.command("user-add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (an id the organisation assigned).")],
    role: Annotated[Role, typer.Option(help="employee, analyst, privacy_officer or admin.")],
    language: Annotated[str, typer.Option(help="Portal language: en, fr, ko or ja.")] = "en",
    catalog_url: CatalogOpt = None,
    ledger_url: LedgerOpt = None,
) -> int:
    """Add a user; the password is read from standard input or asked for (never an argument)."""
    from veil.server.context import Context
    from veil.server.settings import Settings

    password = _read_password()
    if len(password) < 12:
        raise InputError("a password needs at least 12 characters")
    ctx = Context.open(Settings(catalog_url=catalog_url, ledger_url=ledger_url))
    try:
        ctx.directory.add_user(name, role, password=password, display_language=language, by="cli")
    finally:
        ctx.close()
    typer.echo(f"user {name} added as {role.value}", err=True)
    return EXIT_OK
