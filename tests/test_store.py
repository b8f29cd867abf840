"""The registry's generation token, tombstoned removals and update semantics, on a real embedded Chroma.

Vectors are tiny and hand-made: these tests are about bookkeeping, not similarity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.store import GENERATION_ID, ChromaStore, DocumentRecord
from assistant.types import Chunk

DIM = 3


def _record(doc_id: str, version: str, **extra: object) -> DocumentRecord:
    base = dict(doc_id=doc_id, version=version, source=f"{doc_id}.md", root="r", title=f"Titel {doc_id}",
                suffix=".md", content_sha256="0" * 64, chunk_count=2, ingested_at="2026-11-25T00:00:00")
    return DocumentRecord(**(base | extra))  # type: ignore[arg-type]


def _chunks(doc_id: str, version: str, n: int = 2) -> list[Chunk]:
    return [Chunk(id=f"{doc_id}:{version}:{i:05d}", doc_id=doc_id, version=version, text=f"Text {doc_id} {i}",
                  source=f"{doc_id}.md", title="t", page=None, section="", chunk_index=i, char_start=0,
                  char_end=5) for i in range(n)]


def _add(store: ChromaStore, doc_id: str, version: str, direction: list[float]) -> None:
    chunks = _chunks(doc_id, version)
    store.add_chunks(chunks, np.asarray([direction] * len(chunks), dtype=np.float32))
    store.commit_document(_record(doc_id, version))


@pytest.fixture
def store(tmp_path: Path) -> ChromaStore:
    return ChromaStore("test-model", DIM, path=tmp_path / "chroma")


def test_generation_moves_with_every_commit_and_removal(store: ChromaStore) -> None:
    assert store.generation() == ""
    _add(store, "aaaa", "v1", [1, 0, 0])
    first = store.generation()
    assert first
    _add(store, "bbbb", "v1", [0, 1, 0])
    second = store.generation()
    assert second != first
    store.remove_document("aaaa")
    assert store.generation() not in (first, second)
    assert GENERATION_ID not in store.documents() and set(store.documents()) == {"bbbb"}


def test_another_client_sees_the_new_generation(store: ChromaStore, tmp_path: Path) -> None:
    reader = ChromaStore("test-model", DIM, path=tmp_path / "chroma")
    _add(store, "aaaa", "v1", [1, 0, 0])
    before = reader.generation()
    _add(store, "aaaa", "v2", [1, 0, 0])
    assert reader.generation() != before


def test_nearest_ids_only_returns_live_versions(store: ChromaStore) -> None:
    _add(store, "aaaa", "v1", [1, 0, 0])
    store.add_chunks(_chunks("aaaa", "v2"), np.asarray([[1, 0, 0]] * 2, dtype=np.float32))  # not committed
    live = {d.doc_id: d.version for d in store.documents().values()}
    got = store.nearest_ids(np.asarray([1, 0, 0], dtype=np.float32), 5, live=live)
    assert [cid for cid, _ in got] and all(":v1:" in cid for cid, _ in got)
    assert got[0][1] == pytest.approx(1.0, abs=1e-5)
    assert store.nearest_ids(np.asarray([1, 0, 0], dtype=np.float32), 5, live={}) == []


def test_removal_is_a_tombstone_until_the_chunks_are_gone(store: ChromaStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A crash after the tombstone hides the document everywhere; the next orphan collection finishes the job."""
    _add(store, "aaaa", "v1", [1, 0, 0])
    _add(store, "bbbb", "v1", [0, 1, 0])

    def crash(*args: object, **kwargs: object) -> int:
        raise RuntimeError("killed")

    monkeypatch.setattr(store, "delete_chunks", crash)
    with pytest.raises(RuntimeError):
        store.remove_document("aaaa")
    monkeypatch.undo()
    assert set(store.documents()) == {"bbbb"}
    live = {d.doc_id: d.version for d in store.documents().values()}
    hits = store.nearest_ids(np.asarray([1, 0, 0], dtype=np.float32), 10, live=live)
    assert all(not cid.startswith("aaaa:") for cid, _ in hits)
    assert store.collect_orphans() == 2
    assert store.count() == 2
    _, registry = store._collections()
    assert set(registry.get(include=[])["ids"]) == {"bbbb", GENERATION_ID}, "the tombstone is cleaned up"


def test_readding_a_removed_document_is_live_again(store: ChromaStore) -> None:
    _add(store, "aaaa", "v1", [1, 0, 0])
    store.remove_document("aaaa")
    _add(store, "aaaa", "v2", [1, 0, 0])
    assert store.documents()["aaaa"].version == "v2"


def test_update_clears_fields_that_became_empty(store: ChromaStore) -> None:
    """Chroma's upsert merges metadata; a publisher or topics removed from the manifest must not linger."""
    store.commit_document(_record("aaaa", "v1", publisher="Stadt X", year=2024, topics=["finanzierung"]))
    store.commit_document(_record("aaaa", "v2"))
    record = store.documents()["aaaa"]
    assert (record.version, record.publisher, record.year, record.topics) == ("v2", "", None, [])


def test_an_index_from_before_generation_tokens_gets_one_on_the_next_ingest(store: ChromaStore) -> None:
    _add(store, "aaaa", "v1", [1, 0, 0])
    _, registry = store._collections()
    registry.delete(ids=[GENERATION_ID])  # as written by an older version
    assert store.generation() == ""
    store.collect_orphans()  # every ingest run starts with it
    assert store.generation() and set(store.documents()) == {"aaaa"}
