"""A readable view of a non-PDF document that scrolls to the cited passage and marks it.

A PDF citation opens the PDF at its page. Markdown and HTML sources used to open as raw text at the top (YAML
front matter, cookie-banner markup) with no way to find the quote. This view shows the cleaned text the index
was built from, with its headings, escapes every character of it (document text is never markup here), wraps
each cited quote in ``<mark>`` and lets the browser scroll to the first one (``#zitat``). No script, no external
asset; the response forbids both (``Content-Security-Policy``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.types import Block

#: The view's own style: readable line length, the chat's colours, a clearly visible mark.
_CSS = """
body { font-family: system-ui, sans-serif; line-height: 1.55; margin: 0; color: #1f2937; background: #fff; }
main { max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem 4rem; }
header p { color: #4b5563; font-size: .95rem; margin: .2rem 0; }
h1 { font-size: 1.6rem; margin: 0 0 .4rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
h3, h4 { font-size: 1.05rem; margin-top: 1.4rem; }
p { white-space: pre-wrap; margin: .6rem 0; }
mark { background: #fde68a; color: #1f2937; padding: 0 .1rem; outline: 2px solid #b45309; }
a { color: #1d4ed8; }
.lotse-reader-note { border: 1px solid #c79100; background: #fff8e1; border-radius: 8px; padding: .5rem .8rem; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: At most this many quotes are marked (a link carries one per citation of the same document).
MAX_QUOTES = 8


def _squash(text: str) -> str:
    return " ".join(text.split())


def _mark(text: str, quotes: Sequence[str], first: list[bool]) -> str:
    """Escaped ``text`` with every quote that occurs in it wrapped in ``<mark>`` (whitespace-insensitive)."""
    spans: list[tuple[int, int]] = []
    for q in quotes:
        words = [re.escape(w) for w in q.split()]
        if not words:
            continue
        match = re.search(r"\s+".join(words), text)
        if match:
            spans.append(match.span())
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue  # overlapping quotes: the first one is marked
        out.append(html.escape(text[pos:start]))
        anchor = ' id="zitat"' if first[0] else ""
        first[0] = False
        out.append(f"<mark{anchor}>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def render_document(
    title: str, source: str, original_url: str, blocks: Sequence[Block], quotes: Sequence[str], lang: str = "de"
) -> str:
    """The whole page: header with title, source and a link to the original file, then headings and paragraphs."""
    en = lang == "en"
    quotes = [_squash(q) for q in quotes[:MAX_QUOTES] if q and q.strip()]
    first = [True]
    parts: list[str] = []
    shown: tuple[str, ...] = ()
    for block in blocks:
        path = tuple(block.heading_path)
        if path != shown:
            common = 0
            while common < min(len(path), len(shown)) and path[common] == shown[common]:
                common += 1
            for depth, heading in enumerate(path[common:], start=common):
                level = min(depth + 2, 4)
                parts.append(f"<h{level}>{html.escape(heading)}</h{level}>")
            shown = path
        for paragraph in block.text.split("\n\n"):
            if paragraph.strip():
                parts.append(f"<p>{_mark(paragraph, quotes, first)}</p>")
    if quotes and first[0]:
        note = ("The quoted passage was not found in this version of the document (it may have changed since)."
                if en else "Die zitierte Stelle steht nicht (mehr) in dieser Fassung des Dokuments.")
        parts.insert(0, f'<p class="lotse-reader-note" id="zitat">{html.escape(note)}</p>')
    lead = "Original file" if en else "Originaldatei"
    view = "Reading view of the indexed text" if en else "Leseansicht des indexierten Textes"
    return (
        f'<!doctype html><html lang="{"en" if en else "de"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(view)} · {html.escape(source)}</p>"
        f'<p><a href="{html.escape(original_url)}" rel="noopener">{html.escape(lead)}</a></p></header>'
        + "".join(parts)
        + "</main></body></html>"
    )
