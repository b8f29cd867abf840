"""`lotse` command line: ingest, sync, search, ask, eval, check, status, remove, serve.

Every subcommand accepts ``--index DIR`` and ``--json`` after its name. With ``--json`` stdout carries exactly
one JSON object (also for errors: ``{"error": ..., "code": ...}``); human output and progress go elsewhere.
Messages are German; ``--lang en`` or ``LOTSE_LANG=en`` switches to English.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from assistant import commands
from assistant.commands import EXIT_ERROR, EXIT_OK, EXIT_USAGE, Handler
from assistant.config import Settings, load_settings
from assistant.errors import LotseError, public_error

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

log = logging.getLogger("lotse")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", metavar="DIR", help="Index-Ordner / index folder (LOTSE_INDEX_DIR)")
    p.add_argument("--json", action="store_true", help="Ausgabe als ein JSON-Objekt / output one JSON object")
    p.add_argument("--lang", choices=["de", "en"], default=os.environ.get("LOTSE_LANG", "de"),
                   help="Sprache der Meldungen / language of messages")
    p.add_argument("-v", "--verbose", action="store_true", help="Ausführliches Log / verbose log")


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: Handler, *, help: str
) -> argparse.ArgumentParser:
    """A subcommand whose parsed arguments carry their handler (``args.handler``)."""
    p = sub.add_parser(name, help=help)
    p.set_defaults(handler=handler)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The `lotse` parser; each subcommand carries its handler from `assistant.commands`."""
    parser = argparse.ArgumentParser(
        prog="lotse",
        description="Verstetigungslotse: zitierende Auskunft zur Verstetigung von Smart-City-Projekten. "
        "(Cited answers on carrying smart-city pilots into permanent operation.)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="BEFEHL")
    # In this order in `lotse --help`.
    _index_commands(sub)
    _answer_commands(sub)
    _quality_commands(sub)
    _document_commands(sub)
    _service_commands(sub)
    return parser


def _index_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """ingest, sync: fill the index from files, folders and web sites."""
    p = _command(sub, "ingest", commands.cmd_ingest,
                 help="Dokumente indexieren (inkrementell) / index documents (incremental)")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="Dateien, Ordner oder Web-Adressen (Sitemap oder Startseite) / files, folders or URLs")
    p.add_argument("--max-pages", type=int, metavar="N",
                   help="Höchstens N Dokumente je Website (LOTSE_WEB_MAX_PAGES) / at most N documents per site")
    p.add_argument("--reset", action="store_true",
                   help="Index vorher leeren, z. B. nach Modellwechsel / empty the index first")
    p.add_argument("--no-prune", action="store_true",
                   help="Aus dem Ordner entfernte Dateien nicht löschen / keep documents whose file is gone")
    _common(p)

    p = _command(sub, "sync", commands.cmd_sync,
                 help="Alle Web-Quellen abgleichen / re-sync every web source")
    _common(p)


def _answer_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """search, ask: passages and cited answers."""

    p = _command(sub, "search", commands.cmd_search, help="Passagen suchen / search passages")
    p.add_argument("query", metavar="FRAGE")
    p.add_argument("--k", type=int, default=5, help="Anzahl Treffer / number of results (1-50)")
    p.add_argument("--factor", action="append", default=[], help="Erfolgsfaktor-Filter / factor filter")
    p.add_argument("--doc-type", action="append", default=[], help="Dokumenttyp-Filter / document type filter")
    _common(p)

    p = _command(sub, "ask", commands.cmd_ask,
                 help="Frage mit Quellen beantworten / answer a question with citations")
    p.add_argument("query", metavar="FRAGE")
    p.add_argument("--factor", action="append", default=[], help="Erfolgsfaktor-Filter / factor filter")
    p.add_argument("--doc-type", action="append", default=[], help="Dokumenttyp-Filter / document type filter")
    p.add_argument(
        "--quotes", type=int, default=None, metavar="N",
        help="Zitate je Antwort ohne Sprachmodell (Standard 3, höchstens 8) / quotes per extractive answer",
    )
    _common(p)


def _quality_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """eval, check, eval-check: measure answers, check a plan, measure the check."""
    p = _command(sub, "eval", commands.cmd_eval,
                 help="Qualität messen / measure retrieval and answer quality")
    p.add_argument("questions", type=Path, metavar="QUESTIONS.jsonl")
    p.add_argument("--k", type=int, default=10, help="Tiefe für MRR / depth for MRR")
    p.add_argument("--no-answers", action="store_true", help="Nur Retrieval messen / retrieval only")
    _common(p)

    p = _command(sub, "check", commands.cmd_check,
                 help="Projektplan prüfen (Verstetigungs-Check) / check a project plan")
    p.add_argument("plan", type=Path, metavar="PLAN_FILE")
    p.add_argument("--out", type=Path, help="Bericht als .md oder .docx / report as .md or .docx")
    p.add_argument("--topic", action="append", default=[],
                   help="Thema für zitierte Bausteine, mehrfach möglich / topic for cited building blocks")
    _common(p)

    p = _command(sub, "eval-check", commands.cmd_eval_check,
                 help="Verstetigungs-Check messen / measure the plan check")
    p.add_argument("plans", type=Path, metavar="PLANS_DIR", help="Ordner mit labels.jsonl / folder with labels.jsonl")
    p.add_argument("--errors", action="store_true", help="Abweichungen auflisten / list disagreements")
    p.add_argument("--no-dense", action="store_true", help="Ohne Embeddings / lexical matching only")
    _common(p)


def _document_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """status, show, remove, sources: what the index holds, and erasing it."""
    p = _command(sub, "status", commands.cmd_status, help="Zustand des Index / index status")
    _common(p)

    p = _command(sub, "show", commands.cmd_show,
                 help="Dokument, Wortbilanz und Abschnitte zeigen / show a document's account and chunks")
    p.add_argument("doc", metavar="DOC", help="Quellpfad, Titel oder ID / source path, title or id")
    _common(p)

    p = _command(sub, "remove", commands.cmd_remove, help="Dokument löschen (DSGVO) / erase a document")
    p.add_argument("doc", metavar="DOC", help="Quellpfad, Titel oder ID / source path, title or id")
    _common(p)

    p = _command(sub, "sources", commands.cmd_sources,
                 help="Web-Quellen auflisten oder entfernen / list or remove web sources")
    p.add_argument("action", nargs="?", choices=["list", "remove"], default="list")
    p.add_argument("source", nargs="?", metavar="ID", help="ID oder URL der Web-Quelle / web source id or URL")
    _common(p)


def _service_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """feedback, token-hash, serve: running the web app and what comes back from it."""
    p = _command(sub, "feedback", commands.cmd_feedback, help="Rückmeldungen ansehen / review feedback")
    p.add_argument("--limit", type=int, default=50)
    _common(p)

    p = _command(sub, "token-hash", commands.cmd_token_hash,
                 help="Hash des Redaktions-Passworts für LOTSE_EDITOR_TOKEN_FILE / hash the editors' password")
    p.add_argument("--new", action="store_true", help="neues Zufallspasswort erzeugen / generate a new password")
    _common(p)

    p = _command(sub, "serve", commands.cmd_serve, help="Web-App starten / serve the web app")
    p.add_argument("--host", help="Adresse / bind address (LOTSE_HOST)")
    p.add_argument("--port", type=int, help="Port (LOTSE_PORT)")
    _common(p)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "index", None):
        overrides["index_dir"] = Path(args.index)
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    return load_settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("bm25s", "chromadb", "httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        settings = _settings(args)
        return int(handler(args, settings) or EXIT_OK)
    except KeyboardInterrupt:
        sys.stderr.write("Abgebrochen.\n")
        return 130
    except Exception as e:  # last line of defence: no traceback for users, full detail in the log
        if args.verbose and not isinstance(e, LotseError):
            log.exception("unexpected error")
        _report_failure(args, e)
        return EXIT_ERROR


def _report_failure(args: argparse.Namespace, error: Exception) -> None:
    """The public text every channel shows for this failure; below it (``detail`` with ``--json``) what the
    operator running the command needs beyond it: a backend's full message, or the exception of a bug."""
    public = public_error(error)
    text = public.text(args.lang)
    if isinstance(error, LotseError):
        detail: str | None = error.localized(args.lang)
    else:
        rerun = "Mit -v erneut ausführen für Details." if args.lang == "de" else "Run again with -v for details."
        detail = f"{type(error).__name__}: {error}. {rerun}"
    if detail == text:
        detail = None
    if args.json:
        payload = {"error": text, "code": public.code} | ({"detail": detail} if detail else {})
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        lead = "Fehler" if args.lang == "de" else "Error"
        sys.stderr.write(f"{lead}: {text}\n" + (f"{detail}\n" if detail else ""))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
