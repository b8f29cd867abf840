"""Fit the weights of the extractive answer's sentence features (``assistant.extractive.WEIGHTS``).

``python -m benchmarks answer_weights --real-index DIR [--sample-index DIR]`` (indexes built with ``lotse ingest``;
nothing is ingested here).

Only the **development split** of the real-document questions (``tests/eval/realdocs_dev_*.jsonl``,
``"split": "dev"``) is used to fit; the test split is never read. For each answerable question the passages are
retrieved as the chat does (``ChatService.search``), every candidate sentence gets its features
(``assistant.extractive.sentence_features``) and the label "holds the expected phrase". The model is a
conditional logit (a softmax over the candidates of one question, fitted by gradient descent with a small L2
penalty): it asks directly for the first quote to be the one that holds the phrase. The weights are printed
scaled so that ``overlap`` weighs 1, the scale the quote selection's cut-offs were set on.

Printed, for the weights in the code and for the fitted ones: how often the best-scored candidate holds
the phrase (top-1), on the questions used for fitting, under 5-fold cross-validation by source document (a
document's questions are never fitted and scored together), and on the sample set when its index is given (not
fitted on: a check that the weights carry over to other documents).
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import EVAL_DIR, bench_settings, embedder, progress

REAL = [EVAL_DIR / "realdocs_dev_pdf.jsonl", EVAL_DIR / "realdocs_dev_pages.jsonl"]
SAMPLE = [EVAL_DIR / "questions.jsonl"]
L2 = 0.01
STEPS = 3000
FOLDS = 5

Group = tuple[str, np.ndarray, np.ndarray]  # (source document, features [n, f], labels [n])


def groups(index: Path, files: list[Path], split: str | None) -> list[Group]:
    """One group per answerable question with a phrase and at least one candidate holding it."""
    from assistant.evaluation import load_questions, norm
    from assistant.extractive import WEIGHTS, sentence_features
    from assistant.services import build_services

    services = build_services(bench_settings(index), embedder())
    chat, analyzer = services.chat, services.retriever.analyzer
    keys = list(WEIGHTS)
    out: list[Group] = []
    items = [q for f in files for q in load_questions(f) if split is None or q.get("split") == split]
    for item in items:
        if item.get("kind") == "out_of_scope" or not item.get("phrase") or item.get("history"):
            continue
        retrieval = chat.search(item["question"], [])
        query = f"{item['question']} {retrieval.translated}".strip()
        candidates = sentence_features(query, retrieval.hits, analyzer)
        phrase = norm(item["phrase"])
        labels = [
            phrase in norm(p.sentence.text) or (len(p.sentence.text) > 20 and norm(p.sentence.text) in phrase)
            for p, _ in candidates
        ]
        if any(labels):
            x = np.array([[f[k] for k in keys] for _, f in candidates], dtype=float)
            out.append((item["source"], x, np.array(labels, dtype=float)))
    progress(f"{index}: {len(out)} of {len(items)} questions have a candidate sentence holding the phrase")
    return out


def fit(data: list[Group], dims: int) -> np.ndarray:
    """Conditional logit: maximise the log-probability of the phrase-holding candidates within each question."""
    w = np.zeros(dims)
    w[0] = 1.0  # overlap, the old score's main term
    m, v = np.zeros(dims), np.zeros(dims)
    for step in range(1, STEPS + 1):
        grad = 2 * L2 * w
        for _, x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            target = y / y.sum()
            grad -= (target - p) @ x / len(data)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w


def top1(data: list[Group], w: np.ndarray) -> float:
    return round(sum(y[int(np.argmax(x @ w))] > 0 for _, x, y in data) / max(1, len(data)), 3)


def cross_validated(data: list[Group], dims: int) -> float:
    sources = sorted({g[0] for g in data})
    random.Random(0).shuffle(sources)
    fold_of = {s: i % FOLDS for i, s in enumerate(sources)}
    hits = 0
    for k in range(FOLDS):
        train = [g for g in data if fold_of[g[0]] != k]
        held = [g for g in data if fold_of[g[0]] == k]
        w = fit(train, dims)
        hits += sum(y[int(np.argmax(x @ w))] > 0 for _, x, y in held)
    return round(hits / max(1, len(data)), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks answer_weights", description=__doc__)
    parser.add_argument("--real-index", type=Path, required=True, help="index of ../shared/realdocs")
    parser.add_argument("--sample-index", type=Path, help="index of corpus/ (checked, never fitted on)")
    args = parser.parse_args(argv)

    from assistant.extractive import WEIGHTS

    keys = list(WEIGHTS)
    current = np.array([WEIGHTS[k] for k in keys])
    dev = groups(args.real_index, REAL, "dev")
    sample = groups(args.sample_index, SAMPLE, None) if args.sample_index else []
    w = fit(dev, len(keys))
    w = w / w[0] if w[0] > 0 else w
    rows: dict[str, Any] = defaultdict(dict)
    rows["in code"] = {"real dev": top1(dev, current), "real dev (5-fold CV)": "-", "sample": top1(sample, current)}
    rows["fitted"] = {
        "real dev": top1(dev, w),
        "real dev (5-fold CV)": cross_validated(dev, len(keys)),
        "sample": top1(sample, w),
    }
    print("top-1 (the best-scored candidate holds the expected phrase):")
    for name, r in rows.items():
        print(f"  {name:10s} " + "  ".join(f"{k} {v}" for k, v in r.items()))
    print("fitted weights (overlap = 1):")
    print("  " + ", ".join(f'"{k}": {v:.3f}' for k, v in zip(keys, w, strict=True)))
    return 0
