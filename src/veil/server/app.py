"""`create_app(settings)`: the Veil server as an ASGI app (uvicorn in production, httpx in tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veil.exceptions import NotAuthenticated, VeilError
from veil.server import (
    agent_api,
    alarms,
    api,
    breakglass,
    officer,
    pages,
    portal,
    redaction_jobs,
    requests,
    retention,
)
from veil.server.auth import Sessions
from veil.server.context import Context
from veil.server.settings import Settings
from veil.server.sink import SegmentSink
from veil.server.web import render
from veil.store.home import load_or_create_key, veil_home

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """CSP without inline script, no framing, no sniffing, no referrer; HSTS behind https."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: Settings | None = None, *, sink: SegmentSink | None = None) -> FastAPI:
    """The app; its catalog, ledger and store open at once (so a bad URL fails before serving)."""
    settings = settings or Settings()
    ctx = Context.open(settings, sink=sink)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(alarms.watch(ctx))] if settings.watch_alarms else []
        if settings.retention_sweep_seconds > 0:
            tasks.append(asyncio.create_task(retention.watch(ctx)))
        if settings.job_sweep_seconds > 0:
            tasks.append(asyncio.create_task(redaction_jobs.watch(ctx)))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        ctx.close()

    app = FastAPI(title="Veil", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.sessions = Sessions(load_or_create_key("server-session", veil_home()))
    for module in (agent_api, api, portal, breakglass, requests, pages, officer):
        app.include_router(module.router)
    static = resources.files("veil.server").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(VeilError)
    async def veil_error(request: Request, exc: VeilError) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=exc.http_status)
        if isinstance(exc, NotAuthenticated) and request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return render(request, "error.html", None, status_code=exc.http_status, message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        # Never echo the input back: it could hold a personal value.
        return JSONResponse({"error": "malformed request"}, status_code=422)

    app.add_middleware(SecurityHeaders, https=settings.https)
    return app
