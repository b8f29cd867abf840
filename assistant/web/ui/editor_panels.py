"""The editors' page panels beyond feedback: documents, upload, web sources, unanswered questions.

Every action calls :class:`assistant.editing.EditorService`, the service behind ``/api/editor/`` as well, so
the page and the API cannot drift apart. Everything shown is escaped (titles, sources and questions come from
documents and users).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.editing import EditorService
from assistant.errors import LotseError
from assistant.web.ui.render import esc, format_time, notice_html
from assistant.web.ui.texts import Lang

log = logging.getLogger(__name__)

_T: dict[str, tuple[str, str]] = {
    "tab_docs": ("Dokumente", "Documents"),
    "tab_upload": ("Hochladen", "Upload"),
    "tab_sources": ("Web-Quellen", "Web sources"),
    "tab_questions": ("Offene Fragen", "Open questions"),
    "doc": ("Dokument", "Document"),
    "show": ("Anzeigen", "Show"),
    "reindex": ("Neu indexieren", "Re-index"),
    "erase": ("Endgültig löschen", "Erase for good"),
    "confirm": ("Ja, dieses Dokument mit allen Abschnitten löschen", "Yes, erase this document and all its chunks"),
    "confirm_first": ("Bitte das Löschen zuerst bestätigen (Häkchen setzen).", "Please confirm the erasure first (tick the box)."),
    "choose": ("Bitte zuerst ein Dokument wählen.", "Please choose a document first."),
    "erased": ("Gelöscht: {title}. Geprüft: keine Abschnitte, keine Kopie, nicht mehr im Suchindex; andere "
               "App-Prozesse spätestens nach {s:g} s.",
               "Erased: {title}. Checked: no chunks, no copy, gone from the search index; other app processes "
               "within {s:g} s."),
    "erase_incomplete": ("Löschen unvollständig: {checks}. Bitte die Betreiber informieren.",
                         "Erasure incomplete: {checks}. Please tell the operators."),
    "reindexed": ("Neu indexiert: {title} ({chunks} Abschnitte).", "Re-indexed: {title} ({chunks} chunks)."),
    "file": ("Datei (PDF, HTML, Markdown, Text)", "File (PDF, HTML, Markdown, text)"),
    "title": ("Titel", "Title"),
    "publisher": ("Herausgeber", "Publisher"),
    "year": ("Jahr", "Year"),
    "doc_type": ("Dokumenttyp", "Document type"),
    "topics": ("Themen (durch Komma getrennt)", "Topics (comma-separated)"),
    "do_upload": ("Hochladen und indexieren", "Upload and index"),
    "no_file": ("Bitte eine Datei wählen.", "Please choose a file."),
    "uploaded": ("{status}: {title}", "{status}: {title}"),
    "added": ("Neu im Index", "Added"),
    "updated": ("Aktualisiert", "Updated"),
    "unchanged": ("Unverändert", "Unchanged"),
    "url": ("Adresse (Sitemap oder Startseite)", "Address (sitemap or start page)"),
    "add_source": ("Hinzufügen und einlesen", "Add and sync"),
    "sync": ("Jetzt synchronisieren", "Sync now"),
    "source": ("Web-Quelle", "Web source"),
    "synced": ("Synchronisiert: {url} – {fetched} geladen, {same} unverändert, {gone} entfernt.",
               "Synced: {url} – {fetched} fetched, {same} unchanged, {gone} removed."),
    "refresh": ("Aktualisieren", "Refresh"),
    # tables
    "h_title": ("Titel", "Title"), "h_source": ("Quelle", "Source"), "h_origin": ("Herkunft", "Origin"),
    "h_pages": ("Seiten", "Pages"), "h_chunks": ("Abschnitte", "Chunks"),
    "h_words": ("Wörter indexiert", "Words indexed"), "h_removed": ("Wörter entfernt", "Words removed"),
    "h_warn": ("Hinweise", "Warnings"), "h_updated": ("Stand", "Updated"),
    "o_upload": ("Upload", "upload"), "o_web": ("Website", "website"), "o_folder": ("Ordner", "folder"),
    "no_docs": ("Noch keine Dokumente im Index.", "No documents in the index yet."),
    "h_page": ("Seite", "Page"), "h_section": ("Abschnitt", "Section"), "h_text": ("Text", "Text"),
    "account": ("Wortbilanz: {indexed} Wörter indexiert, entfernt: {removed}.",
                "Word account: {indexed} words indexed, removed: {removed}."),
    "no_account": ("Keine Wortbilanz (vor dieser Version indexiert).", "No word account (indexed before this version)."),
    "h_url": ("Adresse", "Address"), "h_last": ("Letzter Sync", "Last sync"), "h_docs": ("Dokumente", "Documents"),
    "h_result": ("Ergebnis", "Result"),
    "no_sources": ("Keine Web-Quellen registriert.", "No web sources registered."),
    "h_question": ("Frage (neueste Fassung)", "Question (latest wording)"), "h_count": ("Anzahl", "Count"),
    "h_lastasked": ("Zuletzt", "Last asked"), "h_why": ("Grund", "Reason"), "h_similar": ("Ähnlich gefragt", "Also asked"),
    "no_questions": ("Keine offenen Fragen im Zeitraum.", "No open questions in this period."),
    "q_intro": ("Fragen, auf die der Lotse keine belegte Antwort fand oder deren Antwort schlecht bewertet wurde, "
                "der letzten {days} Tage, nach Ähnlichkeit gruppiert: die Lücken der Wissensbasis. Gespeichert "
                "werden nur Frage, Sprache und Zeitpunkt – keine IP-Adresse, keine Nutzerkennung.",
                "Questions of the last {days} days the Lotse found no supported answer for, or whose answer was "
                "rated poorly, grouped by similarity: the gaps of the knowledge base. Only question, language and "
                "time are stored – no IP address, no user id."),
    "q_off": ("Das Fragenprotokoll ist ausgeschaltet (LOTSE_QUESTION_LOG=false); gezeigt werden nur schlecht "
              "bewertete Antworten.", "The question log is off (LOTSE_QUESTION_LOG=false); only poorly rated "
              "answers are shown."),
    "r_abstained": ("keine Antwort", "no answer"), "r_not_helpful": ("nicht hilfreich", "not helpful"),
    "r_wrong_source": ("Quelle falsch", "wrong source"),
}


def tx(lang: Lang, key: str, **kw: object) -> str:
    de, en = _T[key]
    text = en if lang == "en" else de
    return text.format(**kw) if kw else text


def _err(e: LotseError, lang: Lang) -> str:
    return notice_html([e.localized(lang)], lang, error=True)


def _ok(text: str, lang: Lang) -> str:
    return notice_html([text], lang)


def documents_html(docs: list[dict[str, Any]], lang: Lang) -> str:
    if not docs:
        return f"<p>{esc(tx(lang, 'no_docs'))}</p>"
    heads = ("h_title", "h_source", "h_origin", "h_pages", "h_chunks", "h_words", "h_removed", "h_warn", "h_updated")
    rows = []
    for d in docs:
        removed = ", ".join(f"{esc(k)} {v}" for k, v in (d.get("words_removed") or {}).items()) or "–"
        warnings = "<br>".join(esc(w) for w in d.get("warnings") or []) or "–"
        cells = [esc(d["title"]), esc(d["source"]), esc(tx(lang, f"o_{d['origin']}")), esc(d["pages"] or "–"),
                 esc(d["chunks"]), esc(d["words_indexed"] if d["words_indexed"] is not None else "–"), removed,
                 warnings, esc(format_time(d["updated_at"], lang))]
        rows.append(f'<tr data-doc="{esc(d["id"])}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f'<th scope="col">{esc(tx(lang, h))}</th>' for h in heads)
    return f'<table class="lotse-ed-docs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def document_html(doc: dict[str, Any], lang: Lang) -> str:
    account = doc.get("account")
    if account:
        removed = ", ".join(f"{k} {v}" for k, v in (account.get("words_removed") or {}).items()) or "0"
        summary = tx(lang, "account", indexed=account.get("words_indexed", "–"), removed=removed)
    else:
        summary = tx(lang, "no_account")
    rows = "".join(
        f"<tr><td>{esc(c['page'] or '–')}</td><td>{esc(c['section'])}</td><td>{esc(c['text'])}</td></tr>"
        for c in doc["chunk_texts"]
    )
    head = "".join(f'<th scope="col">{esc(tx(lang, h))}</th>' for h in ("h_page", "h_section", "h_text"))
    warnings = "".join(f"<li>{esc(w)}</li>" for w in doc.get("warnings") or [])
    return (
        f'<div class="lotse-ed-doc"><h3>{esc(doc["title"])}</h3><p>{esc(doc["source"])}</p>'
        f'<p class="lotse-ed-account">{esc(summary)}</p>{f"<ul>{warnings}</ul>" if warnings else ""}'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def sources_html(sources: list[dict[str, Any]], lang: Lang) -> str:
    if not sources:
        return f"<p>{esc(tx(lang, 'no_sources'))}</p>"
    heads = ("h_url", "h_last", "h_docs", "h_result")
    rows = []
    for s in sources:
        r = s.get("last_result") or {}
        result = (f"{r.get('fetched', 0)} / {r.get('not_modified', 0)} / {len(r.get('gone') or [])} / "
                  f"{r.get('failed', 0)}") if r else "–"
        cells = [esc(s["url"]), esc(format_time(s.get("last_sync"), lang)), esc(s["documents"]), esc(result)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f'<th scope="col">{esc(tx(lang, h))}</th>' for h in heads)
    return f'<table class="lotse-ed-sources"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def questions_html(gaps: dict[str, Any], lang: Lang) -> str:
    intro = f"<p>{esc(tx(lang, 'q_intro', days=gaps['retention_days']))}</p>"
    if not gaps["log_enabled"]:
        intro += f"<p>{esc(tx(lang, 'q_off'))}</p>"
    if not gaps["questions"]:
        return intro + f"<p>{esc(tx(lang, 'no_questions'))}</p>"
    heads = ("h_question", "h_count", "h_lastasked", "h_why", "h_similar")
    rows = []
    for g in gaps["questions"]:
        why = ", ".join(f"{esc(tx(lang, 'r_' + k) if 'r_' + k in _T else k)} {v}" for k, v in g["reasons"].items())
        similar = "<br>".join(esc(e) for e in g["examples"][1:]) or "–"
        cells = [esc(g["question"]), esc(g["count"]), esc(format_time(g["last_at"], lang)), why, similar]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f'<th scope="col">{esc(tx(lang, h))}</th>' for h in heads)
    return intro + f'<table class="lotse-ed-questions"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


class EditorPanels:
    """Builds the four tabs and wires them to :class:`EditorService`."""

    def __init__(self, editor: EditorService) -> None:
        self.editor = editor

    # -- layout -----------------------------------------------------------------------------------------
    def build(self) -> list[gr.Tab]:
        with gr.Tab(tx("de", "tab_docs"), id="documents") as docs_tab:
            self.docs_table = gr.HTML(elem_id="lotse-ed-docs")
            with gr.Row():
                self.doc_choice = gr.Dropdown([], label=tx("de", "doc"), elem_id="lotse-ed-doc", scale=3,
                                              allow_custom_value=True)
                self.show = gr.Button(tx("de", "show"), size="sm", scale=0, min_width=120, elem_id="lotse-ed-show")
                self.reindex = gr.Button(tx("de", "reindex"), size="sm", scale=0, min_width=160,
                                         elem_id="lotse-ed-reindex")
            with gr.Row():
                self.confirm = gr.Checkbox(False, label=tx("de", "confirm"), elem_id="lotse-ed-confirm")
                self.erase = gr.Button(tx("de", "erase"), size="sm", variant="secondary", scale=0, min_width=180,
                                       elem_id="lotse-ed-erase")
            self.doc_status = gr.HTML(elem_id="lotse-ed-doc-status")
            self.doc_view = gr.HTML(elem_id="lotse-ed-doc-view")
        with gr.Tab(tx("de", "tab_upload"), id="upload") as upload_tab:
            self.file = gr.File(label=tx("de", "file"), file_count="single", type="filepath",
                                elem_id="lotse-ed-file")
            with gr.Row():
                self.title = gr.Textbox(label=tx("de", "title"), elem_id="lotse-ed-title", max_length=300)
                self.publisher = gr.Textbox(label=tx("de", "publisher"), elem_id="lotse-ed-publisher", max_length=300)
            with gr.Row():
                self.year = gr.Textbox(label=tx("de", "year"), elem_id="lotse-ed-year", max_length=4)
                self.doc_type = gr.Textbox(label=tx("de", "doc_type"), elem_id="lotse-ed-doctype", max_length=40)
                self.topics = gr.Textbox(label=tx("de", "topics"), elem_id="lotse-ed-topics", max_length=600)
            self.do_upload = gr.Button(tx("de", "do_upload"), variant="primary", elem_id="lotse-ed-upload")
            self.upload_status = gr.HTML(elem_id="lotse-ed-upload-status")
            self.upload_view = gr.HTML(elem_id="lotse-ed-upload-view")  # the new document's account and chunks
        with gr.Tab(tx("de", "tab_sources"), id="sources") as sources_tab:
            self.sources_table = gr.HTML(elem_id="lotse-ed-sources")
            with gr.Row():
                self.url = gr.Textbox(label=tx("de", "url"), elem_id="lotse-ed-url", max_length=2000, scale=3)
                self.add_source = gr.Button(tx("de", "add_source"), size="sm", scale=0, min_width=200,
                                            elem_id="lotse-ed-add-source")
            with gr.Row():
                self.source_choice = gr.Dropdown([], label=tx("de", "source"), elem_id="lotse-ed-source",
                                                 scale=3, allow_custom_value=True)
                self.sync = gr.Button(tx("de", "sync"), size="sm", scale=0, min_width=200, elem_id="lotse-ed-sync")
            self.source_status = gr.HTML(elem_id="lotse-ed-source-status")
        with gr.Tab(tx("de", "tab_questions"), id="questions") as questions_tab:
            self.questions_table = gr.HTML(elem_id="lotse-ed-questions")
            self.refresh_questions = gr.Button(tx("de", "refresh"), size="sm", scale=0, min_width=160,
                                               elem_id="lotse-ed-questions-refresh")
        self.tabs = [docs_tab, upload_tab, sources_tab, questions_tab]
        return self.tabs

    def wire(self, blocks: gr.Blocks, lang: gr.Radio) -> None:
        lists = [self.docs_table, self.doc_choice, self.sources_table, self.source_choice, self.questions_table]
        blocks.load(self.lists, [lang], lists, show_progress="hidden")
        self.refresh_questions.click(self.lists, [lang], lists, show_progress="hidden")
        self.show.click(self.view, [self.doc_choice, lang], [self.doc_view], api_name="dokument")
        self.reindex.click(self.do_reindex, [self.doc_choice, lang], [self.doc_status, *lists])
        self.erase.click(self.do_erase, [self.doc_choice, self.confirm, lang],
                         [self.doc_status, self.doc_view, self.confirm, *lists])
        upload_inputs = [self.file, self.title, self.publisher, self.year, self.doc_type, self.topics, lang]
        self.do_upload.click(self.upload, upload_inputs, [self.upload_status, self.upload_view, self.file, *lists])
        self.add_source.click(self.do_sync, [self.url, lang], [self.source_status, *lists])
        self.sync.click(self.do_sync, [self.source_choice, lang], [self.source_status, *lists])

    def relabel(self, lang: Lang) -> list[Any]:
        keys = ("tab_docs", "tab_upload", "tab_sources", "tab_questions")
        updates: list[Any] = [gr.update(label=tx(lang, k)) for k in keys]
        for _c, key in self._labelled():
            updates.append(gr.update(label=tx(lang, key)))
        for _c, key in self._buttons():
            updates.append(gr.update(value=tx(lang, key)))
        return updates + self.lists(lang)

    def relabel_outputs(self) -> list[Any]:
        return [*self.tabs, *(c for c, _ in self._labelled()), *(c for c, _ in self._buttons()),
                self.docs_table, self.doc_choice, self.sources_table, self.source_choice, self.questions_table]

    def _labelled(self) -> list[tuple[Any, str]]:
        return [(self.doc_choice, "doc"), (self.confirm, "confirm"), (self.file, "file"), (self.title, "title"),
                (self.publisher, "publisher"), (self.year, "year"), (self.doc_type, "doc_type"),
                (self.topics, "topics"), (self.url, "url"), (self.source_choice, "source")]

    def _buttons(self) -> list[tuple[Any, str]]:
        return [(self.show, "show"), (self.reindex, "reindex"), (self.erase, "erase"), (self.do_upload, "do_upload"),
                (self.add_source, "add_source"), (self.sync, "sync"), (self.refresh_questions, "refresh")]

    # -- handlers ---------------------------------------------------------------------------------------
    def lists(self, lang: Lang) -> list[Any]:
        lang = lang or "de"
        try:
            docs = self.editor.documents()
            sources = self.editor.sources()
            gaps = self.editor.questions()
        except LotseError as e:
            error = _err(e, lang)
            return [error, gr.update(), error, gr.update(), error]
        return [
            documents_html(docs, lang),
            gr.update(choices=[(f"{d['title']} ({d['source']})", d["id"]) for d in docs], value=None),
            sources_html(sources, lang),
            gr.update(choices=[(s["url"], s["id"]) for s in sources], value=None),
            questions_html(gaps, lang),
        ]

    def view(self, doc_id: str | None, lang: Lang) -> str:
        lang = lang or "de"
        if not doc_id:
            return _ok(tx(lang, "choose"), lang)
        try:
            return document_html(self.editor.document(doc_id), lang)
        except LotseError as e:
            return _err(e, lang)

    def do_reindex(self, doc_id: str | None, lang: Lang) -> list[Any]:
        lang = lang or "de"
        if not doc_id:
            return [_ok(tx(lang, "choose"), lang), *self.lists(lang)]
        try:
            doc = self.editor.reindex(doc_id)["document"]
            status = _ok(tx(lang, "reindexed", title=doc["title"], chunks=doc["chunks"]), lang)
        except LotseError as e:
            status = _err(e, lang)
        return [status, *self.lists(lang)]

    def do_erase(self, doc_id: str | None, confirmed: bool, lang: Lang) -> list[Any]:
        lang = lang or "de"
        if not doc_id:
            return [_ok(tx(lang, "choose"), lang), gr.update(), False, *self.lists(lang)]
        if not confirmed:
            return [_err(LotseError(tx("de", "confirm_first"), tx("en", "confirm_first")), lang), gr.update(), False,
                    *[gr.update()] * 5]
        try:
            result = self.editor.erase(doc_id)
            if result["verified"]:
                status = _ok(tx(lang, "erased", title=result["erased"]["title"],
                                s=result["other_processes_within_s"]), lang)
            else:
                failed = ", ".join(k for k, ok in result["checks"].items() if not ok)
                status = notice_html([tx(lang, "erase_incomplete", checks=failed)], lang, error=True)
            if result.get("note"):
                status += _ok(result["note_en"] if lang == "en" else result["note"], lang)
        except LotseError as e:
            status = _err(e, lang)
        return [status, "", False, *self.lists(lang)]

    def upload(  # noqa: PLR0913 - the form's fields
        self, path: str | None, title: str, publisher: str, year: str, doc_type: str, topics: str, lang: Lang
    ) -> list[Any]:
        lang = lang or "de"
        if not path:
            return [_err(LotseError(tx("de", "no_file"), tx("en", "no_file")), lang), gr.update(), gr.update(),
                    *[gr.update()] * 5]
        file = Path(path)
        view: Any = gr.update()
        try:
            data = file.read_bytes()
            meta = {"title": title, "publisher": publisher, "year": year, "doc_type": doc_type, "topics": topics}
            # gradio keeps the name the browser sent as the file's name in its upload folder.
            status, doc = self.editor.upload(file.name, data, meta)
            message = _ok(tx(lang, "uploaded", status=tx(lang, status), title=doc["title"]), lang)
            view = document_html(self.editor.document(doc["id"]), lang)
        except LotseError as e:
            message = _err(e, lang)
        finally:
            file.unlink(missing_ok=True)  # consumed: the upload folder keeps no copy
        return [message, view, None, *self.lists(lang)]

    def do_sync(self, ref: str | None, lang: Lang) -> list[Any]:
        lang = lang or "de"
        ref = (ref or "").strip()
        if not ref:
            return [_ok(tx(lang, "choose"), lang), *self.lists(lang)]
        try:
            url = ref if "://" in ref else self.editor.source_url(ref)
            src = self.editor.sync_source(url)["source"]
            status = _ok(tx(lang, "synced", url=src["source"], fetched=src["fetched"], same=src["not_modified"],
                            gone=len(src["gone"])), lang)
        except LotseError as e:
            status = _err(e, lang)
        return [status, *self.lists(lang)]
