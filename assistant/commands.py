"""Handlers of the `lotse` subcommands: parse nothing, print results, return an exit code.

`assistant.cli` builds the parser and gives each subcommand its handler (``set_defaults(handler=cmd_…)``); the
handlers call the library and print through `emit`, which writes exactly one JSON object under ``--json``.

Long because it holds one handler per subcommand (fourteen) and their human-readable output, on purpose in one
module: `tests/test_architecture.py` checks that the parser wires exactly the ``cmd_`` functions found here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.citations import sources_text
from assistant.config import Settings
from assistant.errors import InputError
from assistant.retrieval.filters import Filters
from assistant.services import build_services

if TYPE_CHECKING:
    from assistant.chat import AnswerResult

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

#: A subcommand: parsed arguments and settings in, exit code out.
Handler = Callable[[argparse.Namespace, Settings], int]


def emit(args: argparse.Namespace, payload: dict[str, Any], human: Callable[[], None]) -> None:
    """The result: one JSON object on stdout with ``--json``, otherwise the human form ``human`` prints."""
    if args.json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        human()


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _filters(args: argparse.Namespace) -> Filters:
    return Filters.parse({"factors": args.factor, "doc_types": args.doc_type})


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    if settings.ingest_nice and hasattr(os, "nice"):
        # Embedding takes every core it gets; answers to people waiting come first.
        os.nice(settings.ingest_nice)
    from ingest.pipeline import IngestReport
    from ingest.web.sync import check_source_url, is_url

    if args.max_pages is not None and not 1 <= args.max_pages <= 100_000:
        raise InputError("--max-pages muss zwischen 1 und 100000 liegen.", "--max-pages must be 1 to 100000.")
    urls = [check_source_url(p) for p in args.paths if is_url(p)]  # refused before anything changes
    paths = [Path(p) for p in args.paths if not is_url(p)]
    services = build_services(settings)
    if args.reset:
        services.store.reset()
    pipeline = services.pipeline(progress=True)  # progress goes to stderr, also with --json
    report = pipeline.run(paths, prune=not args.no_prune) if paths else IngestReport()
    return _report_ingest(args, settings, report, _sync_web(services, settings, urls, report, args.max_pages))


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import IngestReport
    from ingest.web.sync import WebSources

    services = build_services(settings)
    urls = list(WebSources(settings.index_dir).load())
    if not urls:
        raise InputError(
            "Keine Web-Quellen registriert. Eine Website fügt 'lotse ingest https://…/sitemap.xml' hinzu.",
            "No web sources registered. Add a website with 'lotse ingest https://…/sitemap.xml'.",
        )
    report = IngestReport()
    return _report_ingest(args, settings, report, _sync_web(services, settings, urls, report, None))


def _sync_web(
    services: Any, settings: Settings, urls: list[str], report: Any, max_pages: int | None
) -> list[dict[str, Any]]:
    """Sync each web source into ``report``; the per-source outcomes for the ``web`` key of the output."""
    from ingest.web.fetch import WebLimits
    from ingest.web.sync import WebSources, sync_source

    pipeline = services.pipeline()
    limits = WebLimits.from_settings(settings)
    registry = WebSources(settings.index_dir)
    outcomes = []
    for url in urls:
        outcome = sync_source(pipeline, registry, url, limits, report, max_pages, settings.web_max_pages)
        outcomes.append(outcome.to_dict())
    return outcomes


def _report_ingest(args: argparse.Namespace, settings: Settings, report: Any, web: list[dict[str, Any]]) -> int:
    payload = report.to_contract()
    if web:
        payload["web"] = web

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
        for site in web:
            _out(
                f"  Web-Quelle {site['source']}: {site['fetched']} abgerufen, {site['not_modified']} unverändert "
                f"(304), {len(site['gone'])} nicht mehr vorhanden, {site['requests']} Anfragen."
            )

    emit(args, payload, human)
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

    emit(args, payload, human)
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    services = build_services(settings)
    records = services.store.documents()
    status = services.index_status(records)
    last = status["last_ingest"]
    payload = {
        "index": str(settings.chroma_url or settings.index_dir),
        "documents": status["documents"],
        "chunks": status["chunks"],
        "embedding_model": services.embedder.model_id,
        "dim": services.embedder.dim,
        "last_ingest": last,
        "llm": settings.llm.model if settings.llm else None,
        "sources": sorted(d.source for d in records.values()),
    }

    def human() -> None:
        _out(f"Index: {payload['index']}")
        _out(f"Dokumente: {payload['documents']}, Abschnitte: {payload['chunks']}")
        _out(f"Embedding-Modell: {payload['embedding_model']} ({payload['dim']} Dim.)")
        _out(f"Letzter Ingest: {last or 'nie'}")
        _out(f"Sprachmodell: {payload['llm'] or 'keins (extraktive Antworten)'}")

    emit(args, payload, human)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """The document as the index holds it: its word account and its chunks (page, section, text)."""
    from ingest.account import AccountStore

    services = build_services(settings)
    docs = services.store.documents()
    ref = args.doc
    doc = next(
        (d for d in docs.values() if ref in (d.doc_id, d.source, d.title) or d.source.endswith("/" + ref)), None
    )
    if doc is None:
        raise InputError(
            f"Kein Dokument '{ref}' im Index. 'lotse status' listet die Quellen.",
            f"No document '{ref}' in the index. 'lotse status' lists the sources.",
        )
    account = AccountStore(settings.index_dir / "accounts").load(doc.doc_id)
    chunks = sorted(services.store.live_chunks({doc.doc_id: doc}), key=lambda c: c.chunk_index)
    payload = {
        "source": doc.source,
        "title": doc.title,
        "doc_id": doc.doc_id,
        "pages": doc.page_count,
        "account": account,
        "chunks": [{"page": c.page, "section": c.section, "text": c.text} for c in chunks],
    }

    def human() -> None:
        _out(f"{doc.title} ({doc.source}), {len(chunks)} Abschnitte")
        if account is None:
            _out("Wortbilanz: keine (vor dieser Version indexiert; erneut einlesen mit lotse ingest --reset)")
        else:
            removed = ", ".join(f"{k}: {v}" for k, v in account.get("words_removed", {}).items()) or "keine"
            _out(
                f"Wörter: {account['words_extracted']} gelesen, {account['words_indexed']} im Index, "
                f"entfernt: {removed}"
            )
            if account.get("pages_without_text"):
                _out(f"Seiten ohne Text: {', '.join(map(str, account['pages_without_text']))}")
            if account.get("ocr_pages"):
                _out(f"Seiten per Texterkennung (OCR): {', '.join(map(str, account['ocr_pages']))}")
            for warning in account.get("warnings", []):
                _out(f"Hinweis: {warning}")
        for c in chunks:
            page = f"S. {c.page}" if c.page else "-"
            _out(f"\n[{c.chunk_index + 1}] {page} – {c.section or '(ohne Abschnitt)'}")
            _out(c.text)

    emit(args, payload, human)
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
    emit(args, payload, lambda: _out(f"Entfernt: {removed.source} ({removed.title}). Keine Abschnitte mehr abrufbar."))
    return EXIT_OK


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """Registered web sources; ``remove ID`` unregisters one and erases its documents from the index."""
    from assistant.editing import EditorService

    editor = EditorService(build_services(settings))
    if args.action == "remove":
        if not args.source:
            raise InputError("Welche Web-Quelle? 'lotse sources' listet ihre IDs.",
                             "Which web source? 'lotse sources' lists their ids.")
        result = editor.remove_source(args.source)
        emit(args, result, lambda: _out(
            f"Entfernt: {result['removed']} ({len(result['documents_erased'])} Dokumente gelöscht)."))
        return EXIT_OK
    sources = editor.sources()

    def human() -> None:
        if not sources:
            _out("Keine Web-Quellen registriert.")
        for src in sources:
            _out(f"{src['id']}  {src['url']}  {src['documents']} Dokumente, letzter Sync {src['last_sync'] or '–'}")

    emit(args, {"sources": sources}, human)
    return EXIT_OK


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    services = build_services(settings)
    result = services.chat.answer(args.query, filters=_filters(args), max_quotes=args.quotes)
    emit(args, result.to_contract(), lambda: _out(answer_text(result)))
    return EXIT_OK


def answer_text(result: AnswerResult) -> str:
    """The answer as the CLI prints it: text, notices, then one source entry per document with its quotes."""
    out = [result.answer, *(f"Hinweis: {notice}" for notice in result.notices)]
    if result.citations:
        out += ["", *sources_text(result.citations, "de")]
    mode = "Sprachmodell" if result.mode == "llm" else "extraktiv, ohne Sprachmodell"
    out.append(f"\n(Modus: {mode}{', Ausweichantwort' if result.fallback else ''})")
    return "\n".join(out)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.evaluation import format_report, run_eval

    services = build_services(settings)
    report = run_eval(services, args.questions, k=args.k, answers=not args.no_answers)
    emit(args, report, lambda: _out(format_report(report)))
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """`lotse check PLAN_FILE [--out FILE.md|FILE.docx] [--json] [--topic T ...] [--lang en]`."""
    from assistant.check import read_plan_file, render_text, run_check
    from assistant.check.export import check_out_path, write_report
    from assistant.check.texts import tr

    if args.out is not None:
        check_out_path(args.out, args.plan)  # refuse a bad --out before the slow part
    plan = read_plan_file(args.plan)
    services = build_services(settings)
    lang = "en" if args.lang == "en" else "de"
    report = run_check(services, plan, topics=args.topic or None, lang=lang)
    written = write_report(report, args.out) if args.out is not None else None

    def human() -> None:
        _out(render_text(report))
        if written is not None:
            _out(f"\n{tr(lang, 'saved', path=written)}")

    payload = report.to_contract()
    if written is not None:
        payload["out"] = str(written)
    emit(args, payload, human)
    return EXIT_OK


def cmd_eval_check(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.check.evaluation import format_check_eval, run_check_eval

    judge = None
    if not args.no_dense:
        from assistant.check.match import SentenceJudge
        from assistant.services import build_embedder

        judge = SentenceJudge(build_embedder(settings))
    report = run_check_eval(args.plans, judge=judge)
    emit(args, report, lambda: _out(format_check_eval(report, errors=args.errors)))
    return EXIT_OK


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    store = build_services(settings).feedback
    items = store.recent(limit=args.limit)
    summary = store.summary()

    def human() -> None:
        _out(json.dumps(summary, ensure_ascii=False))
        for item in items:
            _out(f"{item['created_at']} {item['rating']:>12}  {item['question'][:80]}  {item.get('comment') or ''}")

    emit(args, {"summary": summary, "items": items}, human)
    return EXIT_OK


def cmd_token_hash(args: argparse.Namespace, settings: Settings) -> int:
    """Print the scrypt hash of the editors' password (read from stdin, or a new random one with --new)."""
    import secrets as random_source

    from assistant.config import MIN_EDITOR_TOKEN
    from assistant.secrets import hash_token

    token = random_source.token_urlsafe(24) if args.new else sys.stdin.readline().strip()
    if len(token) < MIN_EDITOR_TOKEN:
        raise InputError(
            f"Das Passwort ist zu kurz (mindestens {MIN_EDITOR_TOKEN} Zeichen). Mit --new wird eines erzeugt.",
            f"The password is too short (at least {MIN_EDITOR_TOKEN} characters). --new generates one.",
        )
    digest = hash_token(token)

    def human() -> None:
        if args.new:
            _out(f"Passwort / password (nur jetzt sichtbar / shown once): {token}")
        _out(digest)

    emit(args, {"hash": digest} | ({"token": token} if args.new else {}), human)
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
    # X-Forwarded-For/-Proto only from the configured proxies; uvicorn's default would trust 127.0.0.1, so any
    # local process could choose the client address that the rate limits key on.
    proxies = settings.trusted_proxies.strip() or os.environ.get("FORWARDED_ALLOW_IPS", "").strip()
    # No access log: it would store every client's IP address (RELIABILITY.md, privacy).
    uvicorn.run(create_app(services), host=settings.host, port=settings.port, log_level="info", access_log=False,
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
    return EXIT_OK
