"""The one FastAPI app: gradio UI at /ui, the editors' page at /redaktion (only with LOTSE_EDITOR_TOKEN), JSON/SSE
API, OpenAI-compatible API, widget files and documents."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders

from assistant.chat import BUSY
from assistant.services import Services
from assistant.web.api import build_router
from assistant.web.errors import install_error_handlers
from assistant.web.openai_compat import build_openai_router
from assistant.web.security import (
    FRAME_ANCESTORS,
    SECURITY_HEADERS,
    BodyLimitMiddleware,
    HostPolicy,
    OriginPolicy,
    RateLimiter,
    host_name,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PUBLIC_PREFIXES = ("/api/", "/v1/")
#: Paths that cost an answer: these count against the per-client rate limit.
LIMITED_PATHS = ("/api/ask", "/api/chat", "/v1/chat/completions", "/api/check")
#: Requests that take an answer slot; admission is decided before they take a worker thread.
ANSWER_PATHS = ("/api/ask", "/api/chat", "/v1/chat/completions")
MAX_BODY_BYTES = 256 * 1024
#: Load balancers probe by address (``Host: 10.0.3.7:8000``); the health check answers whatever the host.
HOST_EXEMPT = ("/api/health",)
EDITOR_PATH = "/redaktion"
#: gradio's login form posts here; a per-client limit of its own, independent of LOTSE_RATE_LIMIT.
LOGIN_PATHS = (f"{EDITOR_PATH}/login", f"{EDITOR_PATH}/login/")
LOGIN_ATTEMPTS_PER_MINUTE = 10

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def create_app(services: Services, *, with_ui: bool = True) -> FastAPI:
    settings = services.settings
    app = FastAPI(
        title="Verstetigungslotse",
        description="Zitierende Auskunft zur Verstetigung kommunaler Smart-City-Projekte. "
        "Antworten tragen immer ihre Quellen (Dokument, Seite, Abschnitt, Zitat).",
        version="0.1.0",
    )
    app.state.services = services
    origins = OriginPolicy(settings.origins)
    limiter = RateLimiter(settings.rate_limit)
    app.state.limiter = limiter

    hosts = HostPolicy(settings.hosts)
    if not hosts.allow_any and settings.host in ("0.0.0.0", "::") and not settings.allowed_hosts.strip():
        log.warning(
            "Listening on all interfaces, but only loopback host names are allowed: set LOTSE_ALLOWED_HOSTS "
            "(or LOTSE_PUBLIC_BASE_URL) to the name users type, e.g. lotse.stadt.de"
        )

    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES, prefixes=PUBLIC_PREFIXES)
    # Added last, so it runs first: refusals happen before any body is read.
    app.add_middleware(
        GuardMiddleware, origins=origins, limiter=limiter, hosts=hosts, logins=RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE),
        max_in_flight=settings.max_concurrent_answers + settings.max_waiting_answers,
    )
    app.include_router(build_router(services))
    app.include_router(build_openai_router(services))

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

        @app.get("/widget.js", include_in_schema=False)
        def widget() -> Response:
            return Response((STATIC_DIR / "widget.js").read_bytes(), media_type="text/javascript; charset=utf-8")

    if with_ui:
        import gradio as gr

        from assistant.web.ui import build_ui, mount_options

        blocks = build_ui(services)
        app = gr.mount_gradio_app(app, blocks, path="/ui", max_file_size="5mb", **mount_options())
        if settings.editor_secret:
            from assistant.web.ui.editor import build_editor_ui, editor_mount_options

            app = gr.mount_gradio_app(
                app, build_editor_ui(services), path=EDITOR_PATH, max_file_size="1kb",
                **editor_mount_options(settings.editor_secret),
            )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    return app


class GuardMiddleware:
    """Host and origin allow-lists, rate limits and security headers, as a plain ASGI middleware.

    Order: the ``Host`` check comes first (a DNS-rebinding page passes the origin check, see
    :mod:`assistant.web.security`), then origin, preflight, size and rate limit on the public paths.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs the app in a
    separate task behind a memory stream, and a streaming answer whose client disconnected then stayed
    suspended, holding its answer slot (measured: never freed within 4 s; freed at once without it).
    """

    def __init__(  # type: ignore[no-untyped-def]
        self,
        app,
        origins: OriginPolicy,
        limiter: RateLimiter,
        hosts: HostPolicy,
        logins: RateLimiter,
        max_in_flight: int = 1_000_000,
    ) -> None:
        self.app = app
        self.origins = origins
        self.limiter = limiter
        self.hosts = hosts
        self.logins = logins
        # Answer requests being computed or waiting. Without a cap, a flood waits first for one of the worker
        # threads and then for a slot, and learns it is refused after seconds (measured: p95 7.7 s to a 429);
        # counted here, in the event loop, a request beyond the cap is refused in a millisecond.
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = scope["path"]
        host = request.headers.get("host")
        if not self.hosts.allows(host) and not (
            scope["type"] == "http" and path in HOST_EXEMPT and request.method in ("GET", "HEAD")
        ):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _host_refusal(host, path)(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if request.method == "POST" and path in LOGIN_PATHS:
            wait = self.logins.check(RateLimiter.client_key(request))
            if wait is not None:
                await _rate_limited(wait)(scope, receive, send)
                return
        public = path.startswith(PUBLIC_PREFIXES)
        cors_origin = None
        if public:
            allowed, cors_origin = self.origins.verdict(request)
            refusal = self._refusal(request, path, allowed, cors_origin)
            if refusal is not None:
                await refusal(scope, receive, send)
                return

        answering = public and request.method == "POST" and path in ANSWER_PATHS
        if answering and self.in_flight >= self.max_in_flight:
            busy = _busy()
            _cors(busy.headers, cors_origin)
            await busy(scope, receive, send)
            return

        async def send_with_headers(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _harden(headers)
                if public:
                    _cors(headers, cors_origin)
                else:
                    _no_cors(headers)
                if path == "/widget.js":
                    # The widget is loaded by foreign pages by design; it holds no secret.
                    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
                    headers["Cache-Control"] = "public, max-age=300"
            await send(message)

        if not answering:
            await self.app(scope, receive, send_with_headers)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.in_flight -= 1

    def _refusal(self, request: Request, path: str, allowed: bool, cors_origin: str | None) -> Response | None:
        response: Response | None = None
        if not allowed:
            response = JSONResponse(
                {
                    "error": "Diese Seite ist nicht berechtigt, den Verstetigungslotsen einzubinden.",
                    "error_en": "This site is not allowed to embed the Verstetigungslotse.",
                    "code": "origin_not_allowed",
                },
                status_code=403,
            )
        elif request.method == "OPTIONS":
            response = Response(status_code=204)
            _cors(response.headers, cors_origin)
        else:
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
                response = JSONResponse(
                    {"error": "Anfrage zu groß.", "error_en": "Request too large.", "code": "too_large"},
                    status_code=413,
                )
            elif request.method == "POST" and path in LIMITED_PATHS:
                wait = self.limiter.check(RateLimiter.client_key(request))
                if wait is not None:
                    response = _rate_limited(wait)
                    _cors(response.headers, cors_origin)
        if response is not None:
            _harden(response.headers)
        return response


def _rate_limited(wait: float) -> Response:
    seconds = int(wait) + 1
    response = JSONResponse(
        {
            "error": f"Zu viele Anfragen. Bitte in {seconds} Sekunden erneut versuchen.",
            "error_en": f"Too many requests. Please try again in {seconds} seconds.",
            "code": "rate_limited",
        },
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )
    _harden(response.headers)
    return response


def _busy() -> Response:
    de, en = BUSY
    response = JSONResponse({"error": de, "error_en": en, "code": "busy"}, status_code=429,
                            headers={"Retry-After": "5"})
    _harden(response.headers)
    return response


def _host_refusal(host: str | None, path: str) -> Response:
    """400 for a host name that is not ours: JSON on the API, a plain sentence for people elsewhere.

    The name is shown so an administrator sees what to add; only its parsed, harmless form is echoed.
    """
    name = host_name(host)
    shown = f"„{name[:100]}“" if name else "(fehlt oder ungültig)"
    shown_en = f"'{name[:100]}'" if name else "(missing or invalid)"
    error = (
        f"Der Verstetigungslotse ist unter dem Hostnamen {shown} nicht erreichbar. Bitte die übliche Adresse "
        "verwenden. Administration: den Namen in LOTSE_ALLOWED_HOSTS eintragen."
    )
    error_en = (
        f"The Verstetigungslotse does not answer under the host name {shown_en}. Please use its usual address. "
        "Administrators: add the name to LOTSE_ALLOWED_HOSTS."
    )
    response: Response
    if path.startswith(PUBLIC_PREFIXES):
        response = JSONResponse({"error": error, "error_en": error_en, "code": "host_not_allowed"}, status_code=400)
    else:
        response = PlainTextResponse(f"{error}\n\n{error_en}\n", status_code=400)
    _harden(response.headers)
    return response


def _harden(headers: MutableHeaders) -> None:
    """Security headers on every response, early refusals included: nothing of ours may be framed."""
    for key, value in SECURITY_HEADERS.items():
        headers.setdefault(key, value)
    csp = headers.get("Content-Security-Policy")
    headers["Content-Security-Policy"] = f"{csp}; {FRAME_ANCESTORS}" if csp else FRAME_ANCESTORS


def _no_cors(headers: MutableHeaders) -> None:
    """No cross-origin reads of the UI, the editors' page or documents.

    gradio grants every origin credentialed CORS (``Access-Control-Allow-Origin: <origin>`` with
    ``-Credentials: true``) whenever the host is not localhost. Its login cookie is ``SameSite=None``, so any
    website opened by a logged-in editor could read the feedback through the editor's browser. Our pages only
    talk to their own origin and need no CORS at all.
    """
    for key in {k for k in headers if k.lower().startswith("access-control-")}:
        del headers[key]


def _cors(headers: MutableHeaders, origin: str | None) -> None:
    if origin is None:
        return
    headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"
    headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    headers["Access-Control-Allow-Headers"] = "Content-Type"
    headers["Access-Control-Max-Age"] = "600"
