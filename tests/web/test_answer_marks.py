"""The span that answers a question is marked in every channel that shows the quote; the quote stays verbatim."""

from __future__ import annotations

from datetime import datetime

from assistant.types import Citation
from assistant.web.ui.conversation import Turn, export_markdown
from assistant.web.ui.render import sources_html

QUOTE = "Der Betrieb kostet rund 395.000 Euro pro Jahr, davon <b>2,5</b> Stellen."
SPAN = (QUOTE.index("rund"), QUOTE.index(" pro Jahr"))


def _citation(n: int, span: tuple[int, int] | None) -> Citation:
    return Citation(
        n=n,
        source=f"q{n}.md",
        title=f"Quelle {n}",
        page=None,
        section="",
        quote=QUOTE,
        url="/documents/d",
        answer_span=span,
    )


def _turn(*citations: Citation) -> Turn:
    return Turn(
        question="Was kostet der Betrieb?", answer="„…“ [1]", mode="extractive", citations=list(citations)
    )


def test_sources_panel_marks_the_span_and_keeps_supporting_sources_behind_a_disclosure() -> None:
    html = sources_html(_turn(_citation(1, SPAN), _citation(2, None), _citation(3, None)), "de")
    assert '<mark class="lotse-answer-span">rund 395.000 Euro</mark>' in html
    assert html.count("<mark") == 1
    assert "&lt;b&gt;2,5&lt;/b&gt;" in html and "<b>" not in html  # still escaped text
    first, more = html.split('<details class="lotse-more">')
    assert 'data-n="1"' in first and 'data-n="2"' not in first
    assert "<summary>Weitere Belege (2)</summary>" in more and 'data-n="2"' in more and 'data-n="3"' in more
    single = sources_html(_turn(_citation(1, SPAN)), "en")
    assert "<details" not in single


def test_a_span_outside_the_quote_marks_nothing() -> None:
    html = sources_html(_turn(_citation(1, (5, len(QUOTE) + 9))), "de")
    assert "<mark" not in html and "rund 395.000 Euro pro Jahr" in html


def test_markdown_export_puts_the_span_in_bold() -> None:
    text = export_markdown([_turn(_citation(1, SPAN))], "de", now=datetime(2026, 12, 4))
    assert "Der Betrieb kostet **rund 395.000 Euro** pro Jahr" in text
