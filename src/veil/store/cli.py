"""`veil store put|get|list|expire|delete`: the recording store from the command line.

Exit codes come from the exception tree: 11 access denied (a raw object without a break-glass
grant, a delete by anyone but a privacy officer), 12 store unavailable or an object failed its
integrity check, 3 bad input (also: other bytes put into a stored slot).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from veil.access.directory import Directory

from veil.audit.events import AccessRefusedEvent
from veil.cli_common import JsonOpt, PolicyOpt, QuietOpt, VerboseOpt, setup_logging
from veil.exceptions import AccessDenied, InputError, OutputError
from veil.options import load_policy
from veil.store.backends import backend_from_env
from veil.store.home import veil_home
from veil.store.models import ObjectClass, Retention, StoredObject
from veil.store.store import RecordingStore, open_default_ledger

app = typer.Typer(
    help="The encrypted recording store: put, get, list and expire objects.", no_args_is_help=True
)

CatalogOpt = Annotated[
    str | None,
    typer.Option(
        "--catalog", help="Catalog database URL (default: VEIL_CATALOG_URL, else SQLite in $VEIL_HOME)."
    ),
]
ClassOpt = Annotated[ObjectClass, typer.Option("--class", help="raw or redacted.")]


def _open(catalog: str | None, policy: Path | None = None) -> RecordingStore:
    retention = None
    if policy is not None:
        days = load_policy(policy).store.retention_days
        retention = Retention(raw_days=days.raw, redacted_days=days.redacted)
    backend = backend_from_env(veil_home() / "objects")
    return RecordingStore.open(catalog_url=catalog, backend=backend, retention=retention)


@contextmanager
def _open_guarded(catalog: str | None) -> Iterator[tuple[RecordingStore, Directory]]:
    """The store with veil.access's guard: the reader must be a known, active user whose role
    allows it; raw objects need their own open break-glass window."""
    from veil.access.directory import Directory
    from veil.access.guard import AccessGuard

    with open_default_ledger() as ledger:
        directory = Directory.open(catalog, ledger=ledger)
        try:
            backend = backend_from_env(veil_home() / "objects")
            guard = AccessGuard(directory)
            with RecordingStore.open(
                catalog_url=catalog, backend=backend, ledger=ledger, guard=guard
            ) as store:
                yield store, directory
        finally:
            directory.close()


def _emit(obj: StoredObject, as_json: bool, quiet: bool, text: str) -> None:
    if as_json:
        typer.echo(json.dumps(obj.to_dict(), ensure_ascii=False))
    elif not quiet:
        typer.echo(text)


@app.command()
def put(
    file: Annotated[Path, typer.Argument(help="The file to store ('-' reads stdin).")],
    recording: Annotated[str, typer.Option("--recording", help="Recording id.")],
    owner: Annotated[str, typer.Option("--owner", help="User id of the recorded person.")],
    policy_version: Annotated[str, typer.Option("--policy-version", help="Policy version that made it.")],
    klass: ClassOpt = ObjectClass.REDACTED,
    segment: Annotated[int, typer.Option("--segment", min=0, help="Segment number.")] = 0,
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Encrypt and store FILE; prints the object id. Storing the same recording, segment, class and
    policy version again returns the first object and writes nothing."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as store:
        if str(file) == "-":
            obj = store.put(sys.stdin.buffer, klass=klass, owner=owner, recording_id=recording,
                            segment=segment, policy_version=policy_version)  # fmt: skip
        else:
            try:
                fh = file.open("rb")
            except OSError as exc:
                raise InputError(f"cannot read {file}: {exc.strerror}") from exc
            with fh:
                obj = store.put(fh, klass=klass, owner=owner, recording_id=recording,
                                segment=segment, policy_version=policy_version)  # fmt: skip
    _emit(obj, as_json, quiet, obj.object_id)


@app.command()
def get(
    object_id: Annotated[str, typer.Argument(help="Object id (from `veil store put` or `list`).")],
    actor: Annotated[str, typer.Option("--as", help="Your user id (recorded in the ledger).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (0600); default: stdout.")
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Decrypt an object (its integrity checked chunk by chunk). The reader must be a known, active
    user whose role reads redacted outputs; a raw object needs the reader's own approved
    break-glass window on its recording (exit code 11 otherwise)."""
    setup_logging(verbose, quiet)
    if as_json and output is None:
        raise typer.BadParameter("--json prints the object's metadata: give -o/--output for its content")
    with _open_guarded(catalog) as (store, _):
        if output is None:
            data = store.get(object_id, actor=actor)
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        obj = _get_to_file(store, object_id, actor, output)
    _emit(obj, as_json, quiet, f"{object_id}: {obj.klass.value}, written to {output}")


def _get_to_file(store: RecordingStore, object_id: str, actor: str, output: Path) -> StoredObject:
    """Into a temp file beside `output`, renamed into place only once every chunk authenticated."""
    tmp = output.with_name(f".{output.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            obj = store.read_into(object_id, fh, actor=actor)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return obj


@app.command()
def delete(
    object_id: Annotated[str, typer.Argument(help="Object id (from `veil store list`).")],
    actor: Annotated[str, typer.Option("--as", help="Your user id: a privacy officer.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why, kept in the ledger for good: a ticket or case number.")
    ],
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Crypto-shred one object now (an employee's deletion request, say): its data key is destroyed,
    then its ciphertext, and a deletion entry names who and why. Only a privacy officer (permission
    store_delete, asked of the directory now); a refusal is itself a ledger entry (exit code 11)."""
    from veil.access.roles import Permission

    setup_logging(verbose, quiet)
    with _open_guarded(catalog) as (store, directory):
        obj = store.stat(object_id)
        try:
            directory.require(actor, Permission.STORE_DELETE)
        except AccessDenied:
            known = directory.get(actor) is not None
            directory.record(
                AccessRefusedEvent(
                    who=actor if known else "unknown-account",
                    object_id=obj.object_id,
                    recording_id=obj.recording_id,
                    owner=obj.owner,
                    klass=obj.klass.value,
                    cause="no-permission" if known else "not-authenticated",
                )
            )
            raise
        obj = store.delete(object_id, actor=actor, reason=reason)
    _emit(obj, as_json, quiet, f"{object_id}: shredded ({obj.klass.value}, recording {obj.recording_id})")


@app.command("list")
def list_command(
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's objects.")] = None,
    klass: Annotated[ObjectClass | None, typer.Option("--class", help="Only raw or redacted.")] = None,
    recording: Annotated[str | None, typer.Option("--recording", help="Only this recording.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """List stored objects (metadata only)."""
    setup_logging(verbose, quiet)
    with _open(catalog) as store:
        objects = store.list(owner=owner, klass=klass, recording_id=recording)
    if as_json:
        typer.echo(json.dumps([o.to_dict() for o in objects], ensure_ascii=False))
        return
    for o in objects:
        state = "shredded" if o.shredded else f"expires {o.expires_at:%Y-%m-%d}"
        typer.echo(f"{o.object_id}  {o.klass.value:8}  {o.recording_id}#{o.segment}  {o.size} B  {state}")


@app.command()
def expire(
    now: Annotated[
        str | None, typer.Option("--now", help="Pretend it is this ISO time (UTC when no offset).")
    ] = None,
    orphans_after: Annotated[
        float,
        typer.Option("--orphans-after", min=0, help="Delete unreferenced objects older than this (hours)."),
    ] = 1.0,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Crypto-shred every object past its retention (a ledger entry each), then reconcile: append
    pending ledger entries and delete objects a crashed put left without a catalog row."""
    setup_logging(verbose, quiet)
    when = _parse_time(now) if now else None
    with _open(catalog) as store:
        shredded = store.expire(when)
        report = store.reconcile(older_than=timedelta(hours=orphans_after))
    if as_json:
        summary = {
            "shredded": [o.object_id for o in shredded],
            "ledger_entries_appended": report.ledger_entries_appended,
            "orphans_deleted": report.orphans_deleted,
            "shredded_leftovers_deleted": report.shredded_leftovers_deleted,
        }
        typer.echo(json.dumps(summary))
    elif not quiet:
        typer.echo(
            f"shredded {len(shredded)} objects; appended {report.ledger_entries_appended} pending ledger "
            f"entries; deleted {report.orphans_deleted} orphaned objects"
        )


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"--now: not an ISO date/time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)
