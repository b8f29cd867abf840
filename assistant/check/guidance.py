"""Guidance for the check from the index: the best verbatim statement per gap, numbered citations.

Per gap one retrieval restricted to the factor (``Filters(factors=...)``), one verbatim sentence picked like an
extractive answer among full statements (not headings or notes about the document itself), cited with
``make_citation`` (which refuses a quote that is not in the chunk). Hits are cached per index state, since the
queries come from the criteria file and repeat across checks.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import replace

from assistant.citations import best_quote, make_citation
from assistant.extractive import select_sentences
from assistant.retrieval.analyzer import GermanAnalyzer
from assistant.retrieval.filters import Filters
from assistant.retrieval.hybrid import HybridRetriever
from assistant.text import split_sentences
from assistant.types import Citation, ScoredChunk

GUIDANCE_K = 5


class CitationBook:
    """Numbers verified citations 1..n in order of first use; the same passage and quote keep their number."""

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url
        self.citations: list[Citation] = []
        self.hits: list[ScoredChunk] = []
        self._numbers: dict[tuple[str, str], int] = {}

    def cite(self, hit: ScoredChunk, quote: str) -> int:
        key = (hit.chunk.id, quote)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self.citations.append(make_citation(n, hit, quote, self.base_url))
            self.hits.append(hit)
            self._numbers[key] = n
        return self._numbers[key]


_CHECKBOX = re.compile(r"^\[[ xX]?\]\s+")


#: "Dieser Leitfaden zeigt …" speaks about its own document; quoted in an application it would seem to speak
#: about the application.
_SELF_REFERENCE = re.compile(
    r"^(?:\[[ xX]?\]\s+)?(?:Diese[rs]?|(?:Der|Die|Das) vorliegende)\s+(?:Leitfaden|Studie|Papier|Dokument|"
    r"Checkliste|Kapitel|Abschnitt|Handreichung|Broschüre|Beitrag|Artikel|Glossar|Bericht|Text)\b"
)


def is_statement(text: str) -> bool:
    """A quotable statement: a full sentence, not a heading, subtitle, list lead-in or a note about its own
    document."""
    t = text.strip()
    return len(t.split()) >= 6 and t[-1] in '.!“"' and "?" not in t[-3:] and not _SELF_REFERENCE.match(t)


def quotable(text: str) -> str:
    """The sentence without a checklist box ("[ ] ..."): still a verbatim substring of its passage."""
    return _CHECKBOX.sub("", text.strip())


def _statements_only(hit: ScoredChunk) -> ScoredChunk:
    """The passage reduced to its full statements, each still a verbatim part of the original passage."""
    kept = [s.text for s in split_sentences(hit.chunk.text) if is_statement(s.text)]
    return replace(hit, chunk=replace(hit.chunk, text="\n\n".join(kept)))


def pick_statements(
    query: str, hits: list[ScoredChunk], analyzer: GermanAnalyzer, limit: int
) -> list[tuple[int, str, float]]:
    """Up to ``limit`` (hit index, verbatim sentence, score), best first, full statements preferred.

    Titles and subtitles repeat a topic's words ("Leitfaden zur Anschlussfinanzierung: Haushalt, Förderprogramme
    …") and outscore the sentences that say something about it, which then fall below the selection's relative
    cut-off. Neither helps in an application, so the choice is made among full statements first; only passages
    without any statement fall back to all their sentences.
    """
    trimmed = [_statements_only(h) for h in hits]
    picks = [
        p
        for p in select_sentences(query, trimmed, analyzer, max_sentences=max(4, limit + 2))
        if p.sentence.text in hits[p.hit_index].chunk.text
    ]
    if not picks:
        picks = select_sentences(query, hits, analyzer, max_sentences=max(4, limit + 2))
    ranked = sorted(picks, key=lambda p: (not is_statement(p.sentence.text), -p.score))
    return [(p.hit_index, quotable(p.sentence.text), p.score) for p in ranked[:limit]]


class RetrievalCache:
    """Guidance queries come from the criteria file, so they repeat across checks: cache their hits per index
    state (the retriever's snapshot fingerprint changes with every ingest or removal)."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str, int], list[ScoredChunk]] = {}

    def hits(self, retriever: HybridRetriever, query: str, factor: str | None, k: int) -> list[ScoredChunk]:
        key = (retriever.snapshot().fingerprint, query, factor or "", k)
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None:
            return cached
        filters = Filters(factors=(factor,)) if factor else None
        hits = retriever.retrieve(query, k=k, filters=filters).hits
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = hits
        return hits


_caches: weakref.WeakKeyDictionary[HybridRetriever, RetrievalCache] = weakref.WeakKeyDictionary()


def cached_hits(retriever: HybridRetriever, query: str, factor: str | None, k: int) -> list[ScoredChunk]:
    cache = _caches.get(retriever)
    if cache is None:
        cache = _caches.setdefault(retriever, RetrievalCache())
    return cache.hits(retriever, query, factor, k)


def guidance_passage(
    retriever: HybridRetriever, query: str, factor: str | None, k: int = GUIDANCE_K
) -> tuple[ScoredChunk, str] | None:
    """The best verbatim statement for ``query`` among the factor's passages, with its passage."""
    hits = cached_hits(retriever, query, factor, k)
    if not hits:
        return None
    picks = pick_statements(query, hits, retriever.analyzer, 1)
    if picks:
        return hits[picks[0][0]], picks[0][1]
    return hits[0], best_quote(hits[0].chunk, query)


def cite_marker(n: int | None) -> str:
    return f" [{n}]" if n else " (ohne Beleg in der Wissensbasis)"
