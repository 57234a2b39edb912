"""`veil access ...` (users, roles, break-glass) and `veil alarms` from the command line.

    veil access user-add root.admin --role admin --by root.admin        # the first user: an admin
    veil access user-add a.kim --role analyst --by root.admin --password-stdin < pw.txt
    veil access grant a.kim --role privacy_officer --by root.admin --reason "new post"
    veil access leaving a.kim --by root.admin --reason "notice given"
    veil access revoke a.kim --by root.admin --reason "last day"
    veil access password a.kim --by root.admin < pw.txt                 # from stdin only
    veil access request --as a.kim --recording rec-42 --reason "complaint 118" [--minutes 30]
    veil access approve REQUEST_ID --as p.officer         (deny, cancel alike)
    veil access list [--requests] [--json]
    veil alarms [--since 24h|2026-03-01T00:00:00+00:00] [--json]

Changes to users need `--by` to be an active account with USERS_ADMIN (the very first user, an
admin, bootstraps an empty directory). Refusals exit 11, bad input 3, an unreachable catalog 12.
Passwords are read from stdin only, never from an argument (the process list shows arguments).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from veil.access.breakglass import BreakGlass, Request, Status
from veil.access.directory import Directory, User
from veil.access.roles import Permission, Role
from veil.audit.record import ledger_key_dir
from veil.audit.store import Ledger, default_ledger_url
from veil.cli_common import JsonOpt, PolicyOpt, QuietOpt, VerboseOpt, setup_logging
from veil.exceptions import AccessDenied, InputError
from veil.options import Policy, load_policy

if TYPE_CHECKING:
    from veil.access.alarm_log import Alarm, AlarmLog

app = typer.Typer(help="Users, roles and break-glass access to raw footage.", no_args_is_help=True)

CatalogOpt = Annotated[
    str | None,
    typer.Option(
        "--catalog", help="Catalog database URL (default: VEIL_CATALOG_URL, else SQLite in $VEIL_HOME)."
    ),
]
ByOpt = Annotated[str, typer.Option("--by", help="Your account (needs the users_admin permission).")]
AsOpt = Annotated[str, typer.Option("--as", help="Your account.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (one line; it goes in the ledger).")]
RoleOpt = Annotated[Role, typer.Option("--role", help="employee, analyst, privacy_officer or admin.")]


@dataclass
class Ctx:
    policy: Policy
    directory: Directory

    @property
    def breakglass(self) -> BreakGlass:
        return BreakGlass(self.directory, self.policy.access)


@contextmanager
def _open(catalog: str | None, policy_path: Path | None) -> Iterator[Ctx]:
    policy = load_policy(policy_path)
    url = policy.ledger.url or default_ledger_url()
    with Ledger.open(url, ledger_key_dir(policy)) as ledger, Directory.open(catalog, ledger=ledger) as d:
        yield Ctx(policy, d)


def _admin(d: Directory, by: str) -> None:
    """`by` may change users: an active admin, or anyone bootstrapping an empty directory."""
    if d.users():
        d.require(by, Permission.USERS_ADMIN)


def _say(text: str, data: dict[str, Any], as_json: bool, quiet: bool, terse: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
    elif quiet:
        if terse is not None:
            typer.echo(terse)
    else:
        typer.echo(text)


def _user_dict(u: User) -> dict[str, Any]:
    return {
        "name": u.name,
        "role": u.role.value,
        "disabled": u.disabled,
        "leaving": u.leaving,
        "language": u.language,
        "created_at": u.created_at.isoformat() if u.created_at else None,
        "revoked_at": u.revoked_at.isoformat() if u.revoked_at else None,
    }


def _request_dict(r: Request) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "requester": r.requester,
        "recording_id": r.recording_id,
        "reason": r.reason,
        "minutes": r.minutes,
        "status": r.status.value,
        "requested_at": r.requested_at.isoformat(),
        "decided_by": r.decided_by,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "expires_at": r.expires_at.isoformat() if r.expires_at else None,
    }


def _password_from_stdin() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InputError("--password-stdin: no password on standard input")
    return line


# --- users ---------------------------------------------------------------------------------------


@app.command("user-add")
def user_add(
    name: Annotated[str, typer.Argument(help="The account id (letters, digits, . _ -).")],
    role: RoleOpt,
    by: ByOpt,
    language: Annotated[str, typer.Option("--language", help="Display language: ko, ja, fr or en.")] = "en",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    reason: ReasonOpt = "",
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Add a user with a role (recorded in the ledger)."""
    setup_logging(verbose, quiet)
    password = _password_from_stdin() if password_stdin else None
    with _open(catalog, policy) as c:
        if not c.directory.users() and role is not Role.ADMIN:
            raise InputError("the first user must be an admin (--role admin)")
        _admin(c.directory, by)
        u = c.directory.add_user(
            name, role, password=password, display_language=language, by=by, reason=reason
        )
    _say(f"added {u.name} ({u.role.value})", _user_dict(u), as_json, quiet)


@app.command("grant")
def grant(
    name: Annotated[str, typer.Argument(help="The account id.")],
    role: RoleOpt,
    by: ByOpt,
    reason: ReasonOpt = "",
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Give a user another role (effective on their next request; recorded in the ledger)."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        _admin(c.directory, by)
        u = c.directory.grant_role(name, role, by=by, reason=reason)
    _say(f"{u.name} is now {u.role.value}", _user_dict(u), as_json, quiet)


@app.command("leaving")
def leaving(
    name: Annotated[str, typer.Argument(help="The account id.")],
    by: ByOpt,
    reason: ReasonOpt = "",
    undo: Annotated[bool, typer.Option("--undo", help="Clear the flag (the user stays).")] = False,
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Flag a user who is leaving: every access of theirs raises an alarm until revoked."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        _admin(c.directory, by)
        u = c.directory.mark_leaving(name, by=by, reason=reason, leaving=not undo)
    _say(f"{u.name} {'is leaving' if u.leaving else 'is staying'}", _user_dict(u), as_json, quiet)


@app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The account id.")],
    by: ByOpt,
    reason: ReasonOpt,
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Revoke a user: refused from their very next request (recorded in the ledger)."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        _admin(c.directory, by)
        if by == name:
            raise AccessDenied("an admin cannot revoke their own account")
        c.directory.revoke(name, by=by, reason=reason)
        u = c.directory.get(name)
    assert u is not None
    _say(f"revoked {u.name}", _user_dict(u), as_json, quiet)


@app.command("password")
def password(
    name: Annotated[str, typer.Argument(help="The account id.")],
    by: ByOpt,
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Set a user's password from the first line of stdin (an admin, or the user themselves)."""
    setup_logging(verbose, quiet)
    secret = _password_from_stdin()
    with _open(catalog, policy) as c:
        if by != name:
            _admin(c.directory, by)
        else:
            c.directory.require(by, Permission.OWN_SUMMARIES)
        c.directory.set_password(name, secret)
        u = c.directory.get(name)
    assert u is not None
    _say(f"password set for {u.name}", _user_dict(u), as_json, quiet)


@app.command("list")
def list_(
    requests: Annotated[
        bool, typer.Option("--requests", help="Break-glass requests instead of users.")
    ] = False,
    status: Annotated[Status | None, typer.Option("--status", help="Only requests in this state.")] = None,
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """List users (name, role, state) or, with --requests, break-glass requests."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        if requests or status is not None:
            rows = [_request_dict(r) for r in c.breakglass.requests(status=status)]
            lines = [
                f"{r['request_id']}  {r['status']:<9} {r['requester']:<16} {r['recording_id']:<20} "
                f"{r['minutes']} min  {r['expires_at'] or ''}"
                for r in rows
            ]
        else:
            rows = [_user_dict(u) for u in c.directory.users()]
            lines = [
                f"{r['name']:<20} {r['role']:<16} {r['language']}  "
                + ("revoked" if r["disabled"] else "leaving" if r["leaving"] else "active")
                for r in rows
            ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, sort_keys=True))
    elif not quiet:
        typer.echo("\n".join(lines) if lines else "(none)")


# --- break-glass ---------------------------------------------------------------------------------


@app.command("request")
def request(
    actor: AsOpt,
    recording: Annotated[str, typer.Option("--recording", help="The recording's id.")],
    reason: ReasonOpt,
    minutes: Annotated[
        int | None, typer.Option("--minutes", min=1, help="Window length (default and cap: the policy).")
    ] = None,
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Ask for a break-glass window on one recording's raw footage; prints the request id."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        r = c.breakglass.request(actor, recording, reason, minutes)
    text = f"request {r.request_id}: {r.minutes} min on {r.recording_id}, waiting for a second approver"
    _say(text, _request_dict(r), as_json, quiet, terse=r.request_id)


@app.command("approve")
def approve(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    actor: AsOpt,
    reason: ReasonOpt = "",
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Approve someone else's request (another role, the break_glass_approve permission)."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        g = c.breakglass.approve(request_id, actor, reason=reason)
        data = _request_dict(c.breakglass.get(request_id) or _never())
    text = f"approved: {g.holder} may read {g.recording_id}'s raw footage until {g.expires_at.isoformat()}"
    _say(text, data, as_json, quiet)


@app.command("deny")
def deny(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    actor: AsOpt,
    reason: ReasonOpt = "",
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Deny a pending request."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        r = c.breakglass.deny(request_id, actor, reason=reason)
    _say(f"denied {r.request_id}", _request_dict(r), as_json, quiet)


@app.command("cancel")
def cancel(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    actor: AsOpt,
    reason: ReasonOpt = "",
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Withdraw a pending request or close an open window early."""
    setup_logging(verbose, quiet)
    with _open(catalog, policy) as c:
        r = c.breakglass.cancel(request_id, actor, reason=reason)
    _say(f"cancelled {r.request_id}", _request_dict(r), as_json, quiet)


def _never() -> Request:
    raise InputError("no such break-glass request")


# --- alarms --------------------------------------------------------------------------------------

_SPAN = re.compile(r"(\d+)([mhd])")


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """ "30m", "24h", "7d" before `now`, or an ISO time with a zone; None for everything."""
    if value is None:
        return None
    span = _SPAN.fullmatch(value.strip())
    if span:
        n, unit = int(span.group(1)), span.group(2)
        return now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: n})
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            "--since: expected 30m, 24h, 7d or an ISO time such as 2026-03-01T08:00:00+00:00"
        ) from None
    if when.tzinfo is None:
        raise InputError("--since: give the time with its zone, e.g. 2026-03-01T08:00:00+09:00")
    return when


def alarms_command(
    since: Annotated[
        str | None, typer.Option("--since", help="Only alarms triggered since: 30m, 24h, 7d or an ISO time.")
    ] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate/--no-evaluate", help="Scan the new ledger entries first (default).")
    ] = True,
    watch: Annotated[
        float | None,
        typer.Option("--watch", min=1.0, help="Keep evaluating every SECONDS; print each new alarm once."),
    ] = None,
    rounds: Annotated[int | None, typer.Option("--rounds", min=1, hidden=True)] = None,
    catalog: CatalogOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Evaluate the access alarms on the ledger entries since the last run, then list the alarms
    (rule, account, the ledger entries that raised it). Safe to run often; --watch 15 keeps an
    alarm within about 15 s of the access that raised it."""
    from veil.access._db import utcnow
    from veil.access.alarm_log import AlarmLog, catalog_owners

    setup_logging(verbose, quiet)
    now = utcnow()
    cutoff = parse_since(since, now)
    with _open(catalog, policy) as c:
        engine = c.directory.engine
        log = AlarmLog(engine, c.directory.ledger(), c.policy.access.alarms, owner_of=catalog_owners(engine))
        if watch is not None:
            _watch(log, watch, rounds, as_json, quiet)
            return
        new = {a.alarm_id for a in log.evaluate(now)} if evaluate else set()
        found = log.alarms(since=cutoff)
    if as_json:
        typer.echo(json.dumps([a.to_dict() | {"new": a.alarm_id in new} for a in found], sort_keys=True))
        return
    if quiet:
        return
    for a in found:
        typer.echo(_line(a, a.alarm_id in new))
    if not found:
        typer.echo("no alarms")


def _line(a: Alarm, new: bool) -> str:
    seqs = ",".join(map(str, a.seqs[:8])) + (f",... ({len(a.seqs)})" if len(a.seqs) > 8 else "")
    mark = "NEW " if new else ""
    return f"{mark}{a.trigger_time.isoformat()}  {a.rule:<16} {a.account:<20} {a.detail}  entries {seqs}"


def _watch(log: AlarmLog, seconds: float, rounds: int | None, as_json: bool, quiet: bool) -> None:
    """Evaluate every `seconds` until interrupted (or `rounds` evaluations), printing new alarms."""
    done = 0
    try:
        while rounds is None or done < rounds:
            for a in log.evaluate():
                if as_json:
                    typer.echo(json.dumps(a.to_dict(), sort_keys=True))
                elif not quiet:
                    typer.echo(_line(a, True))
            done += 1
            if rounds is None or done < rounds:
                time.sleep(seconds)
    except KeyboardInterrupt:
        return
