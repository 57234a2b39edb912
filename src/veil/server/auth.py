"""Who is asking: a signed session cookie or a trusted reverse proxy's header, re-checked every request.

- Session cookie `veil_session`: base64url JSON {session id, expiry} + HMAC-SHA256 with a host key
  (created on first use, 0600, in the Veil home). HttpOnly, SameSite=Strict, Secure behind https.
  The session itself lives in the catalog (`logins.py`): logout or revocation ends it at once.
- Proxy header (e.g. X-Remote-User): believed only when the TCP peer is one of the configured proxy
  addresses; from anyone else it is ignored.
- CSRF: a random `veil_csrf` cookie (SameSite=Strict) and, in every form, its HMAC under the host
  key (a signed double-submit token). A POST without the matching token is refused (403).
- Every request asks the directory again (`require`), so a revoked user is out on the next request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from veil.access.roles import Permission, Role
from veil.exceptions import AccessDenied, NotAuthenticated
from veil.server import logins
from veil.server.context import Context

SESSION_COOKIE = "veil_session"
CSRF_COOKIE = "veil_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Signs and reads session cookies and CSRF tokens with one host secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @property
    def secret(self) -> bytes:
        return self._secret

    def _mac(self, purpose: str, data: bytes) -> str:
        return hmac.new(self._secret, purpose.encode() + b"\0" + data, hashlib.sha256).hexdigest()

    def issue(self, session_id: str, seconds: int) -> str:
        payload = json.dumps({"s": session_id, "exp": int(time.time()) + seconds}).encode()
        return f"{_b64(payload)}.{self._mac('session', payload)}"

    def read(self, cookie: str | None) -> str | None:
        """The session id of a cookie this host signed and that has not expired."""
        if not cookie or "." not in cookie:
            return None
        encoded, mac = cookie.rsplit(".", 1)
        try:
            payload = _unb64(encoded)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            data = json.loads(payload)
            session_id, expiry = str(data["s"]), int(data["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        return session_id if expiry > time.time() else None

    def csrf_token(self, cookie: str) -> str:
        return self._mac("csrf", cookie.encode())

    def csrf_ok(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(cookie))


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person behind a request, as the directory says now."""

    name: str
    role: Role
    language: str
    csrf: str  # the token to put in this page's forms
    via_proxy: bool


def csrf_cookie(request: Request) -> tuple[str, bool]:
    """This browser's CSRF cookie, and whether it is new (to be set on the response)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) == 32:
        return existing, False
    return secrets.token_hex(16), True


def set_cookie(response: Response, ctx: Context, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.https,
        path="/",
    )


def identify(request: Request, ctx: Context, sessions: Sessions) -> tuple[str, bool]:
    """The user name the request claims (proxy header from a trusted proxy, else the session)."""
    header = ctx.settings.proxy_header
    if header:
        claimed = request.headers.get(header)
        peer = request.client.host if request.client else None
        if claimed and ctx.settings.proxy_trusted(peer):
            return claimed, True
    session_id = sessions.read(request.cookies.get(SESSION_COOKIE))
    name = logins.session_user(ctx, session_id) if session_id else None
    if name is None:
        raise NotAuthenticated("please log in")
    return name, False


def viewer(request: Request, ctx: Context, sessions: Sessions, permission: Permission) -> Viewer:
    name, via_proxy = identify(request, ctx, sessions)
    user = ctx.directory.require(name, permission)
    if user.role is Role.SERVICE:  # the server's own jobs: never a person at a browser
        raise NotAuthenticated("a service account cannot log in")
    cookie, _ = csrf_cookie(request)
    return Viewer(user.name, user.role, user.language, sessions.csrf_token(cookie), via_proxy)


async def checked_form(request: Request, sessions: Sessions) -> FormData:
    """The POSTed form, after its CSRF token was checked (403 otherwise)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    header = request.headers.get(CSRF_HEADER)
    given = token if isinstance(token, str) else header
    if not sessions.csrf_ok(request.cookies.get(CSRF_COOKIE), given):
        raise AccessDenied("missing or wrong CSRF token: reload the page and try again")
    return form
