"""reciprocal_rank_fusion: order, exact scores, ties, weights, duplicates, purity and argument checks."""

from __future__ import annotations

import pytest

from assistant.retrieval.fusion import (
    RRF_K,
    FusionConfig,
    convex_score_fusion,
    keep_each_best,
    min_max,
    reciprocal_rank_fusion,
)
from assistant.types import Chunk, ScoredChunk


def chunk(chunk_id: str) -> Chunk:
    return Chunk(chunk_id, "doc", "v1", f"Text {chunk_id}", "doc.pdf", "Titel", 1, "", 0, 0, 10)


def ranking(*ids: str) -> list[ScoredChunk]:
    # Scores are deliberately on different scales: RRF must ignore them.
    return [ScoredChunk(chunk(i), score=100.0 - n, rank=n + 1) for n, i in enumerate(ids)]


def ids(results: list[ScoredChunk]) -> list[str]:
    return [r.chunk.id for r in results]


def test_chunks_found_by_both_lists_come_first() -> None:
    fused = reciprocal_rank_fusion([ranking("a", "b", "c"), ranking("c", "b", "d")])
    # c (ranks 3 and 1) edges out b (2 and 2): 1/63 + 1/61 > 2/62. Both beat a and d, found only once.
    assert ids(fused) == ["c", "b", "a", "d"]
    assert [r.rank for r in fused] == [1, 2, 3, 4]
    assert fused[0].score == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1))
    assert fused[1].score == pytest.approx(2 / (RRF_K + 2))
    assert fused[2].score == pytest.approx(1 / (RRF_K + 1))
    assert fused[3].score == pytest.approx(1 / (RRF_K + 3))


def test_single_ranking_keeps_its_order() -> None:
    assert ids(reciprocal_rank_fusion([ranking("x", "y", "z")])) == ["x", "y", "z"]


def test_ties_break_by_best_rank_then_first_appearance() -> None:
    # a and b hold ranks 1 and 2 each, so their fused scores are equal.
    fused = reciprocal_rank_fusion([ranking("a", "b"), ranking("b", "a")])
    assert fused[0].score == fused[1].score
    assert ids(fused) == ["a", "b"]  # same best rank (1): the first seen wins
    fused = reciprocal_rank_fusion([ranking("p"), ranking("q")])
    assert ids(fused) == ["p", "q"]


def test_weights_shift_the_balance() -> None:
    lists = [ranking("lex1", "both"), ranking("dense1", "both")]
    assert ids(reciprocal_rank_fusion(lists)) == ["both", "lex1", "dense1"]  # lex1/dense1 tie: first seen
    heavy_dense = reciprocal_rank_fusion(lists, weights=[0.2, 1.0])
    assert ids(heavy_dense) == ["both", "dense1", "lex1"]
    assert heavy_dense[0].score == pytest.approx(0.2 / (RRF_K + 2) + 1.0 / (RRF_K + 2))
    assert heavy_dense[2].score == pytest.approx(0.2 / (RRF_K + 1))
    # Weight 0 switches a retriever off: its chunks are not even listed.
    assert ids(reciprocal_rank_fusion(lists, weights=[0.0, 1.0])) == ["dense1", "both"]


def test_duplicate_id_within_one_list_counts_once_at_its_best_position() -> None:
    fused = reciprocal_rank_fusion([ranking("a", "b", "a")])
    assert ids(fused) == ["a", "b"]
    assert fused[0].score == pytest.approx(1 / (RRF_K + 1))


def test_k_changes_the_damping() -> None:
    lists = [ranking("a", "x", "y", "z"), ranking("b", "c")]
    assert reciprocal_rank_fusion(lists, k=0)[0].score == pytest.approx(1.0)


def test_empty_inputs() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


def test_inputs_are_not_modified() -> None:
    first, second = ranking("a", "b"), ranking("b")
    before = (list(first), list(second))
    fused = reciprocal_rank_fusion([first, second])
    assert (first, second) == before
    assert all(r not in first + second for r in fused)  # new objects with new ranks and scores


@pytest.mark.parametrize(
    "kwargs",
    [{"weights": [1.0]}, {"weights": [1.0, -1.0]}, {"k": -1}],
)
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([ranking("a"), ranking("b")], **kwargs)


# -- convex (normalised score) fusion -------------------------------------------------------------------------
def scored_list(*pairs: tuple[str, float]) -> list[ScoredChunk]:
    return [ScoredChunk(chunk(i), score=s, rank=n + 1) for n, (i, s) in enumerate(pairs)]


def test_min_max_maps_best_to_one_and_floor_to_zero() -> None:
    assert min_max([10.0, 5.0, 0.0]) == [1.0, 0.5, 0.0]
    assert min_max([0.9, 0.8], lower=0.7) == pytest.approx([1.0, 0.5])
    assert min_max([0.9, 0.6], lower=0.7) == pytest.approx([1.0, 0.0])  # clipped at the floor
    assert min_max([3.0, 3.0]) == [1.0, 1.0]
    assert min_max([]) == []


def test_convex_fusion_uses_score_gaps_that_rrf_ignores() -> None:
    # Dense barely prefers x over y; BM25 strongly prefers y. RRF sees a tie (each once first, once second)
    # and falls back to first appearance; the normalised scores let BM25's clear margin decide.
    dense = scored_list(("x", 0.86), ("y", 0.85), ("z", 0.70))
    lexical = scored_list(("y", 20.0), ("x", 2.0), ("z", 1.0))
    assert ids(reciprocal_rank_fusion([dense, lexical]))[:2] == ["x", "y"]
    fused = convex_score_fusion([dense, lexical], [0.5, 0.5])
    assert ids(fused) == ["y", "x", "z"]
    # y: 0.5 * (0.15 / 0.16) + 0.5 * 1.0
    assert fused[0].score == pytest.approx(0.5 * 0.15 / 0.16 + 0.5)
    assert [r.rank for r in fused] == [1, 2, 3]


def test_convex_fusion_weight_moves_between_the_inputs() -> None:
    dense = scored_list(("a", 0.9), ("b", 0.8))
    lexical = scored_list(("b", 12.0), ("a", 3.0))
    assert ids(convex_score_fusion([dense, lexical], [1.0, 0.0])) == ["a", "b"]
    assert ids(convex_score_fusion([dense, lexical], [0.0, 1.0])) == ["b", "a"]


def test_convex_fusion_missing_chunk_scores_zero_and_bounds_apply() -> None:
    dense = scored_list(("a", 0.9), ("b", 0.8))
    lexical = scored_list(("c", 4.0))
    fused = convex_score_fusion([dense, lexical], [0.5, 0.5], lower_bounds=[0.7, 0.0])
    scores = {r.chunk.id: r.score for r in fused}
    assert scores == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5})
    assert ids(fused) == ["a", "c", "b"]  # a and c tie at 0.5: same best rank, a appeared first


def test_convex_fusion_is_pure_and_checks_its_arguments() -> None:
    dense = scored_list(("a", 0.9), ("a", 0.1), ("b", 0.5))
    before = list(dense)
    fused = convex_score_fusion([dense], [1.0])
    assert dense == before
    assert ids(fused) == ["a", "b"]  # the duplicate counts once, at its better position
    with pytest.raises(ValueError):
        convex_score_fusion([dense], [1.0, 1.0])
    with pytest.raises(ValueError):
        convex_score_fusion([dense], [-1.0])
    with pytest.raises(ValueError):
        convex_score_fusion([dense], [1.0], lower_bounds=[0.0, 0.0])


def test_fusion_config_chooses_the_method() -> None:
    dense = scored_list(("x", 0.86), ("y", 0.85))
    lexical = scored_list(("y", 20.0), ("x", 2.0))
    assert ids(FusionConfig("rrf", dense_weight=0.5).fuse(dense, lexical)) == ids(
        reciprocal_rank_fusion([dense, lexical])
    )
    assert FusionConfig().method == "convex"  # the default, chosen on the real development split
    assert ids(FusionConfig("convex", dense_weight=0.5, dense_floor=0.7).fuse(dense, lexical)) == ["y", "x"]
    assert ids(FusionConfig("convex", dense_weight=0.95, dense_floor=0.7).fuse(dense, lexical)) == ["x", "y"]


def test_each_retrievers_best_is_kept_near_the_top() -> None:
    dense, lexical = ranking("d1", "x", "y"), ranking("l1", "x", "y")
    fused = ranking("x", "y", "a", "b", "c", "l1", "d1", "e")
    kept = keep_each_best(fused, [dense, lexical], within=4)
    # Both bests move to places 3 and 4, in their fused order; everything else keeps its order.
    assert ids(kept) == ["x", "y", "l1", "d1", "a", "b", "c", "e"]
    assert [h.rank for h in kept] == list(range(1, 9))
    assert ids(fused) == ["x", "y", "a", "b", "c", "l1", "d1", "e"]  # pure
    # A best already among the first places, an empty ranking or a window of 0 change nothing.
    assert ids(keep_each_best(fused, [ranking("y"), []], within=4)) == ids(fused)
    assert ids(keep_each_best(fused, [dense, lexical], within=0)) == ids(fused)
    assert ids(keep_each_best(fused, [dense], within=1)) == ["d1", "x", "y", "a", "b", "c", "l1", "e"]


def test_the_fusion_config_keeps_each_best_when_asked() -> None:
    dense = [ScoredChunk(chunk(i), s, n) for n, (i, s) in enumerate([("d", 0.99), ("x", 0.9), ("y", 0.89)], 1)]
    lexical = [ScoredChunk(chunk(i), s, n) for n, (i, s) in enumerate([("x", 9.0), ("y", 8.9), ("z", 8.8)], 1)]
    plain = FusionConfig("convex", dense_weight=0.4).fuse(dense, lexical)
    assert ids(plain)[:2] == ["x", "y"] and ids(plain).index("d") >= 2
    assert ids(FusionConfig("convex", dense_weight=0.4, keep_best_within=2).fuse(dense, lexical))[:2] == ["x", "d"]
