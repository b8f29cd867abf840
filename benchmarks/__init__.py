"""Benchmarks of the Lotse, run on demand (``make bench`` = ``python -m benchmarks``), never by pytest.

* :mod:`benchmarks.quality`: hit@1, hit@5 and MRR@10 of the Lotse against the LangChain-tutorial pipeline and
  plain BM25, on the sample corpus and on the real fact sheets.
* :mod:`benchmarks.latency`: p50/p95 of a whole search and of a bare Chroma query at 10,000 and 100,000 chunks.
* :mod:`benchmarks.memory`: resident memory of a fresh process that has the 100,000-chunk index open.

Built indexes are cached under ``benchmarks/.cache/`` (or ``LOTSE_BENCH_CACHE``), keyed by content, so a re-run
only measures. See ``benchmarks/README.md`` for the last measured figures.
"""
