"""Facts that sit in slide titles, table cells and front matter of the real documents are found in the top 5.

Needs the real documents (../shared/realdocs) and embeds them once per session (a few minutes; set
REALDOCS_TEST_INDEX to a folder to keep the index between sessions): marked slow.
The cases are in data/realdocs_search.jsonl (short expected phrases only, as the evaluation files have them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import make_services

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


@pytest.fixture(scope="session")
def realdocs_services(realdocs_dir, tmp_path_factory, embedder):  # type: ignore[no-untyped-def]
    # REALDOCS_TEST_INDEX reuses an index between sessions (ingest is incremental: unchanged files cost nothing)
    index = os.environ.get("REALDOCS_TEST_INDEX") or tmp_path_factory.mktemp("realdocs-index")
    services = make_services(Path(index), embedder)
    report = services.pipeline().run([realdocs_dir])
    assert report.documents >= 20, report.failed
    return services


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
