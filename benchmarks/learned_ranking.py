"""Would a small learned combination of cheap features rank passages better than the fusion? (issue 12)

``python -m benchmarks learned_ranking --real-index DIR [--sample-index DIR]`` (indexes built with ``lotse
ingest``; nothing is ingested here).

For each answerable development question of the real documents (``"split": "dev"``; the test split is never
read) the fusion's 30 best passages (before diversification) get cheap features: the fused score and rank, the
dense and BM25 scores and ranks, the share of the question's terms in the passage and in its section path and
title, the question's numbers found in the passage, and whether it holds the kind of expression the question
asks for (a date for "wann"). A conditional logit over each question's candidates (the same fit as
``benchmarks.answer_weights``) learns their weights. Printed: hit@5 and MRR@10 after diversification, for the
fusion as it is and for the learned ranking (5-fold cross-validation by source document on the dev split,
and fitted on all of it for the sample set, which it never sees). The issue asks for it only if it wins.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.answer_weights import REAL, SAMPLE, fit
from benchmarks.common import bench_settings, embedder, progress

CANDIDATES = 30
FOLDS = 5
_NUMBER = re.compile(r"\d[\d.,]*")

Question = tuple[str, np.ndarray, np.ndarray, list[Any]]  # (source, features, labels, fused candidates)


def questions(index: Path, files: list[Path], split: str | None) -> tuple[list[Question], Any]:
    from assistant.answer_types import answer_strength, asked_for
    from assistant.evaluation import is_hit, load_questions
    from assistant.retrieval.hybrid import with_neighbours
    from assistant.services import build_services
    from assistant.types import ScoredChunk

    services = build_services(bench_settings(index), embedder())
    retriever = services.retriever
    snap = retriever.snapshot()
    analyzer = retriever.analyzer
    out: list[Question] = []
    for item in (q for f in files for q in load_questions(f) if split is None or q.get("split") == split):
        if item.get("kind") == "out_of_scope" or not item.get("source") or item.get("history"):
            continue
        query = item["question"]
        translated = retriever.translate(query)
        dense = retriever.dense(query, retriever.candidates)
        lexical = retriever.lexical(query, retriever.candidates, translated=translated)
        fused = retriever._fusion_for(query, "", translated).fuse(dense, lexical)[:CANDIDATES]
        dense_at = {h.chunk.id: (i, h.score) for i, h in enumerate(dense)}
        lexical_at = {h.chunk.id: (i, h.score) for i, h in enumerate(lexical)}
        best_lexical = max((h.score for h in lexical), default=1.0) or 1.0
        terms = set(analyzer.analyze(f"{query} {translated}"))
        numbers = set(_NUMBER.findall(query))
        kind, _ = asked_for(query)
        rows, labels = [], []
        for rank, hit in enumerate(fused):
            c = hit.chunk
            d_rank, d_score = dense_at.get(c.id, (99, 0.0))
            l_rank, l_score = lexical_at.get(c.id, (99, 0.0))
            heading = set(analyzer.analyze(f"{c.section} {c.title or ''}"))
            rows.append(
                [
                    hit.score,
                    1 / (1 + rank),
                    d_score,
                    1 / (1 + d_rank),
                    l_score / best_lexical,
                    1 / (1 + l_rank),
                    len(terms & set(analyzer.analyze(c.text))) / max(1, len(terms)),
                    len(terms & heading) / max(1, len(terms)),
                    sum(n in c.text for n in numbers) / len(numbers) if numbers else 0.0,
                    answer_strength(kind, c.text) if kind in ("date", "amount", "duration", "frequency") else 0.0,
                ]
            )
            labels.append(float(is_hit(ScoredChunk(with_neighbours(c, snap.by_position), hit.score), item)))
        out.append((item["source"], np.array(rows), np.array(labels), fused))
    progress(f"{index}: {len(out)} questions")
    return out, retriever


def ranks(data: list[Question], retriever: Any, weights: np.ndarray | None) -> list[int | None]:
    """Rank (0-based) of the first hit after diversification, per question; None when it is not in the top 10."""
    from assistant.types import ScoredChunk

    out: list[int | None] = []
    for _, x, y, fused in data:
        order = np.argsort(-(x @ weights), kind="stable") if weights is not None else np.arange(len(fused))
        ranked = [ScoredChunk(fused[i].chunk, float(len(order) - n)) for n, i in enumerate(order)]
        label = {fused[i].chunk.id: y[i] for i in range(len(fused))}
        kept = retriever._diversify(ranked, 10)
        out.append(next((n for n, h in enumerate(kept) if label[h.chunk.id] > 0), None))
    return out


def summary(rs: list[int | None]) -> str:
    hit5 = sum(r is not None and r < 5 for r in rs) / max(1, len(rs))
    mrr = sum(1 / (r + 1) for r in rs if r is not None) / max(1, len(rs))
    return f"hit@5 {hit5:.3f}  MRR@10 {mrr:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks learned_ranking", description=__doc__)
    parser.add_argument("--real-index", type=Path, required=True, help="index of ../shared/realdocs")
    parser.add_argument("--sample-index", type=Path, help="index of corpus/ (checked, never fitted on)")
    args = parser.parse_args(argv)

    dev, retriever = questions(args.real_index, REAL, "dev")
    trainable = [(s, x, y) for s, x, y, _ in dev if y.sum() > 0]
    dims = dev[0][1].shape[1]
    sources = sorted({q[0] for q in dev})
    random.Random(0).shuffle(sources)
    fold = {s: i % FOLDS for i, s in enumerate(sources)}
    cross: list[int | None] = []
    for k in range(FOLDS):
        w = fit([g for g in trainable if fold[g[0]] != k], dims)
        cross += ranks([q for q in dev if fold[q[0]] == k], retriever, w)
    weights = fit(trainable, dims)
    print(f"real dev, fusion as it is:          {summary(ranks(dev, retriever, None))}")
    print(f"real dev, learned (5-fold CV):      {summary(cross)}")
    if args.sample_index:
        sample, sample_retriever = questions(args.sample_index, SAMPLE, None)
        print(f"sample, fusion as it is:            {summary(ranks(sample, sample_retriever, None))}")
        print(f"sample, learned (fitted on real):   {summary(ranks(sample, sample_retriever, weights))}")
    return 0
