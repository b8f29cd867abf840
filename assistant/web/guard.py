"""The guard in front of the whole app: one plain ASGI middleware (`GuardMiddleware`) and its refusals.

Host and origin allow-lists, request bodies (size and time), rate limits and answer admission, the editors' API
token, the rules for the mounted gradio apps (`assistant.web.gradio_guard`) and the security headers on every
response. `assistant.web.app.create_app` installs it; the path constants here say what it protects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders

from assistant.web.editor_api import PREFIX as EDITOR_API
from assistant.web.editor_api import VERIFIED, EditorAuth
from assistant.web.gradio_guard import (
    MAX_GRADIO_JSON_BYTES,
    NOT_AVAILABLE,
    POST_ROUTES,
    EventSanitizer,
    MountedGradio,
    UploadRegistry,
    is_event_stream,
    parse_json,
    refusal,
    served_file_allowed,
)
from assistant.web.responses import (
    PUBLIC_PREFIXES,
    busy,
    cors,
    harden,
    host_refusal,
    no_cors,
    rate_limited,
    with_headers,
)
from assistant.web.security import (
    BodyTimeout,
    BodyTooLarge,
    ClientGone,
    ClientLimits,
    HostPolicy,
    OriginPolicy,
    RateLimiter,
    read_body,
    replay,
)

log = logging.getLogger(__name__)

#: Paths that cost an answer: these count against the per-client rate limit.
LIMITED_PATHS = ("/api/ask", "/api/chat", "/v1/chat/completions", "/api/check")
#: Requests that take an answer slot; admission is decided once the whole body is there.
ANSWER_PATHS = ("/api/ask", "/api/chat", "/v1/chat/completions")
FEEDBACK_PATHS = ("/api/feedback",)
MAX_BODY_BYTES = 256 * 1024
#: Load balancers probe by address (``Host: 10.0.3.7:8000``); the health check answers whatever the host.
HOST_EXEMPT = ("/api/health",)
UI_PATH = "/ui"
EDITOR_PATH = "/redaktion"
#: gradio's login form posts here; a per-client limit of its own, independent of LOTSE_RATE_LIMIT.
LOGIN_PATHS = (f"{EDITOR_PATH}/login", f"{EDITOR_PATH}/login/")
LOGIN_ATTEMPTS_PER_MINUTE = 10
#: A 5 MB plan over a slow line; an upload still arriving after this is cut off.
UPLOAD_DEADLINE_S = 120.0
#: Never honoured from clients: gradio builds its public URL and the logout redirect from them. The public
#: URL comes from LOTSE_PUBLIC_BASE_URL; the scheme from uvicorn's trusted-proxy handling.
UNTRUSTED_HEADERS = (b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-port", b"x-forwarded-prefix",
                     b"forwarded")


class GuardMiddleware:
    """Host and origin allow-lists, request bodies, rate limits, the gradio guard and security headers.

    Order: the ``Host`` check comes first (a DNS-rebinding page passes the origin check, see
    :mod:`assistant.web.security`), then origin, preflight, size and rate limit on the public paths, then the
    checks on the mounted gradio apps (:mod:`assistant.web.gradio_guard`). A POST body is read in full, within
    ``LOTSE_BODY_TIMEOUT_S``, before an answer slot is counted.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs the app in a
    separate task behind a memory stream, and a streaming answer whose client disconnected then stayed
    suspended, holding its answer slot (measured: never freed within 4 s; freed at once without it).
    """

    def __init__(  # type: ignore[no-untyped-def]
        self,
        app,
        origins: OriginPolicy,
        limits: ClientLimits,
        hosts: HostPolicy,
        uploads: UploadRegistry,
        mounted: list[MountedGradio],
        editor: EditorAuth,
        editor_body_bytes: int,
        sessions: dict[str, Callable[[Request], bool]],
    ) -> None:
        self.sessions = sessions
        self.app = app
        self.editor = editor
        self.editor_body_bytes = editor_body_bytes
        self.origins = origins
        self.limits = limits
        self.hosts = hosts
        self.uploads = uploads
        self.mounted = mounted  # filled by create_app once the gradio apps are mounted
        # Answer requests being computed or waiting. Without a cap, a flood waits first for one of the worker
        # threads and then for a slot, and learns it is refused after seconds (measured: p95 7.7 s to a 429);
        # counted here, in the event loop, a request beyond the cap is refused in a millisecond.
        self.admission = limits.admission

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        """Refuse what the rules refuse (in the order of the class docstring), pass the rest on with our headers."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in UNTRUSTED_HEADERS]
        request = Request(scope)
        path = scope["path"]
        host = request.headers.get("host")
        if not self.hosts.allows(host) and not (
            scope["type"] == "http" and path in HOST_EXEMPT and request.method in ("GET", "HEAD")
        ):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await host_refusal(host, path)(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = RateLimiter.client_key(request)
        if path == EDITOR_API or path.startswith(EDITOR_API + "/"):
            await self._editor_api(request, scope, receive, send, client)
            return
        if request.method == "POST" and path in LOGIN_PATHS:
            wait = self.limits.logins.check(client)
            if wait is not None:
                await rate_limited(wait)(scope, receive, send)
                return
        public = path.startswith(PUBLIC_PREFIXES)
        cors_origin = None
        if public:
            allowed, cors_origin = self.origins.verdict(request)
            refusal_ = self._refusal(request, path, allowed, cors_origin, client)
            if refusal_ is not None:
                await refusal_(scope, receive, send)
                return
        send_with_headers = with_headers(send, path, public, cors_origin)
        gradio = next((m for m in self.mounted if path.startswith(m.prefix + "/")), None)
        if gradio is not None:
            await self._gradio(gradio, path[len(gradio.prefix):], scope, receive, send_with_headers, client)
            return
        if not (public and request.method in ("POST", "PUT", "PATCH")):
            await self.app(scope, receive, send_with_headers)
            return
        await self._public_write(request, scope, receive, send, send_with_headers, cors_origin)

    async def _public_write(  # type: ignore[no-untyped-def]
        self, request: Request, scope, receive, send, send_with_headers, cors_origin: str | None
    ) -> None:
        """A POST/PUT/PATCH on the public API: the whole body first, then an answer request is admitted only
        while answers are not saturated (counted here, in the event loop)."""
        path = scope["path"]
        body = await self._body(scope, receive, send_with_headers, MAX_BODY_BYTES)
        if body is None:
            return
        answering = request.method == "POST" and path in ANSWER_PATHS
        if not answering:
            await self.app(scope, replay(body, receive), send_with_headers)
            return
        if self.admission.saturated:
            refused = busy()
            cors(refused.headers, cors_origin)
            await refused(scope, receive, send)
            return
        self.admission.in_flight += 1
        try:
            await self.app(scope, replay(body, receive), send_with_headers)
        finally:
            self.admission.in_flight -= 1

    async def _editor_api(self, request: Request, scope, receive, send, client: str) -> None:  # type: ignore[no-untyped-def]
        """The editors' API: same origin only, the bearer token verified before any body is read, then bodies up
        to LOTSE_MAX_FILE_MB (see :mod:`assistant.web.editor_api`)."""

        async def hardened(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                harden(headers)
                no_cors(headers)
                headers["Cache-Control"] = "no-store"
            await send(message)

        allowed, cors_origin = self.origins.verdict(request)
        if not allowed or cors_origin is not None:
            refused: Response | None = refusal(
                403, "Die Redaktions-API ist nur ohne fremde Website erreichbar.",
                "The editors' API cannot be called from another website.", "origin_not_allowed")
        else:
            refused = await self.editor.refusal(request, client)
        if refused is not None:
            await refused(scope, receive, hardened)
            return
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > self.editor_body_bytes:
                await refusal(413, "Datei zu groß.", "File too large.", "too_large", {"Connection": "close"})(
                    scope, receive, hardened)
                return
            body = await self._body(scope, receive, hardened, self.editor_body_bytes, UPLOAD_DEADLINE_S)
            if body is None:
                return
            receive = replay(body, receive)
        scope[VERIFIED] = True
        await self.app(scope, receive, hardened)

    async def _body(  # type: ignore[no-untyped-def]
        self, scope, receive, send, max_bytes: int, timeout_s: float | None = None
    ) -> bytes | None:
        """The request body, or None after answering 408/413 (or when the client left)."""
        timeout_s = timeout_s or self.limits.body_timeout_s
        try:
            return await read_body(receive, max_bytes, timeout_s)
        except BodyTooLarge:
            response = refusal(413, "Anfrage zu groß.", "Request too large.", "too_large", {"Connection": "close"})
        except BodyTimeout:
            seconds = f"{timeout_s:g}"
            response = refusal(
                408, f"Die Anfrage kam nicht innerhalb von {seconds} Sekunden vollständig an.",
                f"The request did not arrive in full within {seconds} seconds.", "body_timeout",
                {"Connection": "close"},
            )
        except ClientGone:
            return None
        await response(scope, receive, send)
        return None

    async def _gradio(self, mounted: MountedGradio, route: str, scope, receive, send, client: str) -> None:  # type: ignore[no-untyped-def]
        """The app's own rules for a mounted gradio app (see :mod:`assistant.web.gradio_guard`)."""
        method = scope["method"]
        api = route.startswith("/gradio_api/")
        sub = route[len("/gradio_api"):] if api else route
        if method in ("GET", "HEAD"):
            if api and (sub.startswith(("/file=", "/file/", "/proxy=")) and not served_file_allowed(sub)):
                await refusal(404, *NOT_AVAILABLE, "not_found")(scope, receive, send)
                return
            if api and is_event_stream(route):
                sanitizer = EventSanitizer()

                async def sanitized(message):  # type: ignore[no-untyped-def]
                    if message["type"] == "http.response.start":
                        message["headers"] = [(k, v) for k, v in message.get("headers", [])
                                              if k.lower() != b"content-length"]
                    elif message["type"] == "http.response.body":
                        final = not message.get("more_body", False)
                        message = {**message, "body": sanitizer.feed(message.get("body", b""), final)}
                    await send(message)

                await self.app(scope, receive, sanitized)
                return
            await self.app(scope, receive, send)
            return
        if method != "POST" or not api:
            # gradio's login form (/redaktion/login) and logout are its own; everything else takes no body.
            if method == "POST" and route.rstrip("/") in ("/login", "/logout"):
                body = await self._body(scope, receive, send, 16 * 1024)
                if body is not None:
                    await self.app(scope, replay(body, receive), send)
                return
            await refusal(405, *NOT_AVAILABLE, "not_allowed")(scope, receive, send)
            return
        if not POST_ROUTES.match(sub):
            await refusal(404, *NOT_AVAILABLE, "not_found")(scope, receive, send)
            return
        self.uploads.sweep()  # unconsumed uploads go after their time to live, also when nobody uploads
        if sub.rstrip("/") == "/upload":
            await self._upload(mounted, scope, receive, send, client)
            return
        body = await self._body(scope, receive, send, MAX_GRADIO_JSON_BYTES)
        if body is None:
            return
        refused = mounted.check_call(sub, parse_json(body), client, self.uploads)
        if refused is not None:
            await refused(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)

    async def _upload(self, mounted: MountedGradio, scope, receive, send, client: str) -> None:  # type: ignore[no-untyped-def]
        """Uploads only where the page has an upload field, bounded per client and in all; the stored paths
        are recorded for this client, the only one that may then name them in a call."""
        logged_in = self.sessions.get(mounted.prefix)
        if not mounted.has_upload or (logged_in is not None and not logged_in(Request(scope))):
            # The editors' page takes uploads from logged-in editors only, checked before any byte is read.
            await refusal(404, *NOT_AVAILABLE, "not_found")(scope, receive, send)
            return
        headers = Request(scope).headers
        length = headers.get("content-length", "")
        if not length.isdigit() or "transfer-encoding" in headers:
            # gradio's page always sends a length; a chunked body could carry more than it declares.
            await refusal(411, "Upload ohne Längenangabe.", "Upload without a length.", "length_required")(
                scope, receive, send)
            return
        declared = int(length)
        refused = self.uploads.admit(client, declared)
        if refused is not None:
            await refused(scope, receive, send)
            return
        status = 0
        chunks: list[bytes] = []
        received = 0
        deadline = time.monotonic() + UPLOAD_DEADLINE_S

        async def counted():  # type: ignore[no-untyped-def]
            """The body as it arrives, cut off (as a disconnect) past its declared length or the deadline."""
            nonlocal received
            timeout = deadline - time.monotonic()
            message = {"type": "http.disconnect"}
            if timeout > 0:
                with anyio.move_on_after(timeout):
                    message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > declared:
                    log.warning("upload longer than its Content-Length: cut off")
                    return {"type": "http.disconnect"}
            return message

        async def capture(message):  # type: ignore[no-untyped-def]
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and status == 200:
                    paths = parse_json(b"".join(chunks))
                    if isinstance(paths, list):
                        self.uploads.record(client, [p for p in paths if isinstance(p, str)])
            await send(message)

        try:
            await self.app(scope, counted, capture)
        finally:
            self.uploads.release(client, declared)

    def _refusal(
        self, request: Request, path: str, allowed: bool, cors_origin: str | None, client: str
    ) -> Response | None:
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
            cors(response.headers, cors_origin)
        else:
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
                response = JSONResponse(
                    {"error": "Anfrage zu groß.", "error_en": "Request too large.", "code": "too_large"},
                    status_code=413,
                )
            elif request.method == "POST" and path in (*LIMITED_PATHS, *FEEDBACK_PATHS):
                limiter = self.limits.feedback if path in FEEDBACK_PATHS else self.limits.answers
                wait = limiter.check(client)
                if wait is not None:
                    response = rate_limited(wait)
                    cors(response.headers, cors_origin)
        if response is not None:
            harden(response.headers)
        return response
