"""HybridRetriever's final list: diversification with the per-section and per-document caps."""

from __future__ import annotations

from assistant.retrieval.glossary import Glossary
from assistant.retrieval.hybrid import HybridRetriever
from assistant.services import DEFAULT_GLOSSARY
from assistant.types import Chunk, ScoredChunk


def hit(doc: str, index: int, section: str = "") -> ScoredChunk:
    start = index * 100
    chunk = Chunk(
        f"{doc}:{index}", doc, "v1", "x" * 100, f"{doc}.md", "", None, section, index, start, start + 100
    )
    return ScoredChunk(chunk, 1.0 / (index + 1), index + 1)


def retriever(**kw: int) -> HybridRetriever:
    # Only the diversification step is exercised here; store and embedder are never touched.
    return HybridRetriever(None, None, Glossary.load(DEFAULT_GLOSSARY), **kw)  # type: ignore[arg-type]


def test_per_document_cap_lets_other_documents_in() -> None:
    fused = [hit("long", i, section=f"s{i}") for i in range(4)] + [hit("short", 9), hit("other", 7)]
    uncapped = retriever()._diversify(fused, 4)
    assert [h.chunk.doc_id for h in uncapped] == ["long"] * 4
    capped = retriever(per_document=2)._diversify(fused, 4)
    assert [h.chunk.id for h in capped] == ["long:0", "long:1", "short:9", "other:7"]
    assert [h.rank for h in capped] == [1, 2, 3, 4]


def test_per_section_cap_still_applies() -> None:
    fused = [hit("doc", i, section="same") for i in range(5)]
    assert len(retriever(per_section=3)._diversify(fused, 5)) == 3
