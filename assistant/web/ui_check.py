"""The "Verstetigungs-Check" tab of the web UI: upload or paste a plan, check it, read the report, download it.

``assistant.web.ui`` calls :func:`build_check_tab` inside its ``gr.Tab``. Everything shown comes from
:func:`render_report_html`, which escapes every piece of text (plan sentences are user input, corpus text is
document input): no markup from either ever reaches the page. Uploaded plans are read into memory and the copy
gradio stored is deleted right after; plans are never indexed.
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.check import plan_from_text, read_plan_bytes, run_check
from assistant.check.assess import MAX_EVIDENCE
from assistant.check.blocks import short_reference
from assistant.check.export import to_docx, to_markdown
from assistant.check.plan import PlanLimits
from assistant.check.report import CheckReport
from assistant.check.texts import rating_label, status_label, tr
from assistant.errors import FileTooLargeError, InputError, LotseError, public_error
from assistant.services import Services
from assistant.types import Citation
from assistant.web.gradio_guard import UploadRegistry, inside_upload_folder
from assistant.web.security import ClientLimits, client_key_of

log = logging.getLogger(__name__)

REPORT_PREFIX = "lotse-report-"
#: Report files handed to gradio are copied into its cache; our own copies go after this many seconds.
REPORT_TTL_S = 3600
CHECK_CONCURRENCY = 2

_LIGHT_STYLE = {
    "gruen": "background:#1b6e35;color:#fff",
    "gelb": "background:#f2c94c;color:#1f1a00",
    "rot": "background:#b3261e;color:#fff",
}
_BOX = "border:1px solid var(--border-color-primary);border-radius:8px;padding:.6rem .8rem;margin:.6rem 0"
_QUOTE = "margin:.3rem 0;padding:.2rem .6rem;border-left:3px solid var(--color-accent);font-style:italic"

INTRO = (
    "**Verstetigungs-Check:** Laden Sie Ihren Projektplan hoch (Word .docx, PDF, Markdown .md oder Text .txt, "
    "höchstens 5 MB) oder fügen Sie den Text ein. Der Lotse prüft ihn gegen die fünf Erfolgsfaktoren, zeigt je "
    "Faktor eine Ampel mit Begründung, Lücken und nächste Schritte mit Quellen aus der Wissensbasis und liefert "
    "zitierfähige Bausteine für den Antrag. Der Plan wird nur für diese Prüfung gelesen und nicht gespeichert."
)
INTRO_EN = (
    "**Plan check:** Upload your project plan (Word .docx, PDF, Markdown .md or text .txt, at most 5 MB) or paste "
    "its text. The Lotse checks it against the five success factors and shows, per factor, a traffic light with "
    "reasons, gaps and next steps with sources from the knowledge base, plus quotable building blocks for the "
    "application. The plan is read for this check only and not stored."
)
EMPTY_HTML = (
    '<div class="lotse-check-empty"><p>Noch kein Bericht. Plan hochladen oder einfügen und „Plan prüfen“ '
    "wählen.</p></div>"
)
EMPTY_HTML_EN = (
    '<div class="lotse-check-empty"><p>No report yet. Upload or paste a plan and choose "Check plan".</p></div>'
)
#: Labels of the tab's fields: (German, English).
LABELS = {
    "upload": ("Projektplan hochladen (.docx, .pdf, .md, .txt; höchstens 5 MB)",
               "Upload project plan (.docx, .pdf, .md, .txt; at most 5 MB)"),
    "text": ("… oder Text des Projektplans einfügen", "… or paste the text of the project plan"),
    "text_ph": ("Projektplan, Konzept oder Ratsvorlage hier einfügen", "Paste a project plan, concept or council paper"),
    "topic": ("Thema für Bausteine (optional)", "Topic for building blocks (optional)"),
    "topic_ph": ("z. B. Anschlussfinanzierung, Betreibermodell, Wirkungsindikatoren",
                 "e.g. follow-up funding, operating model, impact indicators"),
    "run": ("Plan prüfen", "Check plan"),
    "downloads": ("Bericht herunterladen (Markdown und Word)", "Download report (Markdown and Word)"),
    "rate": ("Zu viele Anfragen. Bitte in {seconds} Sekunden erneut versuchen.",
             "Too many requests. Please try again in {seconds} seconds."),
}


def label(key: str, lang: str) -> str:
    de, en = LABELS[key]
    return en if lang == "en" else de


# --- rendering ---------------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _light(rating: str, lang: str, upper: bool = False) -> str:
    label = rating_label(rating, lang).upper() if upper else rating_label(rating, lang)
    return (
        f'<span class="lotse-light lotse-light-{_e(rating)}" data-rating="{_e(rating)}" '
        f'style="{_LIGHT_STYLE[rating]};border-radius:999px;padding:.1rem .6rem;font-weight:700;'
        f'white-space:nowrap">● {_e(label)}</span>'
    )


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("/", "https://", "http://")) and not url.startswith("//") else None


def _sources(citations: list[Citation], factor: str, lang: str) -> str:
    items = []
    for c in citations:
        link = _safe_url(c.url)
        open_link = (
            f' <a href="{_e(link)}" target="_blank" rel="noopener noreferrer">{_e(tr(lang, "open_doc"))}</a>'
            if link
            else ""
        )
        items.append(
            f'<li class="lotse-check-source" data-n="{c.n}"><strong>[{c.n}]</strong> {_e(short_reference(c, lang))}'
            f' <span style="font-size:.85em">({_e(c.source)})</span>{open_link}'
            f'<blockquote style="{_QUOTE}">„{_e(c.quote)}“</blockquote></li>'
        )
    return f'<ol class="lotse-check-sources" data-factor="{_e(factor)}" style="list-style:none;padding:0">{"".join(items)}</ol>'


def _criteria(criteria: list[Any], lang: str) -> str:
    """Each criterion with its status; every "erfüllt" names the plan sentence(s) that fulfil it."""
    items = []
    for c in criteria:
        line = f"<li data-criterion=\"{_e(c.criterion.id)}\" data-status=\"{_e(c.status)}\">"
        line += f"{_e(c.criterion.label_in(lang))}: <strong>{_e(status_label(c.status, lang))}</strong>"
        evidence = c.evidence()[:MAX_EVIDENCE]
        if evidence:
            quotes = "".join(f'<li class="lotse-check-evidence">„{_e(m.sentence.text)}“</li>' for m in evidence)
            line += f'<div style="font-size:.9em">{_e(tr(lang, "evidence"))}:</div><ul>{quotes}</ul>'
        items.append(line + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _list(items: list[str], ordered: bool = False) -> str:
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{_e(i)}</li>" for i in items) + f"</{tag}>"


def render_report_html(report: CheckReport) -> str:
    """The report as escaped HTML (the only markup is ours), in the report's language."""
    lang = report.lang
    th = '<th style="text-align:left">'
    parts = [
        f'<div class="lotse-check-report" lang="{_e(lang)}">',
        f"<h2>{_e(tr(lang, 'title', name=report.plan.name))}</h2>",
        f'<p style="font-size:.9em">{_e(tr(lang, "created", when=report.created, mode=report.mode_label()))} · '
        f"{_e(tr(lang, 'sentences_checked', n=len(report.plan.sentences)))}</p>",
        '<table class="lotse-check-overview" style="border-collapse:collapse;width:100%">',
        f"<thead><tr>{th}{_e(tr(lang, 'col_factor'))}</th>{th}{_e(tr(lang, 'col_light'))}</th>"
        f"{th}{_e(tr(lang, 'col_reason'))}</th></tr></thead><tbody>",
    ]
    for f in report.factors:
        parts.append(
            f'<tr data-factor="{_e(f.factor)}" data-rating="{_e(f.rating)}" style="border-top:1px solid '
            f'var(--border-color-primary)"><td>{_e(f.label)}</td><td>{_light(f.rating, lang)}</td>'
            f'<td style="font-size:.9em">{_e(f.reason)}</td></tr>'
        )
    parts.append("</tbody></table>")
    for notice in report.notices:
        parts.append(f'<p class="lotse-notice" role="status">{_e(tr(lang, "notice"))}: {_e(notice)}</p>')
    for f in report.factors:
        parts.append(f'<section class="lotse-check-factor" data-factor="{_e(f.factor)}" style="{_BOX}">')
        parts.append(f"<h3>{_e(f.label)} {_light(f.rating, lang, upper=True)}</h3><p>{_e(f.reason)}</p>")
        if f.summary:
            parts.append(f"<p><strong>{_e(tr(lang, 'summary'))}:</strong> {_e(f.summary)}</p>")
        parts.append(f"<h4>{_e(tr(lang, 'found'))}</h4>")
        found = [f"„{s.text}“" + (f" ({tr(lang, 'section', name=s.section)})" if s.section else "") for s in f.found]
        parts.append(_list(found) if found else f"<p>{_e(tr(lang, 'found_none'))}</p>")
        parts.append(f"<h4>{_e(tr(lang, 'criteria'))}</h4>")
        parts.append(_criteria(f.criteria, lang))
        if f.gaps:
            parts.append(f"<h4>{_e(tr(lang, 'gaps'))}</h4>" + _list(f.gaps))
        if f.steps:
            parts.append(f"<h4>{_e(tr(lang, 'steps'))}</h4>" + _list(f.steps, ordered=True))
        if f.guidance:
            parts.append(f"<h4>{_e(tr(lang, 'guidance'))}</h4>" + _list([f"„{t}“ [{n}]" for t, n in f.guidance]))
        if f.citations:
            parts.append(f"<h4>{_e(tr(lang, 'sources'))}</h4>" + _sources(f.citations, f.factor, lang))
        parts.append("</section>")
    if report.blocks:
        parts.append(f'<section class="lotse-check-blocks"><h3>{_e(tr(lang, "blocks"))}</h3>')
        parts.append(f"<p>{_e(tr(lang, 'blocks_note'))}</p>")
        for b in report.blocks:
            parts.append(f"<h4>{_e(b.topic)}</h4>" + _list([f"„{s.text}“ [{s.n}]" for s in b.statements]))
            parts.append(_sources(b.citations, b.factor or "thema", lang))
        parts.append("</section>")
    if report.bibliography:
        parts.append(f'<section class="lotse-check-bibliography"><h3>{_e(tr(lang, "bibliography"))}</h3>')
        parts.append(_list([e.text_in(lang) for e in report.bibliography]) + "</section>")
    parts.append(f'<p style="font-size:.85em"><em>{_e(tr(lang, "disclaimer"))}</em></p></div>')
    return "".join(parts)


def error_html(message: str) -> str:
    return f'<div class="lotse-error" role="alert"><p>{_e(message)}</p></div>'


# --- input and files ---------------------------------------------------------------------------------------


def _discard_upload(path: str) -> None:
    """Delete gradio's stored copy of an uploaded plan (and its folder, if that is now empty)."""
    from gradio.utils import get_upload_folder

    p = Path(path).resolve()
    root = Path(get_upload_folder()).resolve()
    if not p.is_relative_to(root) or p == root:
        return  # only ever delete what the upload route created
    try:
        p.unlink(missing_ok=True)
        if p.parent != root and not any(p.parent.iterdir()):
            p.parent.rmdir()
    except OSError as e:
        log.warning("could not delete uploaded plan %s: %s", p.name, e)


def read_input(file_path: str | None, text: str | None, limits: PlanLimits = PlanLimits()):  # noqa: B008, ANN201
    """The plan from an upload (preferred) or pasted text; the upload is deleted whatever happens."""
    if file_path:
        try:
            name = Path(file_path).name
            size = os.stat(file_path).st_size
            if size > limits.max_bytes:
                raise FileTooLargeError(
                    f"„{name}“ ist zu groß für den Verstetigungs-Check (höchstens 5 MB). Bitte nur den "
                    "Projektplan ohne Anlagen hochladen oder den Text einfügen.",
                    f"'{name}' is too large (at most 5 MB).",
                )
            with open(file_path, "rb") as fh:
                data = fh.read(limits.max_bytes + 1)
        except OSError as e:
            raise InputError(
                "Die hochgeladene Datei ist nicht mehr verfügbar. Bitte erneut hochladen.",
                "The uploaded file is no longer available. Please upload it again.",
            ) from e
        finally:
            _discard_upload(file_path)
        return read_plan_bytes(data, name, limits)
    return plan_from_text(text or "", limits)


def _prune_reports(now: float | None = None) -> None:
    now = now or time.time()
    tmp = Path(tempfile.gettempdir())
    for folder in tmp.glob(REPORT_PREFIX + "*"):
        try:
            if now - folder.stat().st_mtime > REPORT_TTL_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def export_files(report: CheckReport) -> list[str]:
    """The report as .md and .docx in a fresh private temporary folder (gradio copies them into its cache)."""
    _prune_reports()
    folder = Path(tempfile.mkdtemp(prefix=REPORT_PREFIX))
    stem = re.sub(r"[^\w\-]+", "-", Path(report.plan.name).stem).strip("-")[:40] or "plan"
    md = folder / f"verstetigungs-check-{stem}.md"
    docx_path = folder / f"verstetigungs-check-{stem}.docx"
    md.write_text(to_markdown(report), encoding="utf-8")
    docx_path.write_bytes(to_docx(report))
    return [str(md), str(docx_path)]


def check_handler(
    services: Services, file_path: str | None, text: str | None, topic: str | None, lang: str = "de"
) -> tuple[str, Any]:
    """Run a check for the UI: (report or error HTML, report files or None), in ``lang``. Never raises.

    ``file_path`` must be an upload in gradio's upload folder; anything else is refused with one message that
    says nothing about the path (whether it exists, what it holds).
    """
    try:
        if file_path and inside_upload_folder(file_path) is None:
            log.warning("check: refused a file outside the upload folder")
            raise InputError(
                "Bitte den Projektplan über das Upload-Feld hochladen.",
                "Please upload the project plan through the upload field.",
            )
        plan = read_input(file_path, text)
        topics = [topic.strip()[:120]] if topic and topic.strip() else None
        report = run_check(services, plan, topics=topics, lang=lang)
        if file_path and text and text.strip():
            report.notices.insert(0, tr(lang, "file_and_text"))
        return render_report_html(report), export_files(report)
    except Exception as e:  # noqa: BLE001 - the page must show a message, never a traceback
        if not isinstance(e, LotseError):
            log.exception("check failed")
        # The same text for the same failure as on every other channel (chat, API, CLI).
        return error_html(public_error(e).text(lang)), None


# --- gradio ------------------------------------------------------------------------------------------------


def build_check_tab(
    services: Services,
    limits: ClientLimits | None = None,
    uploads: UploadRegistry | None = None,
    lang: Any = None,
) -> list[tuple[Any, Callable[[str], Any]]]:
    """Fill the current gradio context (a ``gr.Tab``) with the check's inputs, report and downloads.

    A check counts against the client's answer limit (``limits``), like ``/api/check``; a consumed upload is
    removed from ``uploads`` (it is deleted right after reading). Returns (component, update for a language)
    pairs for the page's language switch; ``lang`` (the page's language component) sets the report's language.
    """
    limits = limits or ClientLimits.from_settings(services.settings)
    intro = gr.Markdown(INTRO, elem_id="lotse-check-intro")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            upload, text, topic, run, downloads = _inputs()
        with gr.Column(scale=3, min_width=360):
            report = gr.HTML(EMPTY_HTML, elem_id="lotse-check-report", js_on_load=None)

    def on_run(
        file_path: str | None, text_: str | None, topic_: str | None, lang_: str | None, request: gr.Request
    ) -> tuple[str, Any, Any]:
        wait = limits.answers.check(client_key_of(request))
        if wait is not None:
            seconds = int(wait) + 1
            return error_html(f"{label('rate', 'de').format(seconds=seconds)} / "
                              f"{label('rate', 'en').format(seconds=seconds)}"), None, gr.skip()
        body, files = check_handler(services, file_path, text_, topic_, "en" if lang_ == "en" else "de")
        if file_path and uploads is not None:
            uploads.forget(file_path)
        return body, files, None  # the upload was read and deleted: clear the field

    language = lang if lang is not None else gr.State("de")
    run.click(
        on_run,
        [upload, text, topic, language],
        [report, downloads, upload],
        concurrency_limit=CHECK_CONCURRENCY,
        concurrency_id="lotse-check",
        show_progress="full",
    )
    return [
        (intro, lambda lg: gr.update(value=INTRO_EN if lg == "en" else INTRO)),
        (upload, lambda lg: gr.update(label=label("upload", lg))),
        (text, lambda lg: gr.update(label=label("text", lg), placeholder=label("text_ph", lg))),
        (topic, lambda lg: gr.update(label=label("topic", lg), placeholder=label("topic_ph", lg))),
        (run, lambda lg: gr.update(value=label("run", lg))),
        (downloads, lambda lg: gr.update(label=label("downloads", lg))),
    ]


def _inputs() -> tuple[Any, Any, Any, Any, Any]:
    """The check's inputs in the current column: upload, text, topic, the run button and the downloads."""
    upload = gr.File(
        label=label("upload", "de"),
        file_count="single",
        type="filepath",
        elem_id="lotse-check-file",
    )
    text = gr.Textbox(
        label=label("text", "de"),
        lines=10,
        max_lines=24,
        max_length=PlanLimits().max_chars,
        placeholder=label("text_ph", "de"),
        elem_id="lotse-check-text",
    )
    topic = gr.Textbox(
        label=label("topic", "de"),
        placeholder=label("topic_ph", "de"),
        max_length=120,
        elem_id="lotse-check-topic",
    )
    run = gr.Button(label("run", "de"), variant="primary", elem_id="lotse-check-run")
    downloads = gr.File(
        label=label("downloads", "de"),
        file_count="multiple",
        interactive=False,
        elem_id="lotse-check-downloads",
    )
    return upload, text, topic, run, downloads
