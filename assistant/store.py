"""The vector store: Chroma, embedded (``PersistentClient``) or as a server (``HttpClient``).

Two collections:

* ``<prefix>_chunks``: one record per chunk, with its embedding, text and metadata. Chunk ids are
  ``<doc_id>:<version>:<index>``, so the chunks of two versions of one document can coexist.
* ``<prefix>_documents``: the registry, one record per live document naming its live ``version``, plus one
  ``~generation`` record whose token changes with every registry write. Readers compare that one token to see
  whether anything changed, instead of reading every record (1.2 s at 5,000 documents).

Why a registry: Chroma has no transactions. An updated document's new chunks are written first under a new
version, then the registry record is flipped with one single-record upsert, then the old chunks are deleted.
Queries only return chunks whose version is the live one, so no query ever sees half a document; a crash at any
point leaves at worst invisible orphans, which :meth:`ChromaStore.collect_orphans` removes on the next ingest.
Every registry write carries the new generation token in the same call, so no reader can miss a change.

This module reads and writes records; the client, its lifecycle and the diagnosis of an index that cannot be
opened (damaged, read-only, another embedding model) are `assistant.chroma.ChromaConnection`'s.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from assistant.chroma import SCHEMA_VERSION, ChromaConnection
from assistant.types import Chunk

__all__ = [
    "GENERATION_ID",
    "SCHEMA_VERSION",
    "ChromaStore",
    "DocumentRecord",
    "chunk_from_record",
    "chunk_to_metadata",
]

log = logging.getLogger(__name__)

_WRITE_BATCH = 500
#: Registry record that is no document (document ids are 16 hex digits); its token changes on every write.
GENERATION_ID = "~generation"


@dataclass
class DocumentRecord:
    """Registry entry of one live document."""

    doc_id: str
    version: str
    source: str
    root: str
    title: str
    suffix: str
    content_sha256: str
    chunk_count: int
    ingested_at: str
    publisher: str = ""
    year: int | None = None
    doc_type: str = ""
    topics: list[str] = field(default_factory=list)
    language: str = "de"
    licence: str = ""
    sample: bool = False
    page_count: int | None = None
    references: list[str] = field(default_factory=list)

    def to_metadata(self) -> dict[str, Any]:
        # Chroma stores no empty lists; None deletes a key on upsert (which merges metadata), so a field that
        # became empty on an update does not keep its old value.
        meta: dict[str, Any] = {k: (None if v == [] else v) for k, v in asdict(self).items()}
        return meta | {"removed": None}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocumentRecord:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in meta.items() if k in known})


def chunk_to_metadata(chunk: Chunk) -> dict[str, Any]:
    meta = {k: v for k, v in chunk.metadata.items() if v is not None and v != []}
    meta.update(
        doc_id=chunk.doc_id,
        version=chunk.version,
        source=chunk.source,
        title=chunk.title,
        page=chunk.page or 0,
        section=chunk.section,
        chunk_index=chunk.chunk_index,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
    )
    return meta


_CHUNK_KEYS = {"doc_id", "version", "source", "title", "page", "section", "chunk_index", "char_start", "char_end"}


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        doc_id=str(meta.get("doc_id", "")),
        version=str(meta.get("version", "")),
        text=text or "",
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        page=int(meta["page"]) if meta.get("page") else None,
        section=str(meta.get("section", "")),
        chunk_index=int(meta.get("chunk_index", 0)),
        char_start=int(meta.get("char_start", 0)),
        char_end=int(meta.get("char_end", 0)),
        metadata={k: v for k, v in meta.items() if k not in _CHUNK_KEYS},
    )


class ChromaStore(ChromaConnection):
    """Chunks and the document registry in Chroma. Thread-safe for concurrent readers.

    The connection (client, collections, reconnects, damaged-index diagnosis) is `ChromaConnection`'s; its
    arguments are this class's.
    """

    # -- registry --------------------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        return {i: DocumentRecord.from_metadata(m) for i, m in self._registry().items() if not m.get("removed")}

    def _registry(self) -> dict[str, dict[str, Any]]:
        """Every registry record except the generation marker, tombstones included."""
        _, docs = self._collections()
        got = self._call(docs.get, include=["metadatas"])
        return {i: m for i, m in zip(got["ids"], got["metadatas"], strict=True) if i != GENERATION_ID}

    def generation(self) -> str:
        """A token that changes with every commit or removal (empty for an index that never had one)."""
        _, docs = self._collections()
        got = self._call(docs.get, ids=[GENERATION_ID], include=["metadatas"])
        return str(got["metadatas"][0].get("token", "")) if got["ids"] else ""

    def _write_registry(self, doc_id: str, meta: dict[str, Any], source: str) -> None:
        """One upsert that changes a registry record and the generation token together (atomic in Chroma)."""
        _, docs = self._collections()
        self._call(
            docs.upsert,
            ids=[doc_id, GENERATION_ID],
            embeddings=[[1.0], [1.0]],  # the registry is looked up by id, never by vector
            documents=[source, "generation"],
            metadatas=[meta, {"token": uuid.uuid4().hex, "at": time.time()}],
        )

    def ensure_generation(self) -> None:
        """Give an index written before generation tokens existed its first token (writers call this)."""
        if not self.generation():
            _, docs = self._collections()
            self._call(docs.upsert, ids=[GENERATION_ID], embeddings=[[1.0]], documents=["generation"],
                       metadatas=[{"token": uuid.uuid4().hex, "at": time.time()}])

    def commit_document(self, record: DocumentRecord) -> None:
        """Make ``record.version`` the live version of its document (one atomic upsert)."""
        self._write_registry(record.doc_id, record.to_metadata(), record.source)

    def remove_document(self, doc_id: str) -> int:
        """Erase a document: a tombstone first (invisible at once, to every process), then all its chunks,
        then the tombstone. A crash in between leaves a tombstone and orphans for :meth:`collect_orphans`."""
        _, docs = self._collections()
        self._write_registry(doc_id, {"removed": True, "version": None}, doc_id)
        removed = self.delete_chunks(doc_id)
        self._call(docs.delete, ids=[doc_id])
        return removed

    # -- chunks ----------------------------------------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        col, _ = self._collections()
        if embeddings.shape != (len(chunks), self.dim):
            raise ValueError(f"expected {len(chunks)}x{self.dim} embeddings, got {embeddings.shape}")
        for i in range(0, len(chunks), _WRITE_BATCH):
            part = chunks[i : i + _WRITE_BATCH]
            self._call(
                col.upsert,
                ids=[c.id for c in part],
                embeddings=embeddings[i : i + _WRITE_BATCH].tolist(),
                documents=[c.text for c in part],
                metadatas=[chunk_to_metadata(c) for c in part],
            )

    def delete_chunks(self, doc_id: str, keep_version: str | None = None) -> int:
        col, _ = self._collections()
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_version:
            where = {"$and": [{"doc_id": doc_id}, {"version": {"$ne": keep_version}}]}
        ids = self._call(col.get, where=where, include=[])["ids"]
        for i in range(0, len(ids), _WRITE_BATCH):
            self._call(col.delete, ids=ids[i : i + _WRITE_BATCH])
        return len(ids)

    def delete_chunk_ids(self, ids: Sequence[str]) -> None:
        col, _ = self._collections()
        for i in range(0, len(ids), _WRITE_BATCH):
            self._call(col.delete, ids=list(ids[i : i + _WRITE_BATCH]))

    def collect_orphans(self) -> int:
        """Delete chunks whose version is not live (left by a crash or an interrupted update)."""
        col, docs = self._collections()
        registry = self._registry()
        live = {i: m.get("version") for i, m in registry.items() if not m.get("removed")}
        got = self._call(col.get, include=["metadatas"])
        orphans = [
            cid
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True)
            if live.get(str(meta.get("doc_id"))) != meta.get("version")
        ]
        for i in range(0, len(orphans), _WRITE_BATCH):
            self._call(col.delete, ids=orphans[i : i + _WRITE_BATCH])
        self.ensure_generation()
        tombstones = [i for i, m in registry.items() if m.get("removed")]
        if tombstones:
            self._call(docs.delete, ids=tombstones)
        if orphans:
            log.info("removed %d orphaned chunks", len(orphans))
        return len(orphans)

    def live_chunks(self, docs: dict[str, DocumentRecord] | None = None) -> list[Chunk]:
        """All chunks of live document versions (the lexical index is derived from these)."""
        col, _ = self._collections()
        docs = self.documents() if docs is None else docs
        live = {d.doc_id: d.version for d in docs.values()}
        out: list[Chunk] = []
        page, offset = 5000, 0
        while True:
            got = self._call(col.get, include=["documents", "metadatas"], limit=page, offset=offset)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                if live.get(str(meta.get("doc_id"))) == meta.get("version"):
                    out.append(chunk_from_record(cid, text, meta))
            if len(got["ids"]) < page:
                break
            offset += page
        out.sort(key=lambda c: (c.source, c.chunk_index))
        return out

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        col, _ = self._collections()
        got = self._call(col.get, where={"doc_id": doc_id}, include=["documents", "metadatas"])
        chunks = [chunk_from_record(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(chunks, key=lambda c: c.chunk_index)

    def nearest_ids(
        self,
        embedding: np.ndarray,
        k: int,
        *,
        live: dict[str, str],
        where: dict[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the nearest live chunks, best first.

        Ids and distances only: reading texts and metadata for the candidates costs ten times the search
        itself (measured: 17 vs 1.4 ms at 10,000 chunks); callers that hold the live chunks look them up.
        The version check reads the id (``<doc_id>:<version>:<index>``).
        """
        if not live:
            return []
        col, _ = self._collections()
        got = self._call(
            col.query,
            query_embeddings=[embedding.tolist()],
            n_results=max(k * 2, k + 10),  # over-fetch: stale versions exist only briefly during an ingest
            where=where or None,
            include=["distances"],
        )
        out: list[tuple[str, float]] = []
        for cid, dist in zip(got["ids"][0], got["distances"][0], strict=True):
            doc_id, version, _ = cid.rsplit(":", 2)
            if live.get(doc_id) == version:
                out.append((cid, 1.0 - float(dist)))
                if len(out) == k:
                    break
        return out

    def count(self) -> int:
        col, _ = self._collections()
        return int(self._call(col.count))

    def ping(self) -> float:
        """Round-trip time of a cheap call in seconds; raises StoreUnavailableError."""
        start = time.perf_counter()
        self.count()
        return time.perf_counter() - start
