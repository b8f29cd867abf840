"""Quality floors on the evaluation set, so regressions fail CI.

The floors sit a little below what `lotse eval tests/eval/questions.jsonl` measured when they were set
(2026-12-04, convex fusion: hit@5 0.921, MRR@10 0.756, out-of-scope abstention 0.93, answerable abstention
0.016; follow-ups 0.923, equal to their standalone rewrites); the issue targets are tracked in the
benchmarks, not here. The real documents have their own floors in tests/test_quality_realdocs.py.
"""

from __future__ import annotations

import pytest

from assistant.evaluation import run_eval
from tests.conftest import EVAL_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(corpus_services):  # type: ignore[no-untyped-def]
    return run_eval(corpus_services, EVAL_DIR / "questions.jsonl", k=10, answers=True)


def test_retrieval_floors(report) -> None:  # type: ignore[no-untyped-def]
    r = report["retrieval"]
    assert r["hit@5"] >= 0.88, r
    assert r["mrr@10"] >= 0.72, r
    assert report["by_kind"]["compound"]["hit@5"] >= 0.8


def test_followups_retrieve_like_standalone(report) -> None:  # type: ignore[no-untyped-def]
    f = report["followup"]
    assert f["n"] >= 10
    assert f["hit@5"] >= f["standalone_hit@5"], f


def test_abstention_calibration(report) -> None:  # type: ignore[no-untyped-def]
    a = report["abstention"]
    # 0.868 since the ten near-miss questions of da40d8f (ordinary corpus words, no answer in the corpus), with
    # RRF and convex fusion alike; 0.93 on the 28 earlier out-of-scope questions.
    assert a["out_of_scope_abstained"] >= 0.85, a
    assert a["answerable_abstained"] < 0.05, a


def test_answers_are_cited_and_verbatim(report) -> None:  # type: ignore[no-untyped-def]
    assert report["answers"]["citations_valid"] == 1.0
    # Every extractive answer quotes only sentences that occur in the cited passage.
    assert report["answers"]["sentences_verbatim"] == 1.0, report["answers"]


def test_answers_carry_the_expected_statement(report) -> None:  # type: ignore[no-untyped-def]
    # Measured 0.632 with four quotes (0.584 before section headings and the previous sentence counted as context);
    # 0.600-0.611 since answers are short by default (three quotes; the same selection with four: 0.647).
    # 0.684/0.537-0.542 (answer / first quote) since the sentence weights were fitted on the real dev split and
    # lists are quoted whole (issue 13; 0.658/0.526 before).
    a = report["answers"]
    assert a["phrase_in_answer"] >= 0.65, a
    # The answer leads: measured 0.437-0.453 in the first quote (0.237 before answer-type ranking).
    assert a["phrase_in_first_quote"] >= 0.5, a
    assert a["quotes_per_answer"] <= 3 and a["non_prose_quotes"] == 0, a
