"""No quote from the real documents is mostly URL, code, a path or markup, and none ends inside a parenthesis.

Every sentence the extractive answer may quote (`extractive._quotable`) in every real document is checked with
`lotse eval`'s independent non-prose detector. Needs ../shared/realdocs: skipped where it is absent, fails under
CI=true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation import non_prose
from assistant.extractive import _quotable
from assistant.text import split_sentences
from ingest.loaders import load_file
from tests.conftest import REALDOCS, require_realdocs

pytestmark = pytest.mark.slow
SUFFIXES = {".pdf", ".md", ".html", ".htm", ".txt"}


def _documents() -> list[Path]:
    return sorted(
        p
        for p in require_realdocs().rglob("*")
        if p.suffix.lower() in SUFFIXES and p.name not in {"README.md", "SOURCES.md"}
    )


def test_quotable_sentences_of_the_real_documents_are_prose() -> None:
    quotable = 0
    bad: list[str] = []
    for path in _documents():
        doc = load_file(path, name=str(path.relative_to(REALDOCS)))
        for block in doc.blocks:
            for s in split_sentences(block.text):
                if not _quotable(s.text):
                    continue
                quotable += 1
                if non_prose(s.text) or s.text.count("(") > s.text.count(")"):
                    bad.append(f"{path.name}: {s.text[:160]}")
    assert quotable > 2000, quotable  # the filter keeps the prose
    assert bad == [], bad[:20]
