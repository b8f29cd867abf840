"""One card per cited document in every channel that shows sources; each quote keeps its own [n] and link.

The JSON contract keeps the flat citation list (tests/web/test_api.py); these tests cover the sources panel,
the Markdown export, the CLI text and the text under an OpenAI-compatible answer.
"""

from __future__ import annotations

import re
from datetime import datetime

from markdown_it import MarkdownIt

from assistant.chat import AnswerResult
from assistant.citations import group_by_document, sources_text
from assistant.commands import answer_text
from assistant.types import Citation
from assistant.web.openai_compat import source_list
from assistant.web.ui.conversation import Turn, export_markdown
from assistant.web.ui.render import sources_html

HOSTILE = "<img src=x onerror=alert(1)>"


def _cite(n: int, source: str, quote: str, page: int | None = None, **kw: object) -> Citation:
    return Citation(
        n=n,
        source=source,
        title=kw.pop("title", f"Titel {source}"),  # type: ignore[arg-type]
        page=page,
        section=kw.pop("section", ""),  # type: ignore[arg-type]
        quote=quote,
        publisher="KTS",
        year=2024,
        url=f"/documents/{source}" + (f"#page={page}" if page else f"/ansicht?zitat={n}#zitat"),
        **kw,  # type: ignore[arg-type]
    )


#: [1] and [3] quote the glossary, [2] a PDF: the glossary's card comes first and holds both of its quotes.
CITES = [
    _cite(1, "glossar.md", "Die DIN SPEC 91357 beschreibt eine Referenzarchitektur.", answer_span=(4, 18)),
    _cite(2, "praxis.pdf", "Die Plattform folgt der DIN SPEC.", page=2),
    _cite(3, "glossar.md", "Offene urbane Plattformen nach DIN SPEC 91357.", section="O"),
]


def _turn(citations: list[Citation]) -> Turn:
    return Turn(question="Was regelt die DIN SPEC 91357?", answer="A [1]. B [2]. C [3].", mode="extractive",
                citations=citations)


def test_grouping_keeps_numbers_and_puts_the_document_of_the_first_citation_first() -> None:
    docs = group_by_document(CITES)
    assert [d.numbers for d in docs] == [[1, 3], [2]]
    assert [d.label() for d in docs] == ["[1, 3]", "[2]"]
    assert docs[0].first is CITES[0]
    assert group_by_document([]) == []


def test_sources_panel_shows_one_card_per_document_with_each_quote_and_link() -> None:
    html = sources_html(_turn(CITES), "de", 1)
    first, more = html.split('<details class="lotse-more">')
    assert first.count('class="lotse-source"') == 1 and 'data-source="glossar.md"' in first
    assert '<span class="lotse-n">[1, 3]</span> Titel glossar.md</h3>' in first
    assert first.count("Titel glossar.md</h3>") == 1 and first.count("KTS · 2024") == 1  # title, year once
    quotes = re.findall(r'<li class="lotse-quote" data-n="(\d+)">', first)
    assert quotes == ["1", "3"]
    assert first.count("<blockquote>") == 2 and "Abschnitt „O“" in first
    assert '<mark class="lotse-answer-span">DIN SPEC 91357</mark>' in first  # the span of [1] stays marked
    # Each quote keeps its own link to its passage.
    assert 'href="/documents/glossar.md/ansicht?zitat=1#zitat"' in first
    assert 'href="/documents/glossar.md/ansicht?zitat=3#zitat"' in first
    assert "<summary>Weitere Belege (1)</summary>" in more
    assert 'data-source="praxis.pdf"' in more and 'data-n="2"' in more and "Seite 2" in more
    assert 'href="/documents/praxis.pdf#page=2"' in more


def test_single_document_answer_has_no_disclosure() -> None:
    html = sources_html(_turn([CITES[0], CITES[2]]), "en")
    assert "<details" not in html and html.count('class="lotse-source"') == 1
    assert html.count('class="lotse-quote"') == 2


def test_hostile_titles_and_quotes_stay_text_in_a_shared_card() -> None:
    first = _cite(1, "x.txt", f"Erstens {HOSTILE}.", title=f"T {HOSTILE}", section="<script>alert(2)</script>")
    second = _cite(2, "x.txt", '<a href="javascript:alert(3)">klick</a>', title=f"T {HOSTILE}")
    second = Citation(**{**second.__dict__, "url": "javascript:alert(4)"})
    html = sources_html(_turn([first, second]), "de")
    assert "<img" not in html and "<script" not in html and "<a href=\"javascript" not in html
    assert "javascript:alert(4)" not in html  # an unsafe link is dropped, its quote stays
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and html.count('class="lotse-quote"') == 2
    assert html.count('class="lotse-source"') == 1
    text = export_markdown([_turn([first, second])], "de", now=datetime(2026, 12, 5))
    rendered = MarkdownIt("commonmark").render(text)
    assert "<img" not in rendered and "<script" not in rendered and "javascript:alert(4)" not in text
    assert 'href="javascript' not in rendered


def test_markdown_export_lists_each_document_once_with_all_its_quotes() -> None:
    text = export_markdown([_turn(CITES)], "de", origin="http://lotse.example", now=datetime(2026, 12, 5))
    sources = text.split("### Quellen", 1)[1]
    assert sources.count("Titel glossar.md (KTS, 2024)") == 1 and sources.count("Titel praxis.pdf") == 1
    assert sources.index("Titel glossar.md") < sources.index("Titel praxis.pdf")
    assert "- \\[1, 3] Titel glossar.md (KTS, 2024). `glossar.md`" in sources
    assert "  - \\[1] – <http://lotse.example/documents/glossar.md/ansicht?zitat=1#zitat>" in sources
    assert "  - \\[3] Abschnitt „O“ – <http://lotse.example/documents/glossar.md/ansicht?zitat=3#zitat>" in sources
    assert "  - \\[2] Seite 2 – <http://lotse.example/documents/praxis.pdf#page=2>" in sources
    assert "    > „Die **DIN SPEC 91357** beschreibt eine Referenzarchitektur.“" in sources
    # Rendered, the quotes sit inside their document's entry and the numbers read "[1, 3]", "[1]", "[3]".
    html = MarkdownIt("commonmark").render(text)
    assert "[1, 3] Titel glossar.md" in html and html.count("<blockquote>") == 4  # question + three quotes


def _result(citations: list[Citation], language: str = "de") -> AnswerResult:
    return AnswerResult(answer="A [1]. B [2]. C [3].", mode="extractive", abstained=False, citations=citations,
                        question="q", language=language)


def test_cli_and_openai_text_group_per_document() -> None:
    cli = answer_text(_result(CITES))
    assert cli.count("Titel glossar.md") == 1
    assert "[1, 3] Titel glossar.md (KTS, 2024) – glossar.md\n    [1]\n        „Die DIN SPEC 91357" in cli
    assert "    [3] Abschnitt „O“\n        „Offene urbane" in cli
    assert "[2] Titel praxis.pdf (KTS, 2024) – praxis.pdf\n    [2] S. 2\n" in cli
    openai = source_list(_result(CITES, "en"))
    assert openai.startswith("\n\nSources:\n[1, 3] Titel glossar.md (KTS, 2024) – glossar.md\n    [3] section „O“")
    assert "„" + CITES[0].quote not in openai  # no quotes in the chat text; they are in the sources field
    assert sources_text([], "de") == []
