"""The editors' API under ``/api/editor/``: documents, uploads, web sources and content gaps, for scripts.

Authentication: ``Authorization: Bearer <editors' password>``, the same secret as the editors' page
(``LOTSE_EDITOR_TOKEN`` / ``LOTSE_EDITOR_TOKEN_FILE``), checked against its scrypt hash. Every request whose token
is wrong counts against the per-client login limit (the limit of the editors' login form,
:attr:`assistant.web.security.ClientLimits.logins`); a client over it is refused before its token is looked at,
so a guesser is stopped after ten wrong tries a minute and learns nothing from the eleventh. The verified token is remembered as a
keyed digest only and compared in constant time, so a script's many calls cost one scrypt run.

:class:`assistant.web.guard.GuardMiddleware` calls :meth:`EditorAuth.refusal` before it reads any body; only a
verified request may send a body of up to ``LOTSE_MAX_FILE_MB`` (the public API's limit is 256 KB). Without a
configured token the whole API answers 404. No CORS: browsers on other sites cannot call it.

The routes are thin: everything happens in :class:`assistant.editing.EditorService`, which the editors' page
uses too.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from assistant.editing import EditorService
from assistant.secrets import verify
from assistant.services import Services
from assistant.web.security import RateLimiter

PREFIX = "/api/editor"
#: Set in the ASGI scope by the middleware once the bearer token is verified; the routes insist on it.
VERIFIED = "lotse.editor_verified"
#: A multipart body carries the file plus its form fields and boundaries.
MULTIPART_OVERHEAD = 1024 * 1024
_KEY = os.urandom(32)
_HASHING = threading.BoundedSemaphore(2)

UNAUTHORIZED = (
    "Nicht angemeldet: Die Redaktions-API braucht den Kopf 'Authorization: Bearer <Redaktions-Passwort>'.",
    "Not authenticated: the editors' API needs the header 'Authorization: Bearer <editors' password>'.",
)
OFF = (
    "Die Redaktions-API ist ausgeschaltet: Es ist kein Redaktions-Passwort eingerichtet (LOTSE_EDITOR_TOKEN_FILE "
    "oder LOTSE_EDITOR_TOKEN).",
    "The editors' API is off: no editors' password is configured (LOTSE_EDITOR_TOKEN_FILE or LOTSE_EDITOR_TOKEN).",
)


def _error(status: int, texts: tuple[str, str], code: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": texts[0], "error_en": texts[1], "code": code}, status_code=status, headers=headers)


class EditorAuth:
    """Bearer-token check of the editors' API (see the module docstring)."""

    def __init__(self, stored_hash: str | None, attempts: RateLimiter) -> None:
        self.stored = stored_hash
        self.attempts = attempts
        self._verified: bytes | None = None

    async def refusal(self, request: Request, client: str) -> Response | None:
        """None for a verified request, else the 404/401/429 to send."""
        if self.stored is None:
            return _error(404, OFF, "editor_api_off")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 1024:
            return self._unauthorized()
        # A client that failed too often is refused before its token is looked at, the right one included:
        # otherwise the answer to a guess past the limit would still tell whether it was right.
        wait = self.attempts.blocked(client)
        if wait is not None:
            seconds = int(wait) + 1
            return _error(429, (f"Zu viele Anmeldeversuche. Bitte in {seconds} Sekunden erneut versuchen.",
                                f"Too many sign-in attempts. Please try again in {seconds} seconds."),
                          "rate_limited", {"Retry-After": str(seconds)})
        digest = hmac.new(_KEY, token.encode(), hashlib.sha256).digest()
        if self._verified is not None and hmac.compare_digest(digest, self._verified):
            return None
        stored = self.stored

        def check() -> bool:
            with _HASHING:
                return verify(token, stored)

        if not await anyio.to_thread.run_sync(check):
            self.attempts.check(client)  # counts the failure
            return self._unauthorized()
        self._verified = digest
        return None

    @staticmethod
    def _unauthorized() -> Response:
        return _error(401, UNAUTHORIZED, "unauthorized", {"WWW-Authenticate": 'Bearer realm="redaktion"'})


class MetadataPatch(BaseModel):
    title: str | None = Field(None, max_length=300)
    publisher: str | None = Field(None, max_length=300)
    year: int | None = Field(None, ge=1900, le=2100)
    doc_type: str | None = Field(None, max_length=40)
    topics: list[str] | None = Field(None, max_length=20)

    model_config = {"extra": "forbid"}


class SourceRequest(BaseModel):
    url: str = Field(max_length=2000)
    max_pages: int | None = Field(None, ge=1, le=100_000)

    model_config = {"extra": "forbid"}


def build_editor_router(services: Services) -> APIRouter:
    """The editors' routes under PREFIX: documents, web sources, unanswered questions. Every route calls
    `verified` first (the token middleware already checked; a route reached otherwise refuses)."""
    router = APIRouter(prefix=PREFIX, tags=["editor"])
    editor = EditorService(services)
    _document_routes(router, editor, services)
    _source_routes(router, editor)
    _question_routes(router, editor)
    return router


def verified(request: Request) -> None:
    if request.scope.get(VERIFIED) is not True:  # the middleware checks; a route reached otherwise refuses
        raise HTTPException(401, UNAUTHORIZED[0])


def _document_routes(router: APIRouter, editor: EditorService, services: Services) -> None:
    """List, show, upload, change, re-index and erase documents."""

    @router.get("/documents", summary="Dokumente mit Wortbilanz / documents with their accounts")
    def documents(request: Request) -> dict[str, Any]:
        verified(request)
        return {"documents": editor.documents()}

    @router.get("/documents/{doc_id}", summary="Ein Dokument mit seinen Abschnitten / one document and its chunks")
    def document(doc_id: str, request: Request) -> dict[str, Any]:
        verified(request)
        return {"document": editor.document(doc_id)}

    @router.post("/documents", status_code=201, summary="Dokument hochladen / upload a document")
    def upload(  # noqa: PLR0913 - the form's fields
        request: Request,
        file: UploadFile = File(...),  # noqa: B008
        title: str | None = Form(None),  # noqa: B008
        publisher: str | None = Form(None),  # noqa: B008
        year: str | None = Form(None),  # noqa: B008
        doc_type: str | None = Form(None),  # noqa: B008
        topics: str | None = Form(None),  # noqa: B008
    ) -> dict[str, Any]:
        verified(request)
        data = file.file.read(services.settings.max_file_mb * 1024 * 1024 + 1)
        meta = {"title": title, "publisher": publisher, "year": year, "doc_type": doc_type, "topics": topics}
        status, doc = editor.upload(file.filename or "upload", data, meta)
        return {"document": doc, "status": status}

    @router.patch("/documents/{doc_id}", summary="Metadaten ändern / change metadata")
    def patch(doc_id: str, body: MetadataPatch, request: Request) -> dict[str, Any]:
        verified(request)
        return {"document": editor.update(doc_id, body.model_dump(exclude_none=True))}

    @router.post("/documents/{doc_id}/reindex", summary="Neu indexieren / re-index")
    def reindex(doc_id: str, request: Request) -> dict[str, Any]:
        verified(request)
        return editor.reindex(doc_id)

    @router.delete("/documents/{doc_id}", summary="Dokument löschen (geprüft) / erase a document (verified)")
    def erase(doc_id: str, request: Request) -> dict[str, Any]:
        verified(request)
        return editor.erase(doc_id)


def _source_routes(router: APIRouter, editor: EditorService) -> None:
    """List, add, sync and remove web sources."""

    @router.get("/sources", summary="Web-Quellen / web sources")
    def sources(request: Request) -> dict[str, Any]:
        verified(request)
        return {"sources": editor.sources()}

    @router.post("/sources", status_code=201, summary="Web-Quelle hinzufügen und einlesen / add and sync a site")
    def add_source(body: SourceRequest, request: Request) -> dict[str, Any]:
        verified(request)
        return editor.sync_source(body.url, body.max_pages)

    @router.post("/sources/{source_id}/sync", summary="Web-Quelle neu einlesen / sync a web source")
    def sync(source_id: str, request: Request) -> dict[str, Any]:
        verified(request)
        return editor.sync_source(editor.source_url(source_id))

    @router.delete("/sources/{source_id}", summary="Web-Quelle entfernen / remove a web source")
    def remove_source(source_id: str, request: Request) -> dict[str, Any]:
        verified(request)
        return editor.remove_source(source_id)


def _question_routes(router: APIRouter, editor: EditorService) -> None:
    """The questions the assistant could not answer, grouped."""

    @router.get("/questions", summary="Unbeantwortete Fragen, gruppiert / unanswered questions, grouped")
    def questions(request: Request) -> dict[str, Any]:
        verified(request)
        return editor.questions()
