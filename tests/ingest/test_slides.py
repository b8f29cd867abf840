"""Slides: a presentation page keeps its title and every line (bold one-liners included) together as content."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import chunk_document
from ingest.loaders import load_file

SLIDES = [
    (
        "Projektübersicht Stadtplattform",
        ["Projektlaufzeit: 2019 bis 2023", "Phase 1: Konzeption 2019", "Fördervolumen: 8 Mio. Euro"],
        ["- Sensorik in drei Quartieren", "- Offene Schnittstelle für Dritte"],
    ),
    (
        "Grundsätze der Strategie",
        ["1. Offene Daten zuerst", "2. Betrieb vor Neubau", "3. Nutzerzentrierung"],
        [],
    ),
    ("Ausblick", [], ["- Übergabe an das Amt für Digitales 2024", "- Verstetigung im Haushalt"]),
]


def make_slide_deck(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format=(190.5, 338.7))  # 16:9, as presentation software exports
    for title, bold_lines, bullets in SLIDES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 30)
        pdf.set_xy(20, 20)
        pdf.cell(0, 14, title)
        y = 50
        for line in bold_lines:
            pdf.set_font("Helvetica", "B", 16)
            pdf.set_xy(20, y)
            pdf.cell(0, 9, line)
            y += 14
        for line in bullets:
            pdf.set_font("Helvetica", "", 16)
            pdf.set_xy(20, y)
            pdf.cell(0, 9, line)
            y += 12
    pdf.output(str(path))
    return path


def test_slide_keeps_bold_lines_with_their_title(tmp_path: Path):
    doc = load_file(make_slide_deck(tmp_path / "deck.pdf"))
    for page, (title, bold_lines, bullets) in enumerate(SLIDES, start=1):
        blocks = [b for b in doc.blocks if b.page == page]
        assert [b.heading_path for b in blocks] == [(title,)], blocks  # one section per slide
        text = blocks[0].text
        for line in bold_lines + [b.lstrip("- ") for b in bullets]:
            assert line in text, (line, text)
    # numbers stay with their labels
    assert "Fördervolumen: 8 Mio. Euro" in doc.text and "Projektlaufzeit: 2019 bis 2023" in doc.text


def test_portrait_report_is_not_taken_for_slides(report_pdf):
    doc = load_file(report_pdf)
    assert any(len(b.heading_path) >= 2 for b in doc.blocks)  # numbered sub-headings still nest


def test_slide_title_is_quoted_with_its_lines(tmp_path: Path):
    """A slide's title is often its statement ("Potential: 43 Mrd. €"): it is part of the chunk text that a
    quote shows, not only the section path."""
    doc = load_file(make_slide_deck(tmp_path / "deck.pdf"))
    chunks = chunk_document(doc, doc_id="d", version="v", source="deck.pdf", title="Deck", metadata={})
    for page, (title, bold_lines, _) in enumerate(SLIDES, start=1):
        on_page = [c for c in chunks if c.page == page]
        assert len(on_page) == 1 and on_page[0].text.startswith(title + "\n\n"), on_page
        for line in bold_lines:
            assert line in on_page[0].text


def test_real_slide_titles_are_quoted(realdocs_dir):
    doc = load_file(realdocs_dir / "okf-old-site" / "Datensummit-wirtschaftliches-Potential.pdf")
    by_page = {b.page: b.text for b in doc.blocks}
    assert by_page[4].startswith("Potential: 43 Mrd. € KAS Studie")
    assert " ".join(by_page[34].split()).startswith(
        "3 Säulen gehören zusammen Verwaltung Zivilgesellschaft Wirtschaftsektor"
    )
