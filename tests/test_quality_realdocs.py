"""Quality floors on the real documents (../shared/realdocs), so retrieval regressions on real text fail CI.

The floors sit a little below what the whole search measured when they were set (2026-12-04, convex fusion,
index of every file in ../shared/realdocs, k=10): development split hit@5 0.820 / 0.839, MRR@10 0.694 / 0.713
(chunker c1 / c2), answerable questions refused 0.0 / 0.005; held-apart test split hit@5 0.825 / 0.825,
MRR@10 0.737 / 0.774. Raised 2026-12-05 (chunker c4, dense-only confidence): dev hit@5 0.885, MRR@10 0.778,
refused 0.018, out-of-scope declined 0.86; test hit@5 0.85, MRR@10 0.75. The issue's targets (test split
hit@5 0.95, MRR@10 0.85) are tracked in ``python -m benchmarks quality``, not here. Settings are chosen on the
development split only; the test split is only measured.

The index is the session's real-document index (``realdocs_index_dir`` in tests/conftest.py, shared with the
ingest tests): every document of ../shared/realdocs, without the collection's README/SOURCES/LICENSE files.
"""

from __future__ import annotations

from typing import Any

import pytest

from assistant.evaluation import answer_row, is_hit, load_questions
from tests.conftest import EVAL_DIR

pytestmark = pytest.mark.slow

FILES = [EVAL_DIR / "realdocs_dev_pdf.jsonl", EVAL_DIR / "realdocs_dev_pages.jsonl"]


@pytest.fixture(scope="module")
def real_services(realdocs_services):  # type: ignore[no-untyped-def]
    return realdocs_services


def measure(services: Any, split: str) -> dict[str, float]:
    items = [q for f in FILES for q in load_questions(f) if q["split"] == split]
    chat = services.chat
    ranks: list[int | None] = []
    refused: list[bool] = []
    declined: list[bool] = []
    rows: list[dict[str, Any]] = []
    for item in items:
        if item["kind"] == "out_of_scope":
            declined.append(chat.answer(item["question"]).abstained)
            continue
        hits = chat.search(item["question"], [], k=10).hits
        ranks.append(next((r for r, h in enumerate(hits, start=1) if is_hit(h, item)), None))
        answer = chat.answer(item["question"])
        refused.append(answer.abstained)
        rows.append(answer_row(item, True, answer))
    n = len(ranks)
    with_phrase = [r for r in rows if r["has_phrase"]]
    return {
        "n": n,
        "phrase_in_answer": sum(r["in_answer"] for r in with_phrase) / len(with_phrase),
        "phrase_in_first_quote": sum(r["in_first_quote"] for r in with_phrase) / len(with_phrase),
        "non_prose": sum(r["non_prose"] for r in rows),
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r is not None) / n,
        "refused": sum(refused) / n,
        "declined": sum(declined) / max(1, len(declined)),
    }


def test_development_split_floors(real_services) -> None:  # type: ignore[no-untyped-def]
    m = measure(real_services, "dev")
    assert m["n"] >= 200, m
    assert m["hit@5"] >= 0.85, m
    assert m["mrr@10"] >= 0.74, m
    assert m["refused"] <= 0.03, m  # answerable questions must not be refused (issue: 22% on the fact sheets)
    assert m["declined"] >= 0.8, m  # out of scope, German and English (0.55 before the dense-only confidence)
    # The extractive answer (issue 13): expected phrase in the answer / in its first quote, measured
    # 0.719-0.723/0.571-0.585 (0.654/0.521 before the fitted sentence weights and whole-list quotes), 0.728/0.594
    # with slides quoted whole; no quote that is mostly URL or code.
    assert m["phrase_in_answer"] >= 0.70, m
    assert m["phrase_in_first_quote"] >= 0.56, m
    assert m["non_prose"] == 0, m


def test_test_split_floors(real_services) -> None:  # type: ignore[no-untyped-def]
    m = measure(real_services, "test")
    assert m["n"] >= 35, m
    assert m["hit@5"] >= 0.8, m
    assert m["mrr@10"] >= 0.7, m
    # Measured once, with the settings chosen on the dev split: 0.625/0.475 (0.50/0.375 before issue 13's work).
    assert m["phrase_in_answer"] >= 0.55, m
    assert m["phrase_in_first_quote"] >= 0.42, m
    assert m["non_prose"] == 0, m


def test_english_questions_find_what_their_german_originals_find(real_services) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, part 3: English translations of real questions retrieve within 0.05 of their German versions.

    Measured (both splits, 58 pairs; ``python -m benchmarks english``): German hit@5 0.966, English 0.931 (gap
    0.035; 0.052 before 'Fazit', 'Zuschlag' and 'Vorzeigedatensätze' were added to the lexicon).
    """
    german = {q["id"]: q for f in FILES for q in load_questions(f)}
    pairs = [q for q in load_questions(EVAL_DIR / "english.jsonl") if q["set"] == "real"]
    assert len(pairs) >= 50
    hits = {"en": 0, "de": 0}
    for en in pairs:
        for lang, item in (("en", en), ("de", german[en["de_id"]])):
            found = real_services.chat.search(item["question"], [], k=5).hits[:5]
            hits[lang] += any(is_hit(h, item) for h in found)
    en_rate, de_rate = hits["en"] / len(pairs), hits["de"] / len(pairs)
    assert en_rate >= 0.9, (en_rate, de_rate)
    assert de_rate - en_rate <= 0.05, (en_rate, de_rate)
