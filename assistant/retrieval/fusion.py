"""Reciprocal rank fusion (RRF): merge rankings from retrievers whose scores are not comparable.

BM25 scores are unbounded sums, cosine similarities live in [-1, 1]; adding them would let one retriever drown
the other. RRF (Cormack, Clarke & Büttcher, SIGIR 2009, "Reciprocal Rank Fusion outperforms Condorcet and
individual Rank Learning Methods") uses only ranks: a chunk at rank r in a list earns 1 / (k + r).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.types import Chunk, ScoredChunk

#: The constant from Cormack et al. (2009). It damps the advantage of the very top ranks: with k=60 rank 1 earns
#: 1/61 and rank 10 earns 1/70, so a chunk that two retrievers both place moderately high beats one that a single
#: retriever places first. They picked 60 on TREC data and found results insensitive to its exact value; it is the
#: default in Elasticsearch, OpenSearch and haystack too.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[ScoredChunk]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[ScoredChunk]:
    """Fuse several rankings into one, by chunk id.

    Each chunk scores ``sum(weight_i / (k + rank_i))`` over the lists it appears in, where ``rank_i`` is its
    1-based position in list i (lists are taken as ordered best first; their scores are ignored). A chunk id that
    occurs twice in one list counts once, at its better position.

    Ties in the fused score are broken by the best single rank the chunk reached, then by first appearance
    (earlier list, then earlier position), so the result is deterministic.

    Args:
        rankings: One ranking per retriever, best first.
        k: Rank damping constant (see `RRF_K`); must be >= 0.
        weights: One non-negative weight per ranking; defaults to 1.0 each. A ranking of weight 0 is ignored.

    Returns:
        New `ScoredChunk` objects, best first, with ranks 1..n and the fused score. Pure: the inputs are untouched.

    Raises:
        ValueError: When `k` is negative or `weights` does not fit `rankings`.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")

    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    chunks: dict[str, Chunk] = {}  # dict order = first appearance
    for ranking, weight in zip(rankings, weights, strict=True):
        if weight == 0:
            continue
        seen: set[str] = set()
        for position, scored in enumerate(ranking, start=1):
            chunk_id = scored.chunk.id
            if chunk_id in seen:
                continue
            seen.add(chunk_id)
            chunks.setdefault(chunk_id, scored.chunk)
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + position)
            best_rank[chunk_id] = min(best_rank.get(chunk_id, position), position)

    first_seen = {chunk_id: i for i, chunk_id in enumerate(chunks)}
    order = sorted(chunks, key=lambda cid: (-fused[cid], best_rank[cid], first_seen[cid]))
    return [ScoredChunk(chunk=chunks[cid], score=fused[cid], rank=i) for i, cid in enumerate(order, start=1)]
