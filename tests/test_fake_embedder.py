"""The hash embedder that stands in for the model: its scores are exact, also after a round trip through Chroma."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_services
from tests.support.fake_embedder import SHARED, HashEmbedder, expected_score


def test_scores_follow_the_shared_words_exactly() -> None:
    embedder = HashEmbedder()
    query, passage = "Förderung Betrieb", "Förderung Betrieb Kosten Personal"
    assert not embedder.collisions(query, passage, "Hundesteuer Köln")
    score = float(embedder.embed_query(query) @ embedder.embed_passages([passage])[0])
    assert expected_score(query, passage) == pytest.approx(SHARED + (1 - SHARED) * 2 / np.sqrt(8))
    assert score == pytest.approx(0.9268, abs=1e-4) == expected_score(query, passage)
    unrelated = float(embedder.embed_query("Hundesteuer Köln") @ embedder.embed_passages([passage])[0])
    assert unrelated == pytest.approx(SHARED)  # nothing shared but the common axis
    assert np.array_equal(embedder.embed_query(query), HashEmbedder().embed_query(query))  # same in every process


def test_dense_retrieval_reports_the_expected_score(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Betrieb\n\nDer Zweckverband übernimmt den Betrieb der Plattform.\n", encoding="utf-8")
    (docs / "b.md").write_text("# Kosten\n\nDie Folgekosten stehen im Haushalt.\n", encoding="utf-8")
    services = make_services(tmp_path / "index", embedder)
    services.pipeline().run([docs])
    embedded = set(embedder.history)
    query = "Wer übernimmt den Betrieb?"
    hits = services.retriever.dense(query, k=2)
    assert [h.chunk.source for h in hits] == ["a.md", "b.md"]
    for hit in hits:
        # the text the pipeline embedded for this chunk (title and section come with it)
        text = next(t for t in embedded if hit.chunk.text in t)
        assert hit.score == pytest.approx(expected_score(query, text), abs=1e-5)
