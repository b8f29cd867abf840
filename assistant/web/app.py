"""The one FastAPI app: gradio UI at /ui, the editors' page at /redaktion (only with LOTSE_EDITOR_TOKEN), JSON/SSE
API, OpenAI-compatible API, widget files and documents.

`create_app` only wires: the guard in front (`assistant.web.guard`), the routers (`api`, `editor_api`,
`openai_compat`), the static files and the mounted gradio apps (`assistant.web.ui`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from assistant.config import Settings
from assistant.services import Services
from assistant.web.api import build_router
from assistant.web.editor_api import MULTIPART_OVERHEAD, EditorAuth, build_editor_router
from assistant.web.errors import install_error_handlers
from assistant.web.gradio_guard import MountedGradio, UploadRegistry
from assistant.web.guard import (
    EDITOR_PATH,
    LOGIN_ATTEMPTS_PER_MINUTE,
    MAX_BODY_BYTES,
    UI_PATH,
    GuardMiddleware,
)
from assistant.web.openai_compat import build_openai_router
from assistant.web.security import ClientLimits, HostPolicy, OriginPolicy

# Importers of assistant.web.app keep finding these here.
__all__ = ["EDITOR_PATH", "LOGIN_ATTEMPTS_PER_MINUTE", "MAX_BODY_BYTES", "STATIC_DIR", "UI_PATH", "create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def create_app(services: Services, *, with_ui: bool = True) -> FastAPI:
    """The app for `services`: the guard, the routers, the widget's files and (with `with_ui`) the gradio apps.

    The guard is installed before the gradio apps exist; `mounted` and `sessions` are filled as they are mounted.
    """
    settings = services.settings
    docs = settings.api_docs
    app = FastAPI(
        title="Verstetigungslotse",
        description="Zitierende Auskunft zur Verstetigung kommunaler Smart-City-Projekte. "
        "Antworten tragen immer ihre Quellen (Dokument, Seite, Abschnitt, Zitat).",
        version="0.1.0",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    app.state.services = services
    origins = OriginPolicy(settings.origins)
    limits = ClientLimits.from_settings(settings, LOGIN_ATTEMPTS_PER_MINUTE)
    app.state.limits = limits
    app.state.limiter = limits.answers
    uploads = UploadRegistry(
        per_minute=settings.upload_rate_limit,
        client_bytes=settings.upload_client_mb * 1024 * 1024,
        total_bytes=settings.upload_total_mb * 1024 * 1024,
        ttl_s=settings.upload_ttl_s,
    )
    app.state.uploads = uploads
    hosts = _host_policy(settings)

    install_error_handlers(app)
    mounted: list[MountedGradio] = []
    sessions: dict[str, Callable[[Request], bool]] = {}  # prefix -> "logged in?" of a gradio app with a login
    secret_hash = None
    if settings.editor_secret:
        from assistant.secrets import stored_hash

        secret_hash = stored_hash(settings.editor_secret)
    editor_auth = EditorAuth(secret_hash, limits.logins)
    app.add_middleware(
        GuardMiddleware, origins=origins, limits=limits, hosts=hosts, uploads=uploads, mounted=mounted,
        editor=editor_auth, editor_body_bytes=settings.max_file_mb * 1024 * 1024 + MULTIPART_OVERHEAD,
        sessions=sessions,
    )
    app.include_router(build_router(services, limits))
    app.include_router(build_editor_router(services))
    if settings.question_log:
        from assistant.questions import QuestionLog

        services.chat.on_abstain = QuestionLog.of(services.store, settings).record
    app.include_router(build_openai_router(services))
    _mount_static(app)
    if with_ui:
        app = _mount_gradio(app, services, limits, uploads, secret_hash, mounted, sessions)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    return app


def _host_policy(settings: Settings) -> HostPolicy:
    """The host names the app answers to; warns when it listens everywhere but knows only loopback names."""
    hosts = HostPolicy(settings.hosts)
    if not hosts.allow_any and settings.host in ("0.0.0.0", "::") and not settings.allowed_hosts.strip():
        log.warning(
            "Listening on all interfaces, but only loopback host names are allowed: set LOTSE_ALLOWED_HOSTS "
            "(or LOTSE_PUBLIC_BASE_URL) to the name users type, e.g. lotse.stadt.de"
        )
    return hosts


def _mount_static(app: FastAPI) -> None:
    """The widget's files under /static, and /widget.js for embedding pages."""
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

        @app.get("/widget.js", include_in_schema=False)
        def widget() -> Response:
            return Response((STATIC_DIR / "widget.js").read_bytes(), media_type="text/javascript; charset=utf-8")


def _mount_gradio(  # noqa: PLR0913 - what the two gradio apps and the guard share
    app: FastAPI,
    services: Services,
    limits: ClientLimits,
    uploads: UploadRegistry,
    secret_hash: str | None,
    mounted: list[MountedGradio],
    sessions: dict[str, Callable[[Request], bool]],
) -> FastAPI:
    """Mount the chat UI at /ui and, with an editor secret, the editors' page at /redaktion; tell the guard."""
    import gradio as gr

    from assistant.web.ui import build_ui, mount_options

    settings = services.settings
    base = settings.public_base_url.rstrip("/")
    blocks = build_ui(services, limits, uploads)
    app = gr.mount_gradio_app(app, blocks, path=UI_PATH, max_file_size="5mb",
                              root_path=f"{base}{UI_PATH}" if base else None, **mount_options())
    mounted.append(MountedGradio.of(UI_PATH, blocks))
    if secret_hash is not None:
        from assistant.web.ui.editor import build_editor_ui, editor_mount_options

        editor = build_editor_ui(services)
        app = gr.mount_gradio_app(
            app, editor, path=EDITOR_PATH, max_file_size=f"{settings.max_file_mb}mb",
            root_path=f"{base}{EDITOR_PATH}" if base else None,
            **editor_mount_options(secret_hash),
        )
        mounted.append(MountedGradio.of(EDITOR_PATH, editor))
        sessions[EDITOR_PATH] = _gradio_session(app, EDITOR_PATH)
    return app


def _gradio_session(app: FastAPI, path: str) -> Callable[[Request], bool]:
    """Whether a request carries the login cookie of the gradio app mounted at ``path`` (gradio's own check)."""
    from starlette.routing import Mount

    gradio_app: Any = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == path)

    def logged_in(request: Request) -> bool:
        cookie = gradio_app.cookie_id
        token = request.cookies.get(f"access-token-{cookie}") or request.cookies.get(f"access-token-unsecure-{cookie}")
        return token is not None and token in gradio_app.tokens

    return logged_in
