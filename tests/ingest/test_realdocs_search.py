"""Facts that sit in slide titles, table cells and front matter of the real documents are found in the top 5.

Needs the real documents (../shared/realdocs); uses the session's real-document index (``realdocs_services`` in
tests/conftest.py, shared with the quality floors): marked slow.
The cases are in data/realdocs_search.jsonl (short expected phrases only, as the evaluation files have them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CASES = [
    json.loads(line)
    for line in (Path(__file__).with_name("data") / "realdocs_search.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


def _collapse(text: str) -> str:
    return " ".join(text.split())


def test_case_file_shape():
    assert len(CASES) >= 30
    assert len({c["id"] for c in CASES}) == len(CASES)
    kinds = {c["kind"] for c in CASES}
    assert {"slide", "table", "front_matter"} <= kinds
    for c in CASES:
        assert set(c) == {"id", "kind", "query", "source", "phrase"} and c["query"].endswith("?")


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_fact_is_found_in_top_5(case, realdocs_services):  # type: ignore[no-untyped-def]
    hits = realdocs_services.retriever.retrieve(case["query"], k=5).hits
    found = [
        h.rank
        for h in hits
        if h.chunk.source.endswith(case["source"])
        and _collapse(case["phrase"]) in _collapse(h.chunk.contextual_text)
    ]
    assert found, [(h.rank, h.chunk.source, h.chunk.section, h.chunk.text[:80]) for h in hits]
