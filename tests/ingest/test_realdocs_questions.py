"""tests/eval/realdocs.jsonl: every phrase occurs on its page of the cleaned real document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "realdocs.jsonl"


def _questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _collapse(text: str) -> str:
    return " ".join(text.split())


def test_question_file_shape():
    questions = _questions()
    assert len(questions) == 45
    assert [q["id"] for q in questions] == [f"real-{i:03d}" for i in range(1, 46)]
    sources = {q["source"] for q in questions}
    assert len(sources) == 7  # all seven fact sheets
    for q in questions:
        assert set(q) == {"id", "kind", "question", "source", "page", "phrase"}
        assert q["kind"] in {"factual", "paraphrase", "compound"}
        assert q["source"].startswith("best-practice-smart-city/") and q["source"].endswith(".pdf")
        assert isinstance(q["page"], int) and q["page"] >= 1
        assert 3 <= len(q["phrase"].split()) <= 8
        assert q["question"].endswith("?")
    assert sum(q["kind"] == "paraphrase" for q in questions) >= 25
    pages = {(q["source"], q["page"]) for q in questions}
    assert len(pages) == 16  # every page (16) of every fact sheet is asked about


@pytest.mark.parametrize("question", _questions(), ids=lambda q: q["id"])
def test_phrase_occurs_on_its_page(question, realdocs_dir, loaded_fact_sheets):
    path = realdocs_dir / question["source"]
    assert path.is_file()
    doc = loaded_fact_sheets[path.name]
    page_text = _collapse(" ".join(b.text for b in doc.blocks if b.page == question["page"]))
    assert _collapse(question["phrase"]) in page_text
