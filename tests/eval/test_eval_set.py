"""The evaluation set cannot rot: every source exists and every phrase occurs where the set says."""

from __future__ import annotations

import json
from functools import cache

import pytest

from assistant.evaluation import norm
from ingest.loaders import load_file
from tests.conftest import CORPUS, EVAL_DIR

QUESTIONS = [
    json.loads(line) for line in (EVAL_DIR / "questions.jsonl").read_text(encoding="utf-8").splitlines()
]
ANSWERABLE = [q for q in QUESTIONS if q.get("kind") != "out_of_scope"]


@cache
def _pages(source: str) -> dict[int | None, str]:
    doc = load_file(CORPUS / source)
    pages: dict[int | None, list[str]] = {}
    for block in doc.blocks:
        pages.setdefault(block.page, []).append(block.text)
        pages.setdefault(-1, []).append(block.text)
    return {page: norm(" ".join(texts)) for page, texts in pages.items()}


def test_set_has_the_promised_shape() -> None:
    kinds = [q.get("kind") for q in QUESTIONS]
    assert len(ANSWERABLE) >= 100
    assert kinds.count("out_of_scope") >= 20
    assert sum(q.get("category") == "near_miss" for q in QUESTIONS) >= 10  # share words with corpus/
    assert kinds.count("followup") >= 10
    assert {"paraphrase", "compound", "abbreviation"} <= set(kinds)
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS), "ids must be unique"
    assert all(q.get("page") for q in ANSWERABLE if q["source"].endswith(".pdf"))
    assert all(q.get("history") and q.get("standalone") for q in QUESTIONS if q.get("kind") == "followup")


@pytest.mark.parametrize("item", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_expected_phrase_is_in_its_source(item: dict) -> None:
    assert (CORPUS / item["source"]).is_file(), f"missing source {item['source']}"
    pages = _pages(item["source"])
    where = item["page"] if item.get("page") else -1
    assert norm(item["phrase"]) in pages.get(where, ""), (
        f"{item['id']}: phrase not on page {item.get('page')}"
    )
