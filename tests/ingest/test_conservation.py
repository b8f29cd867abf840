"""Nothing lost: every page of every real PDF reaches the index, or is accounted for with a reason.

The reference is pypdf's plain text per page (see benchmarks/conservation.py for the exact rules); the figure is
the same one `python -m benchmarks conservation` prints. Parsing and chunking only, no embedding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.types import Block
from benchmarks.conservation import measure, reference_words
from ingest.account import REASONS, count_words
from ingest.cleaning import Heading, Para, build_blocks
from ingest.loaders import load_file

REALDOCS_PDFS = sorted(
    p.relative_to(Path(__file__).resolve().parents[3] / "shared" / "realdocs").as_posix()
    for p in (Path(__file__).resolve().parents[3] / "shared" / "realdocs").rglob("*.pdf")
)


def test_every_real_pdf_is_measured(realdocs_dir):
    found = sorted(p.relative_to(realdocs_dir).as_posix() for p in realdocs_dir.rglob("*.pdf"))
    assert len(found) >= 14  # seven fact sheets and seven other PDFs (SOURCES.md)
    assert found == REALDOCS_PDFS or not REALDOCS_PDFS  # the parametrised cases below cover every one


# Parsing every real PDF twice over takes about 30 s on two cores, half of what `make test-fast` may take.
@pytest.mark.slow
@pytest.mark.parametrize("rel", REALDOCS_PDFS or ["(missing)"])
def test_real_pdf_conserves_its_words(rel, realdocs_dir):
    path = realdocs_dir / rel
    assert path.is_file(), f"{path} missing"
    row = measure(path)
    assert row["reference_words"] > 0
    assert row["conservation"] >= 0.99, (rel, row["missing_sample"])
    pages, count = reference_words(path)
    assert count == row["pages"] == len(pages)


@pytest.mark.slow
@pytest.mark.parametrize("rel", REALDOCS_PDFS or ["(missing)"])
def test_real_pdf_account_adds_up(rel, realdocs_dir):
    doc = load_file(realdocs_dir / rel)
    account = doc.account.to_dict()
    assert set(account["words_removed"]) <= set(REASONS)
    assert account["words_extracted"] == account["words_indexed"] + sum(account["words_removed"].values())
    # What the blocks hold (text plus each heading once) is what the account calls indexed; only words joined
    # across a hyphenated line break ("Verstetigungs-" + "strategie") make it a little smaller. A slide's title
    # is quoted with its lines (the block's text starts with it), so it is counted there, not a second time.
    quoted = {b.heading_path[-1] for b in doc.blocks if b.heading_path and b.text.startswith(b.heading_path[-1])}
    headings = dict.fromkeys(h for b in doc.blocks for h in b.heading_path if h not in quoted)
    held = sum(count_words(b.text) for b in doc.blocks) + sum(count_words(h) for h in headings)
    assert 0.95 * account["words_indexed"] <= held <= account["words_indexed"]
    # a document with a large unreadable share is indexed, with a warning that says so
    unreadable = account["words_removed"].get("garbage", 0) + account["words_removed"].get("invisible", 0)
    if unreadable > 0.2 * account["words_extracted"]:
        assert any("nicht lesbar" in w for w in account["warnings"]), account


def test_heading_without_body_stays_content():
    blocks = build_blocks(
        [
            Heading(1, "Projektübersicht", 1),
            Heading(2, "Projektlaufzeit: 2019 bis 2023", 1),
            Heading(2, "Fördervolumen: 8 Mio €", 1),
            Para("Die Stadt setzt drei Maßnahmen um.", 1),
            Heading(1, "Grundsätze", 2),
            Heading(2, "1. Offene Daten zuerst", 2),
            Heading(2, "2. Nutzerzentrierung", 2),
        ]
    )
    text = "\n".join(b.text for b in blocks)
    assert "Projektlaufzeit: 2019 bis 2023" in text
    assert "1. Offene Daten zuerst" in text and "2. Nutzerzentrierung" in text
    assert (
        Block("Die Stadt setzt drei Maßnahmen um.", 1, ("Projektübersicht", "Fördervolumen: 8 Mio €"))
        in blocks
    )
    # the orphan headings sit in their parent's section, in reading order
    grundsatz = [b for b in blocks if b.heading_path == ("Grundsätze",)]
    assert grundsatz and grundsatz[0].text.split("\n\n") == ["1. Offene Daten zuerst", "2. Nutzerzentrierung"]
