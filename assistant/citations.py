"""Citations: parse ``[n]`` from answers, drop numbers that name no source, verify quotes, build links.

A citation is only ever built from a chunk that was actually given to the answer layer, and its quote is a
verbatim substring of that chunk's text (which itself is verbatim cleaned document text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from assistant.text import split_sentences
from assistant.types import Chunk, Citation, ScoredChunk

_REF = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")


def cited_numbers(text: str) -> list[int]:
    """Citation numbers in order of first appearance; ``[1, 3]`` counts as 1 and 3."""
    seen: list[int] = []
    for m in _REF.finditer(text):
        for part in re.split(r"[,;]", m.group(1)):
            n = int(part)
            if n not in seen:
                seen.append(n)
    return seen


@dataclass
class CheckedAnswer:
    text: str
    numbers: list[int]  # valid source numbers, renumbered order
    invalid: list[int] = field(default_factory=list)


def check_citations(text: str, n_sources: int) -> CheckedAnswer:
    """Remove references to sources that do not exist and renumber the rest 1..m by first appearance."""
    found = cited_numbers(text)
    invalid = [n for n in found if not 1 <= n <= n_sources]
    valid = [n for n in found if 1 <= n <= n_sources]
    mapping = {old: new for new, old in enumerate(valid, start=1)}

    def replace(m: re.Match[str]) -> str:
        nums = [int(p) for p in re.split(r"[,;]", m.group(1))]
        kept = [mapping[n] for n in nums if n in mapping]
        return "".join(f"[{n}]" for n in kept)

    cleaned = _REF.sub(replace, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    return CheckedAnswer(cleaned, valid, invalid)


#: Sources that open in the reading view (``/documents/{id}/ansicht``) instead of as raw files.
VIEW_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")


def view_url(base_url: str, doc_id: str, quotes: Sequence[str]) -> str:
    """The reading view of a non-PDF document that marks ``quotes`` and scrolls to the first (``#zitat``)."""
    query = urlencode([("zitat", q[:400]) for q in quotes[:8]])
    return f"{base_url.rstrip('/')}/documents/{quote(doc_id)}/ansicht" + (f"?{query}" if query else "") + "#zitat"


def document_url(chunk: Chunk, base_url: str = "", quote_text: str = "") -> str:
    """Link that opens the served document copy at the cited page (``#page=N`` for PDFs); a document from a
    web source links to its URL (the page as it is now, on its own site)."""
    if chunk.source.startswith(("https://", "http://")):
        url = chunk.source
    elif chunk.source.lower().endswith(VIEW_SUFFIXES):
        return view_url(base_url, chunk.doc_id, [quote_text] if quote_text else [])
    else:
        url = f"{base_url.rstrip('/')}/documents/{quote(chunk.doc_id)}"
    if chunk.page:
        url += f"#page={chunk.page}"
    return url


def best_quote(chunk: Chunk, reference_text: str, max_chars: int = 320) -> str:
    """The sentence of ``chunk`` that best matches ``reference_text`` (word overlap), verbatim."""
    sentences = [s.text for s in split_sentences(chunk.text)] or [chunk.text]
    ref = _words(reference_text)

    def score(sentence: str) -> float:
        words = _words(sentence)
        return len(words & ref) / (1 + len(words) ** 0.5)

    best = max(sentences, key=score)
    if len(best) > max_chars:
        cut = best[:max_chars]
        best = cut[: cut.rfind(" ")] if " " in cut else cut
    return best


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w{4,}", text.lower())}


def verify_quote(quote_text: str, chunk: Chunk) -> bool:
    return bool(quote_text) and quote_text in chunk.text


def make_citation(
    n: int, hit: ScoredChunk, quote_text: str, base_url: str = "", answer_span: tuple[int, int] | None = None
) -> Citation:
    c = hit.chunk
    if not verify_quote(quote_text, c):  # never show a quote that is not in the document
        raise ValueError(f"quote not found in chunk {c.id}")
    if answer_span is not None and not 0 <= answer_span[0] < answer_span[1] <= len(quote_text):
        raise ValueError(f"answer span {answer_span} outside the quote of chunk {c.id}")
    year = c.metadata.get("year")
    return Citation(
        n=n,
        source=c.source,
        title=c.title,
        page=c.page,
        section=c.section,
        quote=quote_text,
        publisher=str(c.metadata.get("publisher", "")),
        year=int(year) if isinstance(year, int) and year > 0 else None,
        url=document_url(c, base_url, quote_text),
        doc_id=c.doc_id,
        answer_span=answer_span,
    )


def citations_for(
    hits: Sequence[ScoredChunk], numbers: Sequence[int], answer_text: str, base_url: str = ""
) -> list[Citation]:
    """Citations for the given 1-based source numbers, renumbered 1..m, each with its best verbatim quote."""
    out: list[Citation] = []
    for new_n, old_n in enumerate(numbers, start=1):
        hit = hits[old_n - 1]
        sentences_citing = (
            " ".join(s.text for s in split_sentences(answer_text) if f"[{new_n}]" in s.text) or answer_text
        )
        out.append(make_citation(new_n, hit, best_quote(hit.chunk, sentences_citing), base_url))
    return out


@dataclass(frozen=True)
class CitedDocument:
    """One document an answer cites, with all its citations (each keeps its own ``[n]``, page and link).

    The channels that show sources (sources panel, widget, exports, CLI) show one card per document, so a
    document cited twice is read once with both quotes; the JSON contract keeps the flat citation list.
    """

    citations: tuple[Citation, ...]

    @property
    def first(self) -> Citation:
        """The citation whose title, publisher and year stand for the document."""
        return self.citations[0]

    @property
    def numbers(self) -> list[int]:
        return [c.n for c in self.citations]

    def label(self) -> str:
        """The card's reference, ``[1]`` or ``[1, 3]``: the numbers of the answer text."""
        return "[" + ", ".join(str(n) for n in self.numbers) + "]"


def group_by_document(citations: Sequence[Citation]) -> list[CitedDocument]:
    """Citations grouped per document, in order of each document's first citation (the one of ``[1]`` first).

    A document is its ``source`` (the file path or URL, one per indexed document; ``doc_id`` is not in the JSON
    contract, so the widget could not group by it). Within a document the citations keep the answer's order.
    """
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.source, []).append(c)
    return [CitedDocument(tuple(group)) for group in groups.values()]


#: Words of the plain-text source lists (CLI answer, the text an OpenAI-compatible client shows).
_TEXT_WORDS = {
    "de": {"sources": "Quellen:", "page": "S.", "section": "Abschnitt"},
    "en": {"sources": "Sources:", "page": "p.", "section": "section"},
}


def sources_text(citations: Sequence[Citation], lang: str = "de", *, quotes: bool = True) -> list[str]:
    """Plain-text source list, one entry per document: ``[1, 3] Title (Publisher, 2024) – file``, then each
    citation with its ``[n]``, page, section and (with ``quotes``) its quote. Empty without citations."""
    if not citations:
        return []
    words = _TEXT_WORDS["en" if lang == "en" else "de"]
    out = [words["sources"]]
    for doc in group_by_document(citations):
        c = doc.first
        meta = ", ".join(p for p in (c.publisher, str(c.year) if c.year else "") if p)
        out.append(f"{doc.label()} {c.title}{f' ({meta})' if meta else ''} – {c.source}")
        for cited in doc.citations:
            where = [f"{words['page']} {cited.page}"] if cited.page else []
            if cited.section:
                where.append(f"{words['section']} „{cited.section}“")
            if where or quotes:  # a bare "[n]" line would say nothing the entry does not
                out.append(f"    [{cited.n}]" + (f" {', '.join(where)}" if where else ""))
            if quotes:
                out.append(f"        „{cited.quote}“")
    return out
