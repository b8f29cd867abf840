"""The real-document development set cannot rot: shapes, splits, and every phrase where the set says it is.

Phrases are checked against the documents themselves (pypdf's text of the page; the raw Markdown/HTML file), not
against our loaders: the set measures what the ingest keeps, so it must not depend on it.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from assistant.evaluation import norm
from tests.conftest import EVAL_DIR, require_realdocs

FILES = ("realdocs_dev_pdf.jsonl", "realdocs_dev_pages.jsonl")
KINDS = {"factual", "paraphrase", "section", "number", "table", "slide", "front_matter", "compound", "out_of_scope"}


def _load() -> list[dict]:
    items = []
    for name in FILES:
        items += [json.loads(line) for line in (EVAL_DIR / name).read_text(encoding="utf-8").splitlines() if line]
    return items


ITEMS = _load()
ANSWERABLE = [q for q in ITEMS if q["kind"] != "out_of_scope"]


@pytest.fixture(scope="module")
def realdocs() -> Path:
    return require_realdocs()


def test_set_has_the_promised_shape() -> None:
    assert len(ITEMS) >= 200 and len({q["id"] for q in ITEMS}) == len(ITEMS)
    kinds = Counter(q["kind"] for q in ITEMS)
    assert set(kinds) <= KINDS and kinds["out_of_scope"] >= 15
    assert sum(kinds[k] for k in ("slide", "table", "front_matter")) >= 30
    assert sum(q["lang"] == "en" for q in ITEMS) >= 20
    splits = Counter(q["split"] for q in ITEMS)
    assert set(splits) == {"dev", "test"} and 0.15 <= splits["test"] / len(ITEMS) <= 0.25
    assert len({q["source"] for q in ANSWERABLE}) >= 25, "every real document is asked about"
    for q in ITEMS:
        assert q["question"].rstrip().endswith("?"), q["id"]
        if q["kind"] == "out_of_scope":
            assert q["source"] is None and q["phrase"] is None
        else:
            assert q["source"] and q["phrase"] and (q["page"] is not None) == q["source"].endswith(".pdf")


@cache
def _pdf(path: Path):  # type: ignore[no-untyped-def]
    """One reader per PDF: opening a large one again for each of its pages cost seconds across the set."""
    import pypdf

    return pypdf.PdfReader(path)


@cache
def _text(path: Path, page: int | None) -> str:
    if path.suffix == ".pdf":
        assert page is not None
        return norm(_pdf(path).pages[page - 1].extract_text() or "")
    return norm(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_phrase_is_on_its_page(item: dict, realdocs: Path) -> None:
    path = realdocs / item["source"]
    assert path.is_file(), f"missing source {item['source']}"
    assert norm(item["phrase"]) in _text(path, item.get("page")), f"{item['id']}: phrase not where the set says"
