"""Helpers shared by the page and API routes: the app's context, templates, rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from veil.access.roles import Permission, allows
from veil.server import i18n
from veil.server.auth import CSRF_COOKIE, Sessions, Viewer, csrf_cookie, set_cookie
from veil.server.context import Context
from veil.server.db import PolicyRow, utc

DEFAULT_POLICY_VERSION = "1"

_env = Environment(
    loader=PackageLoader("veil.server", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)

# The pages a role sees in the navigation, in order: (path, label key, permission).
NAV: tuple[tuple[str, str, Permission], ...] = (
    ("/recordings", "nav.recordings", Permission.REDACTED_OUTPUTS),
    ("/mining", "nav.mining", Permission.MINING),
    ("/egress", "nav.egress", Permission.EGRESS_LOG),
    ("/policy", "nav.policy", Permission.POLICY_EDIT),
    ("/gate", "nav.gate", Permission.DEPLOYMENT_GATE),
    ("/requests", "nav.requests", Permission.DEPLOYMENT_GATE),
    ("/alarms", "nav.alarms", Permission.ALARMS),
    ("/break-glass", "nav.breakglass", Permission.BREAK_GLASS_APPROVE),
    ("/admin", "nav.admin", Permission.USERS_ADMIN),
    ("/me", "nav.me", Permission.OWN_SUMMARIES),
)


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def when(value: datetime | None) -> str:
    return utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def day(value: datetime | None) -> str:
    return utc(value).strftime("%Y-%m-%d") if value else ""


def render(
    request: Request, name: str, viewer: Viewer | None, status_code: int = 200, **values: Any
) -> Response:
    lang = i18n.pick(viewer.language if viewer else None, request.headers.get("accept-language"))
    cookie, fresh = csrf_cookie(request)
    sessions = sessions_of(request)
    nav = [(path, key) for path, key, perm in NAV if viewer and allows(viewer.role, perm)]

    def t(key: str, **fields: object) -> str:
        return i18n.translate(lang, key, **fields)

    context = {
        "viewer": viewer,
        "csrf": sessions.csrf_token(cookie),
        "nav": nav,
        "lang": lang,
        "t": t,
        "when": when,
        "day": day,
        "path": request.url.path,
        **values,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    if fresh:
        set_cookie(response, ctx_of(request), CSRF_COOKIE, cookie, max_age=None)
    return response


def current_policy_version(ctx: Context) -> str:
    with ctx.session() as s:
        version = s.scalars(select(PolicyRow.version).order_by(PolicyRow.id.desc()).limit(1)).first()
    return version or DEFAULT_POLICY_VERSION
