"""Plain data types shared by ingest, retrieval, answering and the front ends.

They carry no behaviour beyond small conveniences, so every layer can build and test them
without a store, a model or a web framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: The five success factors of the MPSC accompanying research, as used in tags, filters and `lotse check`.
FACTORS: tuple[str, ...] = (
    "kommunikation",
    "wirkung",
    "anschlussfaehigkeit",
    "zustaendigkeiten",
    "finanzierung",
)

FACTOR_LABELS: dict[str, str] = {
    "kommunikation": "Klare Kommunikation",
    "wirkung": "Wirkungsnachweis",
    "anschlussfaehigkeit": "Technische Anschlussfähigkeit",
    "zustaendigkeiten": "Feste Zuständigkeiten",
    "finanzierung": "Gesicherte Finanzierung",
}


@dataclass(frozen=True)
class Block:
    """A piece of cleaned document text in reading order.

    Loaders emit blocks; the chunker groups them into chunks. A block never spans two pages.

    Attributes:
        text: Cleaned text (NFC, whitespace normalised, hyphenation joined). Paragraphs separated by "\\n\\n".
        page: 1-based page number for paged formats (PDF), None otherwise.
        heading_path: Enclosing headings from the outermost to the innermost, e.g.
            ("2 Finanzierung", "2.1 Betreibermodelle"). Empty when the text precedes any heading.
    """

    text: str
    page: int | None = None
    heading_path: tuple[str, ...] = ()


@dataclass
class LoadedDocument:
    """What a loader extracted from one file.

    Attributes:
        blocks: Text blocks in reading order.
        title: Best title found in the file itself (front matter, <title>/<h1>, PDF metadata, first heading).
        metadata: Further metadata found in the file (front matter keys, PDF info); plain strings/numbers/lists,
            never markup.
        page_count: Number of pages for paged formats.
        warnings: Human-readable notes on problems that did not stop extraction.
        account: Where the extracted words went (an `ingest.account.DocumentAccount`), None when not kept.
    """

    blocks: list[Block]
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    page_count: int | None = None
    warnings: list[str] = field(default_factory=list)
    account: Any = None

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit of a document, as stored in the vector store.

    `id` is deterministic: the same file content always yields the same ids.
    """

    id: str
    doc_id: str
    version: str
    text: str
    source: str
    title: str
    page: int | None
    section: str
    chunk_index: int
    char_start: int
    char_end: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def contextual_text(self) -> str:
        """Text used for embedding and lexical indexing: title and section give the passage its context
        (a paragraph under "3.2 Zweckverband" rarely repeats the word), the stored text stays verbatim."""
        head = " – ".join(p for p in (self.title, self.section) if p)
        return f"{head}\n{self.text}" if head else self.text


@dataclass(frozen=True)
class ScoredChunk:
    """A chunk with the score a retriever gave it (higher is better) and its rank (1-based)."""

    chunk: Chunk
    score: float
    rank: int = 0


@dataclass(frozen=True)
class Citation:
    """A verified reference from an answer to a passage of an indexed document."""

    n: int
    source: str
    title: str
    page: int | None
    section: str
    quote: str
    publisher: str = ""
    year: int | None = None
    url: str = ""
    doc_id: str = ""
    #: ``(start, end)`` offsets inside ``quote`` of the span that answers the question (an amount, a date, the
    #: answer sentence); set on the first citation of an extractive answer, None elsewhere.
    answer_span: tuple[int, int] | None = None

    def to_contract(self) -> dict[str, Any]:
        """The JSON shape promised in the interface contract (extra keys are allowed by it)."""
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "page": self.page,
            "section": self.section,
            "quote": self.quote,
            "publisher": self.publisher,
            "year": self.year,
            "url": self.url,
            "answer_span": list(self.answer_span) if self.answer_span else None,
        }


AnswerMode = Literal["llm", "extractive"]
