"""``python -m benchmarks [quality|latency|memory|all]``: run benchmarks and print their tables (stdout).

``python -m benchmarks load|soak [options]`` runs the load or soak benchmark (see benchmarks/load.py, ``--help``);
they start servers and are not part of ``all``. ``python -m benchmarks conservation`` measures how much of the
real PDFs' text reaches the index (see benchmarks/conservation.py; no embedding). ``python -m benchmarks english
--sample-index DIR --real-index DIR`` compares English and German questions (see benchmarks/english.py). ``python -m benchmarks answer_weights
--real-index DIR`` fits the extractive answer's sentence weights on the real development split; ``python -m
benchmarks learned_ranking --real-index DIR`` tries a learned passage ranking against the fusion.

Progress goes to stderr; results are also written as JSON to ``benchmarks/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from benchmarks.common import machine


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("load", "soak"):
        from benchmarks import load

        return load.main(argv)
    if argv and argv[0] == "english":  # needs indexes built with lotse ingest; see benchmarks/english.py
        from benchmarks import english

        return english.main(argv[1:])
    if argv and argv[0] == "answer_weights":  # fits the extractive answer's weights on the real dev split
        from benchmarks import answer_weights

        return answer_weights.main(argv[1:])
    if argv and argv[0] == "learned_ranking":  # issue 12: a learned combination of cheap ranking features
        from benchmarks import learned_ranking

        return learned_ranking.main(argv[1:])
    if argv and argv[0] == "conservation":  # parsing only, no embedding: minutes, not hours
        from benchmarks import conservation

        conservation.main()
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("which", nargs="?", default="all", choices=["quality", "latency", "memory", "all"])
    parser.add_argument(
        "--sizes", default="10000,100000", help="chunk counts for latency and memory (default: 10000,100000)"
    )
    parser.add_argument("--queries", type=int, default=200, help="timed queries per size (default: 200)")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild cached indexes instead of reusing them"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log the library's INFO messages")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    if not args.verbose:
        import bm25s  # noqa: F401 - it sets its own logger to DEBUG on import; quiet it afterwards

        logging.getLogger("bm25s").setLevel(logging.WARNING)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())

    m = machine()
    print(
        f"# Benchmarks {m['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, "
        f"load average {m['load_avg_1m']} at start; code {m['code']}; Python {m['python']}, "
        f"chromadb {m['chromadb']}\n",
        flush=True,
    )
    started = time.perf_counter()
    if args.which in ("quality", "all"):
        from benchmarks import quality

        quality.main(rebuild=args.rebuild)
        print(flush=True)
    if args.which in ("latency", "all"):
        from benchmarks import latency

        latency.main(sizes, args.queries, rebuild=args.rebuild)
        print(flush=True)
    if args.which in ("memory", "all"):
        from benchmarks import memory

        memory.main(sizes, rebuild=args.rebuild and args.which == "memory")  # reuses latency's indexes
        print(flush=True)
    print(f"(total {time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
