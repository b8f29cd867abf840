"""Dense retrieval: e5 query vector against the chunk vectors in Chroma (cosine similarity)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.embeddings import Embedder
from assistant.store import ChromaStore
from assistant.types import Chunk, ScoredChunk


class ChromaDenseRetriever:
    """Nearest chunks by embedding, restricted to the live document versions.

    Args:
        store: Chroma store holding the chunk vectors.
        embedder: Must be the embedder that built the index.
    """

    def __init__(self, store: ChromaStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(
        self,
        query: str,
        k: int,
        *,
        live: dict[str, str],
        chunks: Mapping[str, Chunk],
        where: dict[str, Any] | None = None,
    ) -> list[ScoredChunk]:
        """The ``k`` nearest live chunks (score = cosine similarity), best first.

        Args:
            live: Current version per document id; older versions are skipped.
            chunks: The live chunks by id (Chroma returns ids only; reading texts there is ten times slower).
            where: Chroma metadata filter.
        """
        vector = self.embedder.embed_query(query)
        nearest = self.store.nearest_ids(vector, k, live=live, where=where)
        # Live ids are in `chunks` by construction (same versions); the guard covers a chunk written after the
        # snapshot under a version the snapshot already knows, which cannot happen in a normal ingest.
        hits = [(chunks[cid], score) for cid, score in nearest if cid in chunks]
        return [ScoredChunk(chunk, score, rank) for rank, (chunk, score) in enumerate(hits, start=1)]
