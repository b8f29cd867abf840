"""BM25 retrieval over chunks with the German analyzer (compound-aware), built on `bm25s`.

The index is rebuilt from the chunks (e.g. those in the vector store) when the app starts or the corpus changes;
it lives in memory. Building is two passes over the texts so that no token lists are held for the whole corpus:
the first pass counts the words (the compound splitter learns the corpus vocabulary from them), the second turns
each chunk into term ids stored as a compact ``array('i')``.
"""

from __future__ import annotations

import logging
from array import array
from collections import Counter
from collections.abc import Callable, Sequence

import bm25s
import numpy as np

from assistant.retrieval.analyzer import GermanAnalyzer
from assistant.types import Chunk, ScoredChunk

logger = logging.getLogger(__name__)


def _indexed_text(chunk: Chunk) -> str:
    """What BM25 sees of a chunk: title and section heading give context the body often omits."""
    return "\n".join(part for part in (chunk.title, chunk.section, chunk.text) if part)


def _coverage_text(chunk: Chunk) -> str:
    """What `term_coverage` checks: the passage and its heading, not the document title (shared by all chunks)."""
    return "\n".join(part for part in (chunk.section, chunk.text) if part)


class BM25Retriever:
    """Lexical retriever: BM25 (Lucene variant, k1=1.5, b=0.75) over analyzer terms.

    Build with `from_chunks`; the analyzer learns its compound vocabulary from those chunks and must then be
    used for nothing else that needs a different vocabulary.
    """

    def __init__(
        self,
        chunks: list[Chunk],
        analyzer: GermanAnalyzer,
        bm25: bm25s.BM25 | None,
        vocab: dict[str, int],
    ) -> None:
        self._chunks = chunks
        self.analyzer = analyzer
        self._bm25 = bm25
        self._vocab = vocab

    @classmethod
    def from_chunks(cls, chunks: Sequence[Chunk], analyzer: GermanAnalyzer | None = None) -> BM25Retriever:
        """Index `chunks`; an empty sequence gives a retriever that finds nothing."""
        analyzer = analyzer or GermanAnalyzer()
        chunks = list(chunks)
        if not chunks:
            return cls(chunks, analyzer, None, {})
        counts: Counter[str] = Counter()
        for chunk in chunks:
            counts.update(analyzer.words(_indexed_text(chunk)))
        analyzer.learn_vocabulary(counts)
        del counts

        vocab: dict[str, int] = {}
        corpus_ids: list[array] = []
        for chunk in chunks:
            ids = array("i")
            for term in analyzer.analyze(_indexed_text(chunk)):
                term_id = vocab.get(term)
                if term_id is None:
                    term_id = vocab[term] = len(vocab)
                ids.append(term_id)
            corpus_ids.append(ids)
        if not vocab:  # nothing but stopwords and punctuation
            return cls(chunks, analyzer, None, {})
        bm25 = bm25s.BM25()
        bm25.index((corpus_ids, vocab), show_progress=False)
        logger.info("BM25 index: %d chunks, %d terms", len(chunks), len(vocab))
        return cls(chunks, analyzer, bm25, vocab)

    def __len__(self) -> int:
        return len(self._chunks)

    def retrieve(
        self, query: str, k: int = 20, where: Callable[[Chunk], bool] | None = None
    ) -> list[ScoredChunk]:
        """The `k` best chunks for `query` (score = BM25 score, ranks from 1), only those with a positive score.

        Args:
            query: Free text; it is analysed like the documents.
            k: Maximum number of results.
            where: Optional predicate; chunks for which it is false are skipped (the search goes on until `k`
                matching chunks are found or the candidates run out).
        """
        if self._bm25 is None or k <= 0:
            return []
        term_ids = list(dict.fromkeys(self._vocab[t] for t in self.analyzer.analyze(query) if t in self._vocab))
        if not term_ids:
            return []
        scores = self._bm25.get_scores(term_ids)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size == 0:
            return []
        # Best first; ties keep index order (stable sort), so results are deterministic.
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        if where is None:
            order = order[:k]
        results: list[ScoredChunk] = []
        for idx in order:
            chunk = self._chunks[int(idx)]
            if where is not None and not where(chunk):
                continue
            results.append(ScoredChunk(chunk=chunk, score=float(scores[idx]), rank=len(results) + 1))
            if len(results) >= k:
                break
        return results

    def known_fraction(self, query: str) -> float:
        """Share of the query's content words the indexed corpus knows at all (stem, or all compound parts).

        Questions about things no document mentions ("Personalausweis", "Bamberg") score low here even when
        their other words are common, which makes this a strong out-of-scope signal.
        """
        words = list(dict.fromkeys(self.analyzer.word_stems(query)))
        if not words:
            return 0.0
        known = sum(
            1 for stem, parts in words if stem in self._vocab or (parts and all(p in self._vocab for p in parts))
        )
        return known / len(words)

    def term_coverage(self, query: str, chunk: Chunk) -> float:
        """Fraction of the query's content words that occur in `chunk` (its heading and text), from 0.0 to 1.0.

        A word counts as present when its stem occurs, or when it is a compound and all its parts occur
        ("Betreibermodell" is covered by "das Modell des Betreibers"). Stopwords do not count; a query without
        content words has coverage 0.0. The answer layer uses this to tell whether the best passage really
        answers the question.
        """
        words = list(dict.fromkeys(self.analyzer.word_stems(query)))
        if not words:
            return 0.0
        present = set(self.analyzer.analyze(_coverage_text(chunk)))
        covered = sum(
            1 for stem, parts in words if stem in present or (parts and all(p in present for p in parts))
        )
        return covered / len(words)
