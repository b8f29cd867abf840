"""Building blocks for a funding application or council paper: verbatim, cited statements on a topic, and a
bibliography in one citation style.

Citation style (German author-date, as common in municipal papers):
``Herausgeber (Jahr): Titel. S. x–y.`` for paged documents, ``Herausgeber (Jahr): Titel. Abschnitt „…“.`` for
documents without pages; "o. V." when no publisher is known, "o. J." when no year is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.check.criteria import CheckConfig
from assistant.check.guidance import cached_hits, pick_statements
from assistant.check.texts import tr
from assistant.citations import make_citation
from assistant.retrieval.hybrid import HybridRetriever
from assistant.types import Citation

MAX_STATEMENTS = 5
BLOCK_K = 8


@dataclass(frozen=True)
class Statement:
    """A verbatim sentence from the corpus and the number of its citation."""

    text: str
    n: int


@dataclass
class BuildingBlock:
    topic: str
    factor: str | None
    statements: list[Statement]
    citations: list[Citation]

    def to_contract(self, lang: str = "de") -> dict[str, Any]:
        return {
            "topic": self.topic,
            "factor": self.factor,
            "statements": [{"text": s.text, "n": s.n} for s in self.statements],
            "citations": [c.to_contract() for c in self.citations],
            "bibliography": [e.text_in(lang) for e in bibliography(self.citations)],
        }

    def as_text(self, lang: str = "de") -> str:
        """The block as it would be pasted into an application: statements with [n], then the sources."""
        lines = [f"„{s.text}“ [{s.n}]" for s in self.statements]
        lines.append("")
        lines.extend(f"[{c.n}] {short_reference(c, lang)}" for c in self.citations)
        return "\n".join(lines)


def build_block(
    retriever: HybridRetriever,
    topic: str,
    *,
    config: CheckConfig | None = None,
    base_url: str = "",
    max_statements: int = MAX_STATEMENTS,
) -> BuildingBlock:
    """Cited statements on ``topic``. A topic named in the criteria file (e.g. "Anschlussfinanzierung",
    "Betreibermodell", "Wirkungsindikatoren") uses its configured query and factor filter; any other topic is
    searched as written across the whole index."""
    known = config.topics().get(topic.strip().casefold()) if config else None
    query = known.topic_query if known else topic.strip()
    factor = known.factor if known else None
    hits = cached_hits(retriever, query, factor, BLOCK_K)
    picks = pick_statements(query, hits, retriever.analyzer, max_statements)
    picks.sort(key=lambda p: (p[0], hits[p[0]].chunk.text.find(p[1])))  # by passage, then reading order
    order: list[int] = []
    statements: list[Statement] = []
    for hit_index, text, _ in picks:
        if hit_index not in order:
            order.append(hit_index)
        statements.append(Statement(text, order.index(hit_index) + 1))
    citations = []
    for n, i in enumerate(order, start=1):
        chunk = hits[i].chunk
        spans = sorted((chunk.text.find(text), text) for hi, text, _ in picks if hi == i)
        start, end = spans[0][0], spans[-1][0] + len(spans[-1][1])
        # One verbatim quote per source: the chosen sentences and what lies between them, if short.
        quote = chunk.text[start:end] if end - start <= 600 else spans[0][1]
        citations.append(make_citation(n, hits[i], quote, base_url))
    return BuildingBlock(known.topic if known else topic.strip(), factor, statements, citations)


# --- bibliography ------------------------------------------------------------------------------------------


@dataclass
class BibEntry:
    """One source document with every page (or section) cited from it."""

    title: str
    publisher: str
    year: int | None
    source: str
    url: str
    pages: list[int] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.text_in("de")

    def text_in(self, lang: str) -> str:
        """The entry in the bibliography style of ``lang`` ("o. V."/"n.p.", "o. J."/"n.d.", "S."/"p.")."""
        who, when = _who_when(self.publisher, self.year, lang)
        where = format_pages(self.pages, lang)
        if not where and self.sections:
            names = ", ".join(f"„{s}“" for s in self.sections)
            if lang == "en":
                where = ("section " if len(self.sections) == 1 else "sections ") + names
            else:
                where = ("Abschnitt " if len(self.sections) == 1 else "Abschnitte ") + names
        return f"{who} ({when}): {self.title}." + (f" {where}." if where else "")

    def to_contract(self, lang: str = "de") -> dict[str, Any]:
        return {
            "text": self.text_in(lang),
            "title": self.title,
            "publisher": self.publisher,
            "year": self.year,
            "pages": self.pages,
            "sections": self.sections,
            "source": self.source,
            "url": self.url.split("#", 1)[0],
        }


def format_pages(pages: Iterable[int], lang: str = "de") -> str:
    """``[3, 4, 5, 8]`` → ``S. 3–5, 8`` (English: ``pp. 3–5, 8``); empty string when there are no pages."""
    nums = sorted(set(pages))
    if not nums:
        return ""
    ranges: list[str] = []
    start = prev = nums[0]
    for p in nums[1:] + [None]:  # type: ignore[list-item]
        if p is not None and p == prev + 1:
            prev = p
            continue
        ranges.append(str(start) if start == prev else f"{start}–{prev}")
        if p is not None:
            start = prev = p
    if lang == "en":
        return ("p. " if len(nums) == 1 else "pp. ") + ", ".join(ranges)
    return "S. " + ", ".join(ranges)


def bibliography(citations: Iterable[Citation]) -> list[BibEntry]:
    """One entry per cited document, sorted by publisher, year and title."""
    entries: dict[str, BibEntry] = {}
    for c in citations:
        key = c.doc_id or c.source
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = BibEntry(c.title, c.publisher, c.year, c.source, c.url)
        if c.page is not None and c.page not in entry.pages:
            entry.pages.append(c.page)
        elif c.page is None and c.section and c.section not in entry.sections:
            entry.sections.append(c.section)
    for entry in entries.values():
        entry.pages.sort()
    return sorted(entries.values(), key=lambda e: (e.publisher.casefold(), e.year or 0, e.title.casefold()))


def short_reference(c: Citation, lang: str = "de") -> str:
    """A citation in the bibliography style (of ``lang``), narrowed to its page or section."""
    who, when = _who_when(c.publisher, c.year, lang)
    section = f"{'section' if lang == 'en' else 'Abschnitt'} „{c.section}“"
    where = tr(lang, "page", page=c.page) if c.page else (section if c.section else "")
    return f"{who} ({when}): {c.title}." + (f" {where}." if where else "")


def _who_when(publisher: str, year: int | None, lang: str) -> tuple[str, str]:
    """Publisher and year of a reference, "o. V." / "o. J." (English "n.p." / "n.d.") when unknown."""
    return publisher or tr(lang, "no_publisher"), str(year) if year else tr(lang, "no_year")
