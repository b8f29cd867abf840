"""Search latency at 10,000 and 100,000 chunks: the whole search and a bare Chroma query, in one run.

Measured per size, on a synthetic index (see :mod:`benchmarks.synthetic`) opened like the app opens it
(``build_services``):

* cold start: the first ``HybridRetriever.snapshot()`` (registry, all chunks from Chroma, BM25 build), broken
  down by timing the store calls and the BM25 build phases from the outside;
* ``HybridRetriever.retrieve(q, k=5)``: what ``lotse search`` does (glossary expansion, freshness check, query
  embedding, Chroma query, BM25, fusion, diversification, confidence), with its own stage timings;
* the parts alone: ``embed_query``, ``ChromaStore.query`` with a precomputed vector, ``lexical``;
* bare ``collection.query`` with a precomputed query vector (k=10, ids and distances), plus the variant the store
  issues (100 results with documents and metadata), which shows where Chroma's time goes.

Queries: the questions of tests/eval/questions.jsonl (first ``queries``), after a warm-up of 20.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.evaluation import percentile
from benchmarks.common import (
    EVAL_DIR,
    bench_settings,
    embedder,
    machine,
    progress,
    save_result,
    table,
)
from benchmarks.synthetic import build_stats, synthetic_index

SIZES = (10_000, 100_000)
TARGET_P95_MS = {10_000: 50.0, 100_000: 150.0}
WARMUP = 20
K = 5


def questions(n: int) -> list[str]:
    from assistant.evaluation import load_questions

    texts = list(dict.fromkeys(q["question"] for q in load_questions(EVAL_DIR / "questions.jsonl")))
    return texts[:n]


def index_for(size: int, *, rebuild: bool = False) -> Path:
    """The cached synthetic index of ``size`` chunks (sizes above 10,000 grow from the 10,000 one)."""
    base = 10_000 if size > 10_000 else None
    return synthetic_index(size, base=base, rebuild=rebuild)


def stats(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(ms), 2),
        "p95": round(percentile(ms, 95), 2),
        "max": round(max(ms), 2),
        "n": len(ms),
    }


def timed(fn: Callable[[], Any], repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


@contextlib.contextmanager
def _clock(events: dict[str, float], obj: Any, name: str, label: str) -> Iterator[None]:
    """Record when ``obj.name`` is entered and left (a timer put around library code, not a change to it)."""
    original = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        events[f"{label}_enter"] = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            events[f"{label}_exit"] = time.perf_counter()

    setattr(obj, name, wrapper)
    try:
        yield
    finally:
        if isinstance(obj, type):
            setattr(obj, name, original)
        else:
            delattr(obj, name)  # back to the class attribute


def cold_start(services: Any) -> dict[str, float]:
    """Time the first snapshot and split it into registry, Chroma paging, chunk objects and the BM25 phases."""
    import bm25s

    store, retriever = services.store, services.retriever
    events: dict[str, float] = {}
    chroma_gets: list[float] = []
    call = store._call

    def timed_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return call(fn, *args, **kwargs)
        finally:
            if getattr(fn, "__name__", "") == "get" and "offset" in kwargs:
                chroma_gets.append(time.perf_counter() - t0)

    store._call = timed_call  # type: ignore[method-assign]
    try:
        with (
            _clock(events, store, "documents", "documents"),
            _clock(events, store, "live_chunks", "live_chunks"),
            _clock(events, retriever.analyzer, "learn_vocabulary", "learn"),
            _clock(events, bm25s.BM25, "index", "bm25s_index"),
        ):
            t0 = time.perf_counter()
            snapshot = retriever.snapshot()
            total = time.perf_counter() - t0
    finally:
        del store._call
    t_end = t0 + total
    out = {
        "chunks": len(snapshot.retriever) if snapshot.retriever else 0,
        "total_s": total,
        "registry_s": events["documents_exit"] - events["documents_enter"],
        "chroma_get_pages": len(chroma_gets),
        "chroma_get_s": sum(chroma_gets),
        "chroma_first_page_s": chroma_gets[0] if chroma_gets else 0.0,
        "chroma_last_page_s": chroma_gets[-1] if chroma_gets else 0.0,
        "chunk_objects_s": (events["live_chunks_exit"] - events["live_chunks_enter"]) - sum(chroma_gets),
    }
    if "learn_enter" in events and "bm25s_index_enter" in events:
        out.update(
            bm25_tokenise_count_s=events["learn_enter"] - events["live_chunks_exit"],
            bm25_learn_vocabulary_s=events["learn_exit"] - events["learn_enter"],
            bm25_analyse_ids_s=events["bm25s_index_enter"] - events["learn_exit"],
            bm25s_index_s=events["bm25s_index_exit"] - events["bm25s_index_enter"],
            bm25_rest_s=t_end - events["bm25s_index_exit"],
        )
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def measure(size: int, queries: list[str], *, rebuild: bool = False) -> dict[str, Any]:
    import numpy as np

    from assistant.services import build_services

    index = index_for(size, rebuild=rebuild)
    model = embedder()
    services = build_services(bench_settings(index), model)
    store, retriever = services.store, services.retriever
    store.ensure_generation()  # indexes cached before generation tokens existed
    count = store.count()
    progress(f"{size}: index has {count} chunks; building the lexical snapshot (cold start)")
    cold = cold_start(services)
    progress(f"{size}: cold start {cold['total_s']:.1f}s; warm-up and {len(queries)} queries")
    vectors = [np.asarray(model.embed_query(q)) for q in queries]
    col = store.collection("chunks")  # the same collection the store queries
    live = retriever.snapshot().live

    for q in queries[:WARMUP]:
        retriever.retrieve(q, k=K)
    # Every `refresh_s` one query checks the registry's generation token (freshness check), inside whichever
    # of the retriever's snapshot() calls crosses the interval, so count those checks per query rather than
    # by stage. A full registry read only follows when the token moved (never here: nothing is ingested).
    checks: list[float] = []
    read_generation = store.generation

    def counted_generation(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return read_generation(*args, **kwargs)
        finally:
            checks.append((time.perf_counter() - t0) * 1000)

    total: list[float] = []
    checked: list[bool] = []
    stages: dict[str, list[float]] = {"snapshot": [], "dense": [], "lexical": []}
    store.generation = counted_generation  # type: ignore[method-assign]
    try:
        for q in queries:
            before = len(checks)
            t0 = time.perf_counter()
            result = retriever.retrieve(q, k=K)
            total.append((time.perf_counter() - t0) * 1000)
            checked.append(len(checks) > before)
            for stage in stages:
                stages[stage].append(result.timings.get(stage, 0.0) * 1000)
    finally:
        del store.generation
    other = [t - sum(stages[s][i] for s in stages) for i, t in enumerate(total)]
    unchecked = [t for t, c in zip(total, checked, strict=True) if not c]

    embed, store_query, lexical = [], [], []
    retriever.refresh_s = float("inf")  # the parts alone without freshness checks
    for q, v in zip(queries, vectors, strict=True):
        embed.append(timed(lambda: model.embed_query(q))[0])  # noqa: B023 - called at once
        store_query.append(timed(lambda: store.nearest_ids(v, retriever.candidates, live=live))[0])  # noqa: B023
        lexical.append(timed(lambda: retriever.lexical(q, retriever.candidates))[0])  # noqa: B023
    bare: dict[str, list[float]] = {}
    variants = {
        "k=10, ids+distances": (10, ["distances"]),
        "k=100, ids+distances": (100, ["distances"]),
        "k=100, +documents+metadatas (as the store)": (100, ["documents", "metadatas", "distances"]),
    }
    for label, (n, include) in variants.items():
        bare[label] = []
        for v in vectors:
            t0 = time.perf_counter()
            col.query(query_embeddings=[v.tolist()], n_results=n, include=include)
            bare[label].append((time.perf_counter() - t0) * 1000)
    registry = timed(store.documents, repeat=5)
    return {
        "size": size,
        "chunks": count,
        "documents": len(live),
        "build": build_stats(index),
        "cold_start": cold,
        "retrieve": stats(total),
        "retrieve_without_check": stats(unchecked) if unchecked else None,
        "retrieve_stages": {**{s: stats(v) for s, v in stages.items()}, "fusion+rest": stats(other)},
        "freshness_checks": {
            "queries_with_check": sum(checked),
            "reads": len(checks),
            "read_ms_median": round(statistics.median(checks), 1) if checks else None,
        },
        "embed_query": stats(embed),
        "store_query": stats(store_query),
        "lexical": stats(lexical),
        "generation_check_ms": stats(timed(store.generation, repeat=20)),
        "chroma_bare": {label: stats(v) for label, v in bare.items()},
        "registry_read_ms": round(statistics.median(registry), 1),
        "candidates": retriever.candidates,
        "target_p95_ms": TARGET_P95_MS.get(size),
    }


def run(sizes: tuple[int, ...] = SIZES, n_queries: int = 200, *, rebuild: bool = False) -> dict[str, Any]:
    queries = questions(n_queries)
    data = {
        "machine": machine(),
        "queries": len(queries),
        "k": K,
        "sizes": [measure(s, queries, rebuild=rebuild) for s in sizes],
    }
    save_result("latency", data)
    return data


def report(data: dict[str, Any]) -> str:
    rows = []
    for m in data["sizes"]:
        size = f"{m['chunks']:,}"
        target = m["target_p95_ms"]
        r = m["retrieve"]
        ok = "" if target is None else ("ok" if r["p95"] <= target else "MISSED")
        rows.append(
            [
                size,
                "HybridRetriever.retrieve (whole search)",
                r["p50"],
                r["p95"],
                f"<= {target:.0f}" if target else "-",
                ok,
            ]
        )
        if m["retrieve_without_check"]:
            u = m["retrieve_without_check"]
            f = m["freshness_checks"]
            rows.append(
                [
                    size,
                    f"  queries without a freshness check ({u['n']} of {r['n']})",
                    u["p50"],
                    u["p95"],
                    "",
                    "",
                ]
            )
            rows.append(
                [
                    size,
                    f"  freshness check = generation token read ({f['queries_with_check']} queries)",
                    f["read_ms_median"] or "-",
                    "",
                    "",
                    "",
                ]
            )
        for stage, s in m["retrieve_stages"].items():
            rows.append([size, f"  stage: {stage}", s["p50"], s["p95"], "", ""])
        rows.append([size, "  alone: embed_query", m["embed_query"]["p50"], m["embed_query"]["p95"], "", ""])
        rows.append(
            [
                size,
                f"  alone: ChromaStore.nearest_ids (k={m['candidates']})",
                m["store_query"]["p50"],
                m["store_query"]["p95"],
                "",
                "",
            ]
        )
        rows.append(
            [
                size,
                f"  alone: lexical (k={m['candidates']})",
                m["lexical"]["p50"],
                m["lexical"]["p95"],
                "",
                "",
            ]
        )
        g = m["generation_check_ms"]
        rows.append([size, "  alone: ChromaStore.generation() (freshness check)", g["p50"], g["p95"], "", ""])
        for label, s in m["chroma_bare"].items():
            rows.append([size, f"bare collection.query {label}", s["p50"], s["p95"], "", ""])
    cold_rows = []
    for m in data["sizes"]:
        c = m["cold_start"]
        cold_rows.append(
            [
                f"{m['chunks']:,}",
                c["total_s"],
                c["registry_s"],
                f"{c['chroma_get_s']:.2f} ({c['chroma_get_pages']})",
                f"{c['chroma_first_page_s']:.2f}/{c['chroma_last_page_s']:.2f}",
                c["chunk_objects_s"],
                c.get("bm25_tokenise_count_s", "-"),
                c.get("bm25_learn_vocabulary_s", "-"),
                c.get("bm25_analyse_ids_s", "-"),
                c.get("bm25s_index_s", "-"),
                m["registry_read_ms"],
                m["build"].get("seconds", "cached"),
            ]
        )
    return "\n".join(
        [
            f"## Search latency in ms ({data['queries']} queries, k={data['k']}, after {WARMUP} warm-up queries)",
            "",
            table(["chunks", "measurement", "p50 ms", "p95 ms", "target p95", ""], rows),
            "",
            "Cold start = first snapshot, in s: registry read; Chroma get() paging (number of pages; first/last "
            "page); building Chunk objects; BM25 build phases (tokenise+count until learn_vocabulary, learning the "
            "compound vocabulary, analyse+term ids until bm25s.index, bm25s.index). Then a full registry read "
            "(needed only when the generation token moved), in ms, and the index build time in s (when built):",
            "",
            table(
                [
                    "chunks",
                    "snapshot s",
                    "registry s",
                    "chroma get s",
                    "page first/last",
                    "chunk objs s",
                    "tokenise s",
                    "vocab s",
                    "analyse s",
                    "bm25s s",
                    "registry ms",
                    "built in s",
                ],
                cold_rows,
            ),
        ]
    )


def main(sizes: tuple[int, ...] = SIZES, n_queries: int = 200, rebuild: bool = False) -> dict[str, Any]:
    data = run(sizes, n_queries, rebuild=rebuild)
    print(report(data), flush=True)
    return data
