"""Fusion of rankings from retrievers whose scores are not comparable: pure functions, no state.

BM25 scores are unbounded sums, cosine similarities live in [-1, 1]; adding them raw would let one retriever
drown the other. Two remedies:

* `reciprocal_rank_fusion` (RRF; Cormack, Clarke & Büttcher, SIGIR 2009) uses only ranks: a chunk at rank r in a
  list earns 1 / (k + r). It throws away how *much* better rank 1 is than rank 2.
* `convex_score_fusion` normalises each list's scores to 0..1 and takes a weighted sum (a convex combination for
  weights that add up to 1). Bruch, Gai & Ingber ("An Analysis of Fusion Functions for Hybrid Retrieval", ACM
  TOIS 2023) found it beats RRF in and out of domain and that its one weight is tunable from few labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

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


def _check_weights(
    rankings: Sequence[Sequence[ScoredChunk]], weights: Sequence[float] | None
) -> Sequence[float]:
    if weights is None:
        return [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    return weights


def min_max(scores: Sequence[float], lower: float | None = None) -> list[float]:
    """Scores mapped to 0..1: the best to 1, ``lower`` (default: the worst in the list) to 0, clipped.

    A list whose scores are all equal maps to 1.0 each (every candidate is as good as the best). A fixed
    ``lower`` is the "theoretical min-max" of Bruch et al.: the list's own minimum depends on how many
    candidates were fetched, a fixed floor does not.
    """
    if not scores:
        return []
    top = max(scores)
    low = min(scores) if lower is None else lower
    if top <= low:
        return [1.0] * len(scores)
    return [min(1.0, max(0.0, (s - low) / (top - low))) for s in scores]


def convex_score_fusion(
    rankings: Sequence[Sequence[ScoredChunk]],
    weights: Sequence[float] | None = None,
    lower_bounds: Sequence[float | None] | None = None,
) -> list[ScoredChunk]:
    """Fuse rankings by the weighted sum of their min-max normalised scores, by chunk id.

    A chunk missing from a list scores 0 there (it fell below what that retriever returned). With weights
    ``(alpha, 1 - alpha)`` this is the convex combination of Bruch et al. Ties are broken by the best single
    rank the chunk reached, then by first appearance, so the result is deterministic.

    Args:
        rankings: One ranking per retriever, best first, with their own scores (higher is better).
        weights: One non-negative weight per ranking; defaults to 1.0 each.
        lower_bounds: Per ranking, the score that normalises to 0 (None: that list's lowest score).

    Returns:
        New `ScoredChunk` objects, best first, ranks 1..n, the fused score. Pure: the inputs are untouched.

    Raises:
        ValueError: When `weights` or `lower_bounds` do not fit `rankings`, or a weight is negative.
    """
    weights = _check_weights(rankings, weights)
    if lower_bounds is None:
        lower_bounds = [None] * len(rankings)
    if len(lower_bounds) != len(rankings):
        raise ValueError(f"got {len(lower_bounds)} lower bounds for {len(rankings)} rankings")
    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    chunks: dict[str, Chunk] = {}
    for ranking, weight, lower in zip(rankings, weights, lower_bounds, strict=True):
        if weight == 0:
            continue
        first: dict[str, ScoredChunk] = {}
        for scored in ranking:
            first.setdefault(scored.chunk.id, scored)
        normalised = min_max([s.score for s in first.values()], lower)
        for position, (chunk_id, scored) in enumerate(first.items(), start=1):
            chunks.setdefault(chunk_id, scored.chunk)
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * normalised[position - 1]
            best_rank[chunk_id] = min(best_rank.get(chunk_id, position), position)
    first_seen = {chunk_id: i for i, chunk_id in enumerate(chunks)}
    order = sorted(chunks, key=lambda cid: (-fused[cid], best_rank[cid], first_seen[cid]))
    return [ScoredChunk(chunk=chunks[cid], score=fused[cid], rank=i) for i, cid in enumerate(order, start=1)]


def keep_each_best(
    fused: Sequence[ScoredChunk], rankings: Sequence[Sequence[ScoredChunk]], within: int
) -> list[ScoredChunk]:
    """``fused`` with every input ranking's best chunk among its first ``within`` places.

    A passage one retriever ranks first and the other misses entirely (BM25 for "Ausfertigungsdatum : 2013-07-25"
    asked as "An welchem Tag wurde … ausgefertigt?") scores at most its one weight and can sink below passages both
    find moderately well. A best chunk that is further down moves up to just before place ``within`` (several keep
    their fused order; more bests than ``within`` places would spill past it); the rest keep theirs. A moved chunk
    keeps its fused score, so scores no longer fall with rank: downstream, earlier means better. Pure: new
    `ScoredChunk` objects with ranks 1..n.
    """
    if within <= 0:
        return list(fused)
    head = {h.chunk.id for h in fused[:within]}
    missing: list[str] = []
    for ranking in rankings:
        if ranking and ranking[0].chunk.id not in head and ranking[0].chunk.id not in missing:
            missing.append(ranking[0].chunk.id)
    moved = [h for h in fused if h.chunk.id in missing]
    if not moved:
        return list(fused)
    rest = [h for h in fused if h.chunk.id not in missing]
    cut = max(0, within - len(moved))
    order = rest[:cut] + moved + rest[cut:]
    return [ScoredChunk(chunk=h.chunk, score=h.score, rank=i) for i, h in enumerate(order, start=1)]


@dataclass(frozen=True)
class FusionConfig:
    """How the hybrid retriever fuses its dense and lexical rankings.

    Attributes:
        method: ``"convex"`` (normalised score fusion) or ``"rrf"`` (reciprocal rank fusion).
        dense_weight: Weight of the dense list; the lexical list gets ``1 - dense_weight``.
        dense_floor: Cosine similarity that normalises to 0 for the convex method (None: the list's minimum).
        lexical_floor: BM25 score that normalises to 0 (0.0, BM25's own minimum; None: the list's minimum).
        keep_best_within: Each retriever's best chunk is kept among this many first places (`keep_each_best`;
            0: off).
    """

    # Chosen on the real development split only (217 answerable questions over ../shared/realdocs, see
    # benchmarks/quality.py); hit@5 / MRR@10 of the whole search: RRF 0.793 / 0.666, convex with dense weight
    # 0.3 0.816 / 0.690, 0.4 0.820 / 0.694, 0.5 0.816 / 0.691, 0.6 0.816 / 0.675. A fixed dense floor (0.7-0.8)
    # instead of the list minimum, or the list minimum instead of 0 for BM25, did no better (0.80-0.82 / 0.68-0.69).
    # The sample corpus agrees: RRF 0.876 / 0.746, convex 0.4 0.921 / 0.761.
    method: Literal["convex", "rrf"] = "convex"
    dense_weight: float = 0.4
    dense_floor: float | None = None
    lexical_floor: float | None = 0.0
    # HybridRetriever's main fusion uses 4, chosen on the real development split (2026-12-06; follow-ups and the
    # cross-lingual fusion were not measured with it and keep 0): each best kept within 4 places lifts hit@5
    # 0.908 -> 0.922 (MRR@10 0.786 -> 0.786); within 5: 0.922 / 0.787 but sample 0.921 -> 0.916; within 6: no gain;
    # the dense best alone: 0.917; each one's two best: 0.912. Sample set at 4: 0.921 / 0.756 (0.755 before).
    keep_best_within: int = 0

    def fuse(self, dense: Sequence[ScoredChunk], lexical: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        """The fused ranking of one query's two candidate lists."""
        weights = (self.dense_weight, 1.0 - self.dense_weight)
        if self.method == "rrf":
            fused = reciprocal_rank_fusion([dense, lexical], weights=[2 * w for w in weights])
        else:
            fused = convex_score_fusion(
                [dense, lexical], weights, lower_bounds=[self.dense_floor, self.lexical_floor]
            )
        return keep_each_best(fused, [dense, lexical], self.keep_best_within)
