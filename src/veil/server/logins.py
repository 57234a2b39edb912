"""Server-side sessions and throttled logins (policy `access.login`).

- A session is a row in the catalog keyed by the SHA-256 of a random id; the signed cookie carries
  the id. Logout deletes the row, so a copied cookie stops working at once, in every worker; a revoked
  user is refused by the directory on the next request whatever the session. Lifetime:
  `session_hours`.
- Failed logins are counted per account and per client address under keyed hashes (a name typed at
  the login can be a password: it is never stored nor logged in clear). After `max_failures` within
  `failure_window_minutes` either one is refused with 429 and Retry-After until the oldest failure
  leaves the window, before the password is even checked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from veil.options import LoginOptions
from veil.server.context import Context
from veil.server.db import LoginFailureRow, SessionRow, utc

log = logging.getLogger(__name__)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- sessions ------------------------------------------------------------------------------------


def open_session(ctx: Context, user: str, hours: float) -> str:
    """A new session for `user`; returns its id (for the cookie only)."""
    sid, now = secrets.token_urlsafe(32), datetime.now(UTC)
    with ctx.session() as s:
        s.execute(delete(SessionRow).where(SessionRow.expires_at < now))
        s.add(
            SessionRow(
                id_sha256=_sha(sid), user=user, created_at=now, expires_at=now + timedelta(hours=hours)
            )
        )
    return sid


def session_user(ctx: Context, sid: str) -> str | None:
    """Whose live session `sid` is (None when logged out, ended or expired)."""
    with ctx.session() as s:
        row = s.get(SessionRow, _sha(sid))
        if row is None or utc(row.expires_at) <= datetime.now(UTC):
            return None
        return row.user


def end_session(ctx: Context, sid: str) -> None:
    with ctx.session() as s:
        s.execute(delete(SessionRow).where(SessionRow.id_sha256 == _sha(sid)))


# --- throttling ----------------------------------------------------------------------------------


class Throttle:
    """Counts failed logins per account and per address under HMAC keys (the host's session key)."""

    def __init__(self, ctx: Context, secret: bytes) -> None:
        self.ctx, self._secret = ctx, secret

    def keys(self, account: str, address: str | None) -> list[str]:
        def mac(text: str) -> str:
            return hmac.new(self._secret, b"login\0" + text.encode(), hashlib.sha256).hexdigest()

        out = [mac(f"account:{account.strip().lower()}")]
        if address:
            out.append(mac(f"address:{address}"))
        return out

    def retry_after(self, keys: list[str], opts: LoginOptions) -> int | None:
        """Seconds to wait when any key has `max_failures` within the window, else None."""
        now = datetime.now(UTC)
        since = now - timedelta(minutes=opts.failure_window_minutes)
        wait: int | None = None
        with self.ctx.session() as s:
            for key in keys:
                where = (LoginFailureRow.key == key, LoginFailureRow.at > since)
                count = s.scalar(select(func.count()).select_from(LoginFailureRow).where(*where)) or 0
                if count < opts.max_failures:
                    continue
                times = s.scalars(
                    select(LoginFailureRow.at).where(*where).order_by(LoginFailureRow.at.desc())
                ).all()
                oldest = utc(times[opts.max_failures - 1])  # the one whose expiry frees a try
                left = math.ceil(
                    (oldest + timedelta(minutes=opts.failure_window_minutes) - now).total_seconds()
                )
                wait = max(wait or 0, 1, left)
        return wait

    def failed(self, keys: list[str], opts: LoginOptions, known_account: str | None) -> None:
        """Count a failure; log (never the typed name unless the directory knows it) on reaching
        the limit."""
        now = datetime.now(UTC)
        since = now - timedelta(minutes=opts.failure_window_minutes)
        with self.ctx.session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.at < now - timedelta(days=1)))
            for key in keys:
                s.add(LoginFailureRow(key=key, at=now))
            s.flush()
            account_count = s.scalar(
                select(func.count())
                .select_from(LoginFailureRow)
                .where(LoginFailureRow.key == keys[0], LoginFailureRow.at > since)
            )
        if account_count == opts.max_failures:
            log.warning(
                "login throttled for %d min after %d failures: account %s",
                opts.failure_window_minutes,
                opts.max_failures,
                known_account or "unknown-account",
            )

    def succeeded(self, keys: list[str]) -> None:
        """Forget the account's failures (never the address's: a valid login elsewhere must not
        reset an address guessing at other accounts)."""
        with self.ctx.session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.key == keys[0]))
