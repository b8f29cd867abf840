"""Handlers of the `lotse` subcommands: parse nothing, print results, return an exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from assistant.cli import EXIT_ERROR, EXIT_OK, _emit
from assistant.config import Settings
from assistant.errors import InputError
from assistant.retrieval.filters import Filters
from assistant.services import build_services


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _filters(args: argparse.Namespace) -> Filters:
    return Filters.parse({"factors": args.factor, "doc_types": args.doc_type})


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    if settings.ingest_nice and hasattr(os, "nice"):
        # Embedding takes every core it gets; answers to people waiting come first.
        os.nice(settings.ingest_nice)
    services = build_services(settings)
    if args.reset:
        services.store.reset()
    pipeline = services.pipeline(progress=not args.json)
    report = pipeline.run(args.paths, prune=not args.no_prune)
    payload = report.to_contract()

    def human() -> None:
        _out(
            f"Ingest abgeschlossen in {report.seconds:.1f} s: {len(report.added)} neu, {len(report.updated)} "
            f"aktualisiert, {len(report.unchanged)} unverändert, {len(report.removed)} entfernt, "
            f"{len(report.failed)} fehlgeschlagen."
        )
        _out(f"Index: {report.documents} Dokumente, {report.chunks} Abschnitte ({settings.index_dir}).")
        for dup in report.duplicates:
            _out(f"  doppelt: {dup['path']} = {dup['duplicate_of']}")
        for fail in report.failed:
            _out(f"  FEHLER {fail['path']}: {fail['error']}")
        for warning in report.warnings:
            _out(f"  Hinweis: {warning}")

    _emit(args, payload, human)
    nothing_done = report.failed and not (report.added or report.updated or report.unchanged or report.removed)
    return EXIT_ERROR if nothing_done and report.documents == 0 else EXIT_OK


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.k <= 50:
        raise InputError("--k muss zwischen 1 und 50 liegen.", "--k must be between 1 and 50.")
    services = build_services(settings)
    result = services.retriever.retrieve(args.query, k=args.k, filters=_filters(args))
    payload: dict[str, Any] = {
        "query": args.query,
        "results": [
            {
                "rank": hit.rank,
                "score": round(hit.score, 6),
                "source": hit.chunk.source,
                "title": hit.chunk.title,
                "page": hit.chunk.page,
                "section": hit.chunk.section,
                "text": hit.chunk.text,
            }
            for hit in result.hits
        ],
        "confidence": result.confidence,
    }

    def human() -> None:
        if not result.hits:
            _out("Keine Treffer. Ist der Index leer? (lotse status)")
        for hit in result.hits:
            page = f", S. {hit.chunk.page}" if hit.chunk.page else ""
            _out(f"[{hit.rank}] {hit.chunk.title}{page} – {hit.chunk.section or '(ohne Abschnitt)'}")
            _out(f"    Quelle: {hit.chunk.source}")
            _out("    " + hit.chunk.text[:400].replace("\n", " ") + ("…" if len(hit.chunk.text) > 400 else ""))

    _emit(args, payload, human)
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    services = build_services(settings)
    docs = services.store.documents()
    last = max((d.ingested_at for d in docs.values()), default=None)
    payload = {
        "index": str(settings.chroma_url or settings.index_dir),
        "documents": len(docs),
        "chunks": sum(d.chunk_count for d in docs.values()),
        "embedding_model": services.embedder.model_id,
        "dim": services.embedder.dim,
        "last_ingest": last,
        "llm": settings.llm.model if settings.llm else None,
        "sources": sorted(d.source for d in docs.values()),
    }

    def human() -> None:
        _out(f"Index: {payload['index']}")
        _out(f"Dokumente: {payload['documents']}, Abschnitte: {payload['chunks']}")
        _out(f"Embedding-Modell: {payload['embedding_model']} ({payload['dim']} Dim.)")
        _out(f"Letzter Ingest: {last or 'nie'}")
        _out(f"Sprachmodell: {payload['llm'] or 'keins (extraktive Antworten)'}")

    _emit(args, payload, human)
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    services = build_services(settings)
    removed = services.pipeline().remove(args.doc)
    if removed is None:
        raise InputError(
            f"Kein Dokument '{args.doc}' im Index. 'lotse status' listet die Quellen.",
            f"No document '{args.doc}' in the index. 'lotse status' lists the sources.",
        )
    payload = {"removed": removed.source, "title": removed.title, "chunks": services.store.count()}
    _emit(args, payload, lambda: _out(f"Entfernt: {removed.source} ({removed.title}). Keine Abschnitte mehr abrufbar."))
    return EXIT_OK


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.chat import render_answer_text

    services = build_services(settings)
    result = services.chat.answer(args.query, filters=_filters(args))
    _emit(args, result.to_contract(), lambda: _out(render_answer_text(result)))
    return EXIT_OK


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.evaluation import format_report, run_eval

    services = build_services(settings)
    report = run_eval(services, args.questions, k=args.k, answers=not args.no_answers)
    _emit(args, report, lambda: _out(format_report(report)))
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.check import run_check_cli

    return run_check_cli(args, settings)


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.feedback import FeedbackStore

    store = FeedbackStore(build_services(settings).store, settings.feedback_retention_days)
    items = store.recent(limit=args.limit)
    summary = store.summary()

    def human() -> None:
        _out(json.dumps(summary, ensure_ascii=False))
        for item in items:
            _out(f"{item['created_at']} {item['rating']:>12}  {item['question'][:80]}  {item.get('comment') or ''}")

    _emit(args, {"summary": summary, "items": items}, human)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from assistant.errors import LLMError
    from assistant.web.app import create_app

    services = build_services(settings)
    if services.chat.model is not None:
        # A wrong key, URL or model shows at start-up, not at the first citizen's question. The app still
        # starts: answers fall back to verbatim excerpts until the endpoint works (an outage at start-up must
        # not take the chat down).
        try:
            services.chat.model.ping(require_model=True)
        except LLMError as e:
            print(f"Warnung: {e.localized('de')}\nAntworten kommen im Auszugsmodus, bis das Sprachmodell erreichbar "
                  f"ist.\nWarning: {e.message_en} Answers use verbatim excerpts until the model is reachable.",
                  file=sys.stderr)
    # No access log: it would store every client's IP address (RELIABILITY.md, privacy).
    uvicorn.run(create_app(services), host=settings.host, port=settings.port, log_level="info", access_log=False)
    return EXIT_OK
