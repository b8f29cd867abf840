"""reciprocal_rank_fusion: order, exact scores, ties, weights, duplicates, purity and argument checks."""

from __future__ import annotations

import pytest

from assistant.retrieval.fusion import RRF_K, reciprocal_rank_fusion
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
