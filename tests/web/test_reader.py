"""The reading view marks what an answer quoted, also when the quote spans paragraphs (issue 16, part 2).

A list is quoted whole with its lead-in (issue 13); in a Markdown or HTML document every list item is a paragraph
of its own, so such a quote covers several paragraphs and must be marked in each of them.
"""

from __future__ import annotations

import re

from assistant.types import Block
from assistant.web.reader import render_document

LEAD_IN = "Soweit ein Recht auf Akteneinsicht besteht, können Behörden Akteneinsicht dadurch gewähren, dass sie"
ITEMS = [
    "1. einen Aktenausdruck zur Verfügung stellen,",
    "2. die elektronischen Dokumente auf einem Bildschirm wiedergeben,",
    "3. den elektronischen Zugriff auf den Inhalt der Akten gestatten.",
]
BLOCKS = [
    Block(text="Die Behörden sollen ihre Akten elektronisch führen.", heading_path=("§ 6 Elektronische Akte",)),
    Block(text="\n\n".join([LEAD_IN, *ITEMS]), heading_path=("§ 8 Akteneinsicht",)),
    Block(text="Die Akteneinsicht ist gebührenfrei.\n\n3. den elektronischen Zugriff auf den Inhalt der Akten "
          "gestatten.", heading_path=("§ 9 Sonstiges",)),
]


def _marks(page: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", page)


def test_a_list_quote_is_marked_in_every_paragraph_it_covers() -> None:
    quote = "\n\n".join([LEAD_IN, *ITEMS])
    page = render_document("EGovG", "egovg.md", "/documents/egovg.md", BLOCKS, [quote])
    assert _marks(page) == [LEAD_IN, *ITEMS]  # the same item in § 9 is not marked: the parts stand together
    assert page.count('id="zitat"') == 1 and f'<mark id="zitat">{LEAD_IN}</mark>' in page
    assert "nicht (mehr) in dieser Fassung" not in page


def test_a_quote_cut_short_in_the_link_is_still_found() -> None:
    quote = "\n\n".join([LEAD_IN, *ITEMS])[:200]  # links carry at most 400 characters of a quote
    page = render_document("EGovG", "egovg.md", "/documents/egovg.md", BLOCKS, [quote])
    assert _marks(page)[0] == LEAD_IN and len(_marks(page)) == 3


def test_a_quote_that_is_not_there_says_so() -> None:
    quote = "\n\n".join([LEAD_IN, "4. die Akten per Brieftaube übermitteln."])
    page = render_document("EGovG", "egovg.md", "/documents/egovg.md", BLOCKS, [quote])
    assert _marks(page) == [] and "nicht (mehr) in dieser Fassung" in page
