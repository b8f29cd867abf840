"""The retrieval seam: what a retriever returns and the protocol the chat service depends on.

A `RetrievalResult` carries the passages *and* the evidence the answer layer needs to decide whether to answer
(dense similarity, term coverage, the query words the corpus never uses), so no caller has to reach into a
retriever's internals for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from assistant.retrieval.analyzer import GermanAnalyzer
from assistant.retrieval.filters import Filters
from assistant.types import ScoredChunk


@dataclass
class RetrievalResult:
    """Ranked passages and the evidence for how well they match.

    Attributes:
        query: The question as asked (with a follow-up's context in front).
        expanded: The question after glossary expansion (what was searched).
        hits: Passages, best first; ``score`` is the fused score.
        dense_best: Highest cosine similarity among the top hits (0..1).
        coverage_best: Highest share of the query's content terms found in one of the top hits (0..1).
        known_fraction: Share of the query's content words that occur anywhere in the corpus (0..1).
        unknown_words: The query's content words (folded: lower case, umlauts without dots) that occur nowhere
            in the corpus, neither as a word nor as all parts of a compound (for a question in another language,
            nor through their lexicon translation: "munich" is known when the documents say "München").
        confidence: Combined 0..1 measure of whether the best passages answer the question.
        reranked: True when an external reranker ordered the top passages.
        translated: For a question in another language, the German words the lexicon gave for it (searched on
            the lexical side; the answer layer matches sentences with them too); "" otherwise.
        timings: Seconds per stage, for the benchmarks and the log.
    """

    query: str
    expanded: str
    hits: list[ScoredChunk]
    dense_best: float = 0.0
    coverage_best: float = 0.0
    known_fraction: float = 1.0
    unknown_words: frozenset[str] = frozenset()
    confidence: float = 0.0
    reranked: bool = False
    translated: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def knows(self, words: list[str]) -> bool:
        """Whether the corpus knows at least one of ``words`` (folded words of the query, see `unknown_words`)."""
        return any(w not in self.unknown_words for w in words)


class Retriever(Protocol):
    """Finds the passages that answer a question.

    Attributes:
        analyzer: The text analyzer of the index (the answer layer picks sentences with the same terms).
    """

    analyzer: GermanAnalyzer

    def retrieve(
        self, query: str, k: int = 5, filters: Filters | None = None, *, context: str = ""
    ) -> RetrievalResult:
        """The ``k`` best passages for ``query`` with the evidence of how well they match.

        Args:
            query: The question.
            k: Number of passages.
            filters: Restrict to documents with these metadata values.
            context: For a follow-up, the earlier question it refers to.
        """
        ...
