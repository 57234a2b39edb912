"""FastAPI dependencies: the viewer with a permission, and a CSRF-checked form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request

from veil.access.roles import Permission
from veil.server.auth import Viewer, checked_form, viewer
from veil.server.web import ctx_of, sessions_of


def need(permission: Permission) -> Callable[[Request], Viewer]:
    """A dependency: the requester, re-checked in the directory for `permission` on this request."""

    def dependency(request: Request) -> Viewer:
        return viewer(request, ctx_of(request), sessions_of(request), permission)

    return dependency


def form() -> Callable[[Request], Awaitable[FormData]]:
    async def dependency(request: Request) -> FormData:
        return await checked_form(request, sessions_of(request))

    return dependency


def page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1
