"""HTML and Markdown for the UI panels. Every piece of document, answer or user text is escaped here.

Why escape ourselves: gradio's HTML component sets ``innerHTML`` without sanitising, and the chatbot's
sanitiser still lets Markdown images and links through. Ingested documents and model output are untrusted,
so they only ever reach the page as text.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from assistant.citations import CitedDocument, group_by_document
from assistant.types import Citation
from assistant.web.ui.conversation import Turn
from assistant.web.ui.texts import RATING_LABELS, Lang, mode_label, t

_MD_SPECIAL = re.compile(r"([\\`])")
#: What turns text into a link or an image: "![", and "]" followed by "(", "[" or ":" (inline, reference and
#: definition forms). Escaping only these keeps citation markers "[1]" free of backslashes (screen readers
#: read the chatbot's aria-label, which carries the raw text).
_LINKISH = re.compile(r"!\[|\](?=[(\[:])")
_HEADING = re.compile(r"^([ \t]*)(#|[=-]{2,}[ \t]*$)", re.MULTILINE)


def md_safe(text: str) -> str:
    """Text for the Markdown chatbot that renders literally: no HTML, no links or images, no code spans.

    ``<``/``&`` become entities (so tags show as text); link and image syntax is backslash-escaped, so neither
    ``[x](javascript:…)`` nor ``![](http://…)`` forms a link or an image; headings are defused. Emphasis and
    lists stay, they are harmless.
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    escaped = _LINKISH.sub(lambda m: "!\\[" if m.group(0) == "![" else "\\]", escaped)
    # "# …" and "===" / "---" underlines would make headings inside the chat and break the heading order.
    return _HEADING.sub(r"\1\\\2", escaped)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def safe_href(url: str) -> str | None:
    """Only same-site paths and http(s) URLs may become links (never ``javascript:``, ``data:`` …)."""
    url = url.strip()
    if url.startswith("/") and not url.startswith("//"):
        return url
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    return None


def format_time(iso: str | None, lang: Lang) -> str:
    if not iso:
        return "–"
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    suffix = " UTC" if when.tzinfo is not None else ""
    if lang == "en":
        return when.strftime("%Y-%m-%d %H:%M") + suffix
    return when.strftime("%d.%m.%Y, %H:%M Uhr") + suffix


# --- header -----------------------------------------------------------------------------------------------
def header_html(lang: Lang, mode: str, index: dict[str, Any]) -> str:
    """Title, tagline and the visible state: answer mode, indexed documents, last update."""
    parts = [f"{esc(t(lang, 'mode_lead'))}: <strong>{esc(mode_label(mode, lang))}</strong>"]
    if index.get("error"):
        parts.append(esc(t(lang, "err_index", msg=index["error"])))
    elif not index.get("documents"):
        parts.append(esc(t(lang, "index_empty")))
    else:
        n = index["documents"]
        parts.append(esc(t(lang, "index_doc_one") if n == 1 else t(lang, "index_docs", n=n)))
        parts.append(esc(t(lang, "index_updated", when=format_time(index.get("last_ingest"), lang))))
    state = " · ".join(f"<span>{p}</span>" for p in parts)
    return (
        f'<header class="lotse-header"><h1>{esc(t(lang, "title"))}</h1>'
        f'<p class="lotse-tagline">{esc(t(lang, "tagline"))}</p>'
        f'<p class="lotse-state" id="lotse-state">{state}</p></header>'
    )


# --- notices and errors -----------------------------------------------------------------------------------
def notice_html(messages: list[str], lang: Lang, *, error: bool = False) -> str:
    if not messages:
        return '<div class="lotse-notice-empty"></div>'
    role = "alert" if error else "status"
    cls = "lotse-error" if error else "lotse-notice"
    items = "".join(f"<p>{esc(m)}</p>" for m in messages)
    label = "" if error else f"<strong>{esc(t(lang, 'notice'))}:</strong> "
    return f'<div class="{cls}" role="{role}">{label}{items}</div>'


# --- sources panel ----------------------------------------------------------------------------------------
def sources_html(turn: Turn | None, lang: Lang, number: int = 0) -> str:
    """The sources panel for one answer: a card per cited document (title, publisher, year) with each of its
    quotes under its own ``[n]``, page, section and link; the document of ``[1]`` first."""
    head = f'<h2 id="lotse-sources-h">{esc(t(lang, "sources"))}</h2>'
    if turn is None:
        body = f'<p class="lotse-muted">{esc(t(lang, "sources_empty"))}</p>'
        return f'<section class="lotse-sources" aria-labelledby="lotse-sources-h">{head}{body}</section>'
    mode = mode_label(turn.mode, lang)
    meta = [esc(t(lang, "answer_n", n=number)) if number else "", f"{esc(t(lang, 'mode_lead'))}: {esc(mode)}"]
    if turn.fallback:
        meta.append(esc(t(lang, "fallback")))
    if turn.abstained:
        meta.append(esc(t(lang, "abstained")))
    if turn.filters:
        meta.append(f"{esc(t(lang, 'filters_active'))}: {esc(', '.join(turn.filters))}")
    info = f'<p class="lotse-answer-meta" data-mode="{esc(turn.mode)}">{" · ".join(m for m in meta if m)}</p>'
    if not turn.citations:
        items = f'<p class="lotse-muted">{esc(t(lang, "sources_none"))}</p>'
    else:
        cards = group_by_document(turn.citations)
        first, rest = cards[:1], cards[1:]
        items = '<ol class="lotse-source-list">' + "".join(_source_card(d, lang) for d in first) + "</ol>"
        if rest:  # the answer's own source first; the supporting ones one click away
            count = sum(len(d.citations) for d in rest)  # quotes, as before: each one is a piece of evidence
            items += (
                f'<details class="lotse-more"><summary>{esc(MORE_EVIDENCE.get(lang, MORE_EVIDENCE["de"]))} ({count})</summary>'
                f'<ol class="lotse-source-list" start="2">{"".join(_source_card(d, lang) for d in rest)}</ol>'
                "</details>"
            )
    return f'<section class="lotse-sources" aria-labelledby="lotse-sources-h">{head}{info}{items}</section>'


#: Label of the supporting sources behind a disclosure (kept here: the texts module is being changed elsewhere).
MORE_EVIDENCE = {"de": "Weitere Belege", "en": "Further evidence"}


def _marked_quote(c: Citation) -> str:
    """The quote, escaped, with the span that answers the question in ``<mark>`` (the text itself unchanged)."""
    span = c.answer_span
    if not span or not 0 <= span[0] < span[1] <= len(c.quote):
        return esc(c.quote)
    a, b = span
    return f'{esc(c.quote[:a])}<mark class="lotse-answer-span">{esc(c.quote[a:b])}</mark>{esc(c.quote[b:])}'


def _source_card(doc: CitedDocument, lang: Lang) -> str:
    """One document: its title, publisher and year once, then every quote the answer takes from it."""
    c = doc.first
    meta = [esc(p) for p in (c.publisher, str(c.year) if c.year else "") if p]
    quotes = "".join(_quote_item(q, lang) for q in doc.citations)
    return (
        f'<li class="lotse-source" data-ns="{" ".join(str(n) for n in doc.numbers)}" data-source="{esc(c.source)}">'
        f'<h3><span class="lotse-n">{esc(doc.label())}</span> {esc(c.title)}</h3>'
        + (f'<p class="lotse-meta">{" · ".join(meta)}</p>' if meta else "")
        + f'<ul class="lotse-quotes">{quotes}</ul><p class="lotse-file">{esc(c.source)}</p></li>'
    )


def _quote_item(c: Citation, lang: Lang) -> str:
    """One citation inside its document's card: ``[n]``, page, section, the marked quote, its own link."""
    where: list[str] = []
    if c.page:
        where.append(f"{esc(t(lang, 'page'))} {c.page}")
    if c.section:
        where.append(f"{esc(t(lang, 'section'))} „{esc(c.section)}“")
    link = ""
    href = safe_href(c.url)
    if href:
        label = (
            t(lang, "open_doc_page", title=c.title, page=c.page)
            if c.page
            else t(lang, "open_doc", title=c.title)
        )
        link = (
            f'<p><a class="lotse-doc-link" href="{esc(href)}" target="_blank" rel="noopener noreferrer">'
            f'{esc(label)} <span class="lotse-muted">{esc(t(lang, "new_tab"))}</span></a></p>'
        )
    return (
        f'<li class="lotse-quote" data-n="{c.n}"><p class="lotse-quote-meta"><span class="lotse-n">[{c.n}]</span> '
        f'{" · ".join(where)}</p>'
        f"<blockquote>„{_marked_quote(c)}“</blockquote>{link}</li>"
    )


# --- editors' view ----------------------------------------------------------------------------------------
def feedback_table_html(items: list[dict[str, Any]], counts: dict[str, int], lang: Lang, days: int) -> str:
    summary = "".join(
        f"<li><strong>{esc(t(lang, RATING_LABELS[r]))}:</strong> <span data-rating='{esc(r)}'>{n}</span></li>"
        for r, n in counts.items()
        if r in RATING_LABELS
    )
    out = [
        f'<section class="lotse-editor" aria-labelledby="lotse-ed-h"><h2 id="lotse-ed-h">{esc(t(lang, "ed_heading"))}</h2>',
        f'<p class="lotse-muted">{esc(t(lang, "ed_privacy", days=days))}</p>',
        f"<h3>{esc(t(lang, 'ed_counts'))}</h3><ul class='lotse-counts'>{summary}</ul>",
        f"<h3>{esc(t(lang, 'ed_recent'))}</h3>",
    ]
    if not items:
        out.append(f'<p class="lotse-muted">{esc(t(lang, "ed_none"))}</p></section>')
        return "".join(out)
    cols = ("ed_when", "ed_rating", "ed_question", "ed_comment", "ed_sources", "ed_mode")
    head = "".join(f'<th scope="col">{esc(t(lang, c))}</th>' for c in cols)
    rows = []
    for item in items:
        rating = str(item.get("rating", ""))
        sources = item.get("sources") or []
        cells = (
            format_time(item.get("created_at"), lang),
            t(lang, RATING_LABELS[rating]) if rating in RATING_LABELS else rating,
            item.get("question", ""),
            item.get("comment", ""),
            "; ".join(str(s) for s in sources) if isinstance(sources, list) else str(sources),
            mode_label(str(item.get("mode")), lang) if item.get("mode") else "",
        )
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    out.append(
        f'<div class="lotse-table-wrap"><table class="lotse-feedback"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )
    return "".join(out)
