"""BM25 retrieval over chunks with the German analyzer (compound-aware), built on `bm25s`.

The index is rebuilt from the chunks (e.g. those in the vector store) when the app starts or the corpus changes;
it lives in memory. Building tokenises each chunk once into ids of distinct raw tokens (compact ``array('i')``,
no per-token strings are kept), counts the words so the compound splitter learns the corpus vocabulary, then
analyses each distinct token once and maps every chunk to term ids for bm25s.
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

# bm25s sets its own logger to DEBUG on import and prints "Building index from IDs" on every build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

logger = logging.getLogger(__name__)

#: Weight of glossary expansion terms relative to the user's own words. Measured on tests/eval/questions.jsonl
#: (lexical retrieval alone, hit@5): appending expansions at full weight lifted abbreviation questions from 0.79
#: to 0.92 but dropped compound questions from 0.85 to 0.77, because several synonyms outvote the one word
#: that mattered; at weights 0.2-0.5 both gains held (0.92 and 0.85). 0.4 sits in the middle of that range.
EXPANSION_WEIGHT = 0.4

#: Lucene's defaults (and bm25s's); see `from_chunks`.
BM25_K1, BM25_B = 1.5, 0.75


def _csc_low_memory(
    data: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSC arrays for bm25s, replacing its default builder (the `_np_csc` hook it offers for this).

    bm25s packs (column, row) pairs into int64 keys and argsorts them, which needs about four int64 copies of
    the index at once (~0.6 GB at 100,000 chunks). Rows arrive in ascending order because documents are scored
    one after another, so a *stable* argsort of the int32 columns gives the same order with one int64 copy.
    """
    indptr = np.zeros(shape[1] + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=shape[1]), out=indptr[1:])
    order = np.argsort(cols, kind="stable")
    return data[order], rows[order], indptr


def _best_first(candidates: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` best candidates, best first; ties keep index order (stable), so results are deterministic.

    A full sort of every matching chunk costs ~40 ms at 100,000 chunks for a common word; a partition finds the
    score of the n-th best first and sorts only what reaches it (ties at the border included, then cut).
    """
    if n < candidates.size:
        cut = np.partition(scores[candidates], candidates.size - n)[candidates.size - n]
        candidates = candidates[scores[candidates] >= cut]
    return candidates[np.argsort(-scores[candidates], kind="stable")][:n]


def _indexed_text(chunk: Chunk, title_weight: int = 1, section_weight: int = 1) -> str:
    """What BM25 sees of a chunk: title and section heading give context the body often omits.

    The weights repeat a field (0 leaves it out): a repeated heading counts its words that many times, the
    simplest form of a field boost that BM25 over one text allows.
    """
    parts = [chunk.title] * title_weight + [chunk.section] * section_weight + [chunk.text]
    return "\n".join(part for part in parts if part)


def _coverage_text(chunk: Chunk) -> str:
    """What `term_coverage` checks: the passage and its heading, not the document title (shared by all chunks)."""
    return "\n".join(part for part in (chunk.section, chunk.text) if part)


def _term_ids_per_chunk(
    chunks: list[Chunk], analyzer: GermanAnalyzer, title_weight: int, section_weight: int
) -> tuple[list[array], dict[str, int]]:
    """Each chunk's indexed text as term ids, and the term table; teaches ``analyzer`` the corpus vocabulary.

    Two passes keep memory and time low at 100,000 chunks: raw tokens are counted once, and each distinct raw
    token is analysed once (compound splitting needs the vocabulary of pass 1).
    """
    # Pass 1: raw tokens per chunk as ids into a table of distinct raw tokens; count the words they hold.
    raw_ids: dict[str, int] = {}
    raw_counts: list[int] = []
    chunk_tokens: list[array] = []
    for chunk in chunks:
        ids = array("i")
        for token in analyzer.tokens(_indexed_text(chunk, title_weight, section_weight)):
            token_id = raw_ids.get(token)
            if token_id is None:
                token_id = raw_ids[token] = len(raw_counts)
                raw_counts.append(0)
            raw_counts[token_id] += 1
            ids.append(token_id)
        chunk_tokens.append(ids)
    word_counts: Counter[str] = Counter()
    for token, token_id in raw_ids.items():
        for word in analyzer.token_words(token):
            word_counts[word] += raw_counts[token_id]
    analyzer.learn_vocabulary(word_counts, replace=True)
    del word_counts, raw_counts

    # Pass 2: each distinct raw token is analysed once (with the learned vocabulary) into term ids.
    vocab: dict[str, int] = {}
    token_term_ids: list[tuple[int, ...]] = [()] * len(raw_ids)
    for token, token_id in raw_ids.items():
        token_term_ids[token_id] = tuple(
            vocab.setdefault(t, len(vocab)) for t in analyzer.token_terms(token)
        )
    del raw_ids
    corpus_ids: list[array] = []
    for ids in chunk_tokens:
        term_ids = array("i")
        for token_id in ids:
            term_ids.extend(token_term_ids[token_id])
        corpus_ids.append(term_ids)
    del chunk_tokens, token_term_ids
    return corpus_ids, vocab


class BM25Retriever:
    """Lexical retriever: BM25 (Lucene variant, k1 and b see `from_chunks`) over analyzer terms.

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
    def from_chunks(
        cls,
        chunks: Sequence[Chunk],
        analyzer: GermanAnalyzer | None = None,
        *,
        k1: float = BM25_K1,
        b: float = BM25_B,
        title_weight: int = 1,
        section_weight: int = 1,
    ) -> BM25Retriever:
        """Index `chunks`; an empty sequence gives a retriever that finds nothing.

        ``k1`` (term-frequency saturation) and ``b`` (length normalisation) are the BM25 parameters; the field
        weights say how often the document title and the section path are indexed with each chunk.

        The analyzer's corpus vocabulary is replaced by that of `chunks` (rebuilding with the same analyzer does
        not accumulate words of removed documents).
        """
        analyzer = analyzer or GermanAnalyzer()
        chunks = list(chunks)
        if not chunks:
            return cls(chunks, analyzer, None, {})
        corpus_ids, vocab = _term_ids_per_chunk(chunks, analyzer, title_weight, section_weight)
        if not vocab:  # nothing but stopwords and punctuation
            return cls(chunks, analyzer, None, {})
        analyzer.clear_caches()  # one entry per corpus word; queries refill what they need
        bm25 = bm25s.BM25(k1=k1, b=b, csc_backend="numpy")
        if hasattr(bm25, "_np_csc"):
            bm25._np_csc = _csc_low_memory  # type: ignore[method-assign]
        bm25.index((corpus_ids, vocab), show_progress=False)
        del corpus_ids
        logger.info("BM25 index: %d chunks, %d terms", len(chunks), len(vocab))
        return cls(chunks, analyzer, bm25, vocab)

    def __len__(self) -> int:
        return len(self._chunks)

    def retrieve(
        self,
        query: str,
        k: int = 20,
        where: Callable[[Chunk], bool] | None = None,
        *,
        expansion: str = "",
        expansion_weight: float = EXPANSION_WEIGHT,
    ) -> list[ScoredChunk]:
        """The `k` best chunks for `query` (score = BM25 score, ranks from 1), only those with a positive score.

        Args:
            query: Free text; it is analysed like the documents.
            k: Maximum number of results.
            where: Optional predicate; chunks for which it is false are skipped (the search goes on until `k`
                matching chunks are found or the candidates run out).
            expansion: Extra search terms, e.g. ``" ".join(glossary.expansions(query))``. Their terms that the
                query lacks add their BM25 score times `expansion_weight`, so they help without outvoting the
                user's own words (see `EXPANSION_WEIGHT`).
            expansion_weight: Weight of the expansion terms, 0 ignores them.
        """
        if self._bm25 is None or k <= 0:
            return []
        term_ids = self._term_ids(query)
        own = set(term_ids)
        extra_ids = [t for t in self._term_ids(expansion) if t not in own] if expansion else []
        if not term_ids and not (extra_ids and expansion_weight > 0):
            return []
        scores = (
            self._bm25.get_scores(term_ids) if term_ids else np.zeros(len(self._chunks), dtype=np.float32)
        )
        if extra_ids and expansion_weight > 0:
            scores = scores + np.float32(expansion_weight) * self._bm25.get_scores(extra_ids)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size == 0:
            return []
        # With a filter, look further down the list; if that is not enough, sort everything.
        order = _best_first(candidates, scores, k if where is None else max(4 * k, 200))
        if where is not None and order.size < candidates.size:
            matching = sum(1 for idx in order if where(self._chunks[int(idx)]))
            if matching < k:
                order = _best_first(candidates, scores, candidates.size)
        results: list[ScoredChunk] = []
        for idx in order:
            chunk = self._chunks[int(idx)]
            if where is not None and not where(chunk):
                continue
            results.append(ScoredChunk(chunk=chunk, score=float(scores[idx]), rank=len(results) + 1))
            if len(results) >= k:
                break
        return results

    def _term_ids(self, text: str) -> list[int]:
        """Distinct ids of the indexed terms in `text` (unknown terms cannot score and are left out)."""
        return list(dict.fromkeys(self._vocab[t] for t in self.analyzer.analyze(text) if t in self._vocab))

    def _knows(self, stem: str, parts: tuple[str, ...]) -> bool:
        return stem in self._vocab or bool(parts and all(p in self._vocab for p in parts))

    def unknown_words(self, query: str) -> list[str]:
        """The query's content words (folded, see `GermanAnalyzer.words`) that the corpus never uses."""
        words = self.analyzer.words(query)
        stems = self.analyzer.word_stems(query)  # one entry per word, same order
        return list(
            dict.fromkeys(
                w for w, (stem, parts) in zip(words, stems, strict=True) if not self._knows(stem, parts)
            )
        )

    def known_fraction(self, query: str) -> float:
        """Share of the query's content words the indexed corpus knows at all (stem, or all compound parts).

        Questions about things no document mentions ("Personalausweis", "Bamberg") score low here even when
        their other words are common, which makes this a strong out-of-scope signal.
        """
        words = list(dict.fromkeys(self.analyzer.word_stems(query)))
        if not words:
            return 0.0
        return sum(1 for stem, parts in words if self._knows(stem, parts)) / len(words)

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
