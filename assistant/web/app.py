"""The one FastAPI app: gradio UI at /ui, JSON/SSE API, OpenAI-compatible API, widget files and documents."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders

from assistant.services import Services
from assistant.web.api import build_router
from assistant.web.errors import install_error_handlers
from assistant.web.openai_compat import build_openai_router
from assistant.web.security import (
    FRAME_ANCESTORS,
    SECURITY_HEADERS,
    BodyLimitMiddleware,
    OriginPolicy,
    RateLimiter,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PUBLIC_PREFIXES = ("/api/", "/v1/")
#: Paths that cost an answer: these count against the per-client rate limit.
LIMITED_PATHS = ("/api/ask", "/api/chat", "/v1/chat/completions", "/api/check")
MAX_BODY_BYTES = 256 * 1024

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

    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES, prefixes=PUBLIC_PREFIXES)
    # Added last, so it runs first: refusals happen before any body is read.
    app.add_middleware(GuardMiddleware, origins=origins, limiter=limiter)
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

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    return app


class GuardMiddleware:
    """Origin allow-list, rate limit and security headers, as a plain ASGI middleware.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs the app in a
    separate task behind a memory stream, and a streaming answer whose client disconnected then stayed
    suspended, holding its answer slot (measured: never freed within 4 s; freed at once without it).
    """

    def __init__(self, app, origins: OriginPolicy, limiter: RateLimiter) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.origins = origins
        self.limiter = limiter

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = scope["path"]
        public = path.startswith(PUBLIC_PREFIXES)
        cors_origin = None
        if public:
            allowed, cors_origin = self.origins.verdict(request)
            refusal = self._refusal(request, path, allowed, cors_origin)
            if refusal is not None:
                await refusal(scope, receive, send)
                return

        async def send_with_headers(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _harden(headers)
                if public:
                    _cors(headers, cors_origin)
                if path == "/widget.js":
                    # The widget is loaded by foreign pages by design; it holds no secret.
                    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
                    headers["Cache-Control"] = "public, max-age=300"
            await send(message)

        await self.app(scope, receive, send_with_headers)

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
                    response = JSONResponse(
                        {
                            "error": f"Zu viele Anfragen. Bitte in {int(wait) + 1} Sekunden erneut versuchen.",
                            "error_en": f"Too many requests. Please try again in {int(wait) + 1} seconds.",
                            "code": "rate_limited",
                        },
                        status_code=429,
                        headers={"Retry-After": str(int(wait) + 1)},
                    )
                    _cors(response.headers, cors_origin)
        if response is not None:
            _harden(response.headers)
        return response


def _harden(headers: MutableHeaders) -> None:
    """Security headers on every response, early refusals included: nothing of ours may be framed."""
    for key, value in SECURITY_HEADERS.items():
        headers.setdefault(key, value)
    csp = headers.get("Content-Security-Policy")
    headers["Content-Security-Policy"] = f"{csp}; {FRAME_ANCESTORS}" if csp else FRAME_ANCESTORS


def _cors(headers: MutableHeaders, origin: str | None) -> None:
    if origin is None:
        return
    headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"
    headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    headers["Access-Control-Allow-Headers"] = "Content-Type"
    headers["Access-Control-Max-Age"] = "600"
