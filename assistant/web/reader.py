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


def _pattern(text: str) -> re.Pattern[str] | None:
    """``text`` as a whitespace-insensitive pattern (None when it has no words)."""
    words = [re.escape(w) for w in text.split()]
    return re.compile(r"\s+".join(words)) if words else None


def _find(paragraphs: Sequence[str], quote: str) -> list[tuple[int, int, int]]:
    """Where ``quote`` stands: (paragraph index, start, end) per paragraph it covers, or [] when it is not found.

    A quote may span paragraphs: a list is quoted whole with its lead-in, and each list item of a Markdown or HTML
    document is a paragraph of its own. Its parts must then stand in consecutive paragraphs, in order.
    """
    patterns = [p for part in re.split(r"\n\s*\n", quote) if (p := _pattern(part)) is not None]
    for i in range(len(paragraphs) - len(patterns) + 1 if patterns else 0):
        found: list[tuple[int, int, int]] = []
        for j, pattern in enumerate(patterns):
            match = pattern.search(paragraphs[i + j])
            if match is None:
                break
            found.append((i + j, *match.span()))
        else:
            return found
    return []


def _mark(text: str, spans: Sequence[tuple[int, int]], first: list[bool]) -> str:
    """Escaped ``text`` with ``spans`` wrapped in ``<mark>``; the first mark of the page gets the anchor."""
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
    # (heading path, paragraph) in reading order: the quotes are looked up across the whole document
    paragraphs = [
        (tuple(block.heading_path), paragraph)
        for block in blocks
        for paragraph in block.text.split("\n\n")
        if paragraph.strip()
    ]
    texts = [p for _, p in paragraphs]
    quotes = [q for q in quotes[:MAX_QUOTES] if q and q.strip()]
    spans: dict[int, list[tuple[int, int]]] = {}
    for q in quotes:
        for index, start, end in _find(texts, q):
            spans.setdefault(index, []).append((start, end))
    first = [True]
    parts: list[str] = []
    shown: tuple[str, ...] = ()
    for index, (path, paragraph) in enumerate(paragraphs):
        if path != shown:
            common = 0
            while common < min(len(path), len(shown)) and path[common] == shown[common]:
                common += 1
            for depth, heading in enumerate(path[common:], start=common):
                level = min(depth + 2, 4)
                parts.append(f"<h{level}>{html.escape(heading)}</h{level}>")
            shown = path
        parts.append(f"<p>{_mark(paragraph, spans.get(index, []), first)}</p>")
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
