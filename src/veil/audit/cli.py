"""`veil audit ...`: verify the ledger, print proofs, check a kept checkpoint, export for auditors.

Failures raise LedgerError (exit code 7 through the top-level main); results go to stdout, as text
or, with --json, as one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from veil.audit.cosign import WitnessVerifier
from veil.audit.signer_cli import app as signer_app
from veil.audit.store import Ledger, default_key_dir, default_ledger_url
from veil.audit.witness import WitnessEndpoint
from veil.exceptions import LedgerError

app = typer.Typer(
    help="Check and prove the tamper-evident ledger (RFC 9162 Merkle log, signed checkpoints).",
    no_args_is_help=True,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Ledger database URL (default: sqlite file in $VEIL_HOME or ~/.local/share/veil)."
    ),
]
KeyDirOption = Annotated[
    Path | None,
    typer.Option(
        "--key-dir",
        help="Folder of the ledger key and its signed state file "
        "(default: $VEIL_LEDGER_KEY_DIR, else $VEIL_HOME/ledger-keys).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
WitnessKeysOption = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="A witness verifier key (or a file holding one); the latest checkpoint must carry its "
        "cosignature. Repeatable.",
    ),
]


def _open(db: str | None, key_dir: Path | None, witnesses: tuple[WitnessEndpoint, ...] = ()) -> Ledger:
    return Ledger.open(db or default_ledger_url(), key_dir or default_key_dir(), witnesses=witnesses)


def read_vkey(text: str) -> str:
    """A verifier key given inline or as the path of a file holding it."""
    path = Path(text)
    if "+" not in text or path.is_file():
        try:
            return path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"cannot read verifier key file {text}: {type(exc).__name__}") from exc
    return text


def _emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


@app.command()
def verify(
    db: DbOption = None,
    key_dir: KeyDirOption = None,
    witness: WitnessKeysOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the tree and check every signature; name the first bad entry on failure."""
    witnesses = [WitnessVerifier.from_vkey(read_vkey(w)) for w in witness or ()]
    with _open(db, key_dir) as ledger:
        report = ledger.verify(witnesses=witnesses)
    if report.ok:
        text = f"ok: {report.size} entries, {report.checkpoints_checked} checkpoints verified"
        if report.anchored_size is not None:
            text += f", signed state file of {report.anchored_size} entries matches"
        elif report.size:
            text += "; no signed state file: appends are refused until `veil audit reanchor`"
    else:
        text = f"FAILED: {report.reason}"
    _emit(as_json, report.to_dict(), text)
    report.raise_for_failure()


@app.command()
def prove(
    entry_seq: Annotated[int, typer.Argument(help="Sequence number of the entry.", min=0)],
    size: Annotated[
        int | None, typer.Option("--size", help="Tree size to prove against (default: all).")
    ] = None,
    db: DbOption = None,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print an RFC 9162 inclusion proof of one entry, with the signed checkpoint it leads to."""
    with _open(db, key_dir) as ledger:
        proof = ledger.inclusion_proof(entry_seq, size)
    if not proof.verify():
        raise LedgerError(f"inclusion proof of entry {entry_seq} does not verify; run `veil audit verify`")
    data = proof.to_dict()
    lines = [
        f"entry {proof.seq} in tree of size {proof.tree_size}",
        f"leaf hash: {data['leaf_hash']}",
        f"root hash: {data['root']}",
        "path:",
        *(f"  {p}" for p in data["path"]),
    ]
    if proof.checkpoint:
        lines += ["checkpoint:", proof.checkpoint.rstrip("\n")]
    _emit(as_json, data, "\n".join(lines))


@app.command()
def consistency(
    old_checkpoint_file: Annotated[Path, typer.Argument(help="A checkpoint note an auditor kept.")],
    db: DbOption = None,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Prove the log only grew since a checkpoint you kept (fails on rollback or rewritten history)."""
    try:
        note = old_checkpoint_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read checkpoint file {old_checkpoint_file}: {type(exc).__name__}") from exc
    with _open(db, key_dir) as ledger:
        proof = ledger.check_consistency(note)
    data = proof.to_dict()
    lines = [
        f"ok: the log of {proof.new_size} entries extends the checkpoint of {proof.old_size}",
        "path:",
        *(f"  {p}" for p in data["path"]),
    ]
    if proof.checkpoint:
        lines += ["checkpoint:", proof.checkpoint.rstrip("\n")]
    _emit(as_json, data, "\n".join(lines))


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Empty or new folder to write the export into.")],
    db: DbOption = None,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write entries, checkpoints and the public key so an auditor can verify independently."""
    with _open(db, key_dir) as ledger:
        out = ledger.export(directory)
        size = ledger.size()
    _emit(as_json, {"directory": str(out), "size": size}, f"exported {size} entries to {out}")


@app.command()
def checkpoint(
    db: DbOption = None,
    key_dir: KeyDirOption = None,
    witness_url: Annotated[
        list[str] | None,
        typer.Option("--witness-url", help="A witness to ask for a cosignature. Repeatable."),
    ] = None,
    witness_key: Annotated[
        list[str] | None,
        typer.Option("--witness-key", help="The verifier key of each --witness-url, in order."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign the current tree head, store it and print the note (keep it to check consistency later);
    with witnesses, the note carries their cosignatures."""
    urls, keys = witness_url or [], witness_key or []
    if len(urls) != len(keys):
        raise LedgerError("give one --witness-key for each --witness-url")
    witnesses = tuple(
        WitnessEndpoint(u, WitnessVerifier.from_vkey(read_vkey(k))) for u, k in zip(urls, keys, strict=True)
    )
    with _open(db, key_dir, witnesses) as ledger:
        cp = ledger.checkpoint()
    _emit(as_json, {"origin": cp.origin, "size": cp.size, "note": cp.note}, cp.note.rstrip("\n"))


@app.command()
def reanchor(
    who: Annotated[str, typer.Option("--who", help="Who re-anchors (recorded in the ledger).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")],
    db: DbOption = None,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Trust the stored log again after its signed state file was lost or replaced: verifies the
    whole log first, records who and why in it, then writes a new state file."""
    with _open(db, key_dir) as ledger:
        ref = ledger.reanchor(who=who, reason=reason)
    _emit(
        as_json,
        {"seq": ref.seq, "id": ref.id},
        f"re-anchored: the log of {ref.seq} entries verified; recorded as entry {ref.seq}",
    )


@app.command("verify-output")
def verify_output(
    path: Annotated[Path, typer.Argument(help="A redacted output, report or text layer (file or folder).")],
    db: DbOption = None,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a file against the ledger: verify the ledger, then name the redaction-summary entries
    that record this file's SHA-256. No entry (a changed or foreign file): exit code 7."""
    from veil.audit.record import find_output

    if not path.exists():
        raise LedgerError("no such file to check")
    with _open(db, key_dir) as ledger:
        ledger.verify().raise_for_failure()
        digest, matches = find_output(ledger, path)
    data = {"sha256": digest, "matches": [{"seq": m.seq, "recording_id": m.recording_id,
                                           "role": m.role, "time": m.time} for m in matches]}  # fmt: skip
    lines = [f"sha256 {digest}"] + [
        f"matches entry {m.seq}: the {m.role} of recording {m.recording_id}, recorded {m.time}"
        for m in matches
    ]
    _emit(as_json, data, "\n".join(lines))
    if not matches:
        raise LedgerError(
            f"no ledger entry records a file with SHA-256 {digest}: it is not an output Veil published, "
            "or it was changed since"
        )


app.add_typer(signer_app, name="signer", help="Hold the ledger key in a separate signer process.")
