"""Tables: the cells of a row stay together (a number never apart from its label); the header row is seen by search."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import chunk_document
from ingest.loaders import load_file

ROWS = [
    ("Maßnahme", "Fördervolumen", "Laufzeit"),
    ("Sensorik im Quartier", "8 Mio. Euro", "2019 bis 2023"),
    ("Offene Datenplattform", "1,2 Mio. Euro", "2020 bis 2022"),
    ("Betrieb durch das Amt", "300.000 Euro jährlich", "ab 2024"),
]


def make_table_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Finanzierung der Maßnahmen", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, "Die folgende Tabelle zeigt die Förderung der einzelnen Maßnahmen im Überblick.")
    for i, row in enumerate(ROWS):
        pdf.set_font("Helvetica", "B" if i == 0 else "", 11)
        for cell in row:
            pdf.cell(60, 8, cell, border=1)
        pdf.ln()
    pdf.output(str(path))
    return path


def test_table_rows_keep_numbers_with_labels(tmp_path: Path):
    doc = load_file(make_table_pdf(tmp_path / "tabelle.pdf"))
    chunks = chunk_document(doc, doc_id="d", version="v", source="t.pdf", title="Tabelle", metadata={})
    for row in ROWS[1:]:
        line = " ".join(row)
        holding = [c for c in chunks if line in " ".join(c.text.split())]
        assert holding, (line, [c.text for c in chunks])
        # what search sees of that chunk names the columns
        assert all(h in holding[0].contextual_text for h in ROWS[0])


def test_last_cell_of_a_wrapped_row_stays_with_its_row():
    from ingest.cleaning import Line, paragraphs_from_lines

    lines = [
        Line("87 O Veröffentlichungsdatum", 10.0, False, 62.0, 653.9),
        Line("Diese Eigenschaft enthält das", 10.0, False, 367.0, 653.9),
        Line("Datum der Herausgabe.", 10.0, False, 367.0, 635.9),
        Line("0..1", 10.0, False, 537.1, 653.9),
        Line("88 O Distributionsrechte", 10.0, False, 62.0, 578.5),
    ]
    paragraphs = paragraphs_from_lines(lines)
    assert any(p.endswith("Datum der Herausgabe. 0..1") for p in paragraphs), paragraphs
    # a new text column (far higher up) is not taken for the next cell of a row
    column = [
        Line("Ein Satz endet hier unten in Spalte eins.", 10.0, False, 60.0, 100.0),
        Line("Oben", 10.0, False, 300.0, 780.0),
    ]
    assert len(paragraphs_from_lines(column)) == 2


# A table header row as pypdf reports it from the DCAT-AP.de specification: each cell a bold line of its own,
# set at different heights ("Verbindlichkeit" and "Kardinalität" higher, "Referenz/Typ/" wrapped over two lines).
HEADER_PAGE = [
    ("4.1 Klasse: Katalog", 14.0, True, 56.6, 715.5),
    ("Nr.", 10.0, True, 65.5, 659.3),
    ("Verbindlichkeit", 10.0, True, 92.8, 701.9),
    ("Bezeichnung URI", 10.0, True, 110.3, 659.3),
    ("Referenz/Typ/", 10.0, True, 279.5, 668.3),
    ("Wertebereich", 10.0, True, 280.6, 650.3),
    ("Beschreibung", 10.0, True, 406.6, 659.3),
    ("Kardinalität", 10.0, True, 527.7, 693.5),
    ("23 P Datenstruktur dcat:dataset dcat:Dataset Diese Eigenschaft verknüpft den", 10.0, False, 60.5, 602.4),
    ("Katalog mit der Datenstruktur.", 10.0, False, 360.7, 584.4),
    ("1..n", 10.0, False, 526.3, 602.4),
    ("24 P Beschreibung dct:description rdfs:Literal Diese Eigenschaft enthält eine", 10.0, False, 60.5, 527.0),
    ("Beschreibung des Kataloges als Freitext.", 10.0, False, 360.7, 509.0),
    ("1..n", 10.0, False, 526.3, 527.0),
]


def test_bold_header_row_is_content_not_a_heading():
    from ingest.cleaning import Line, pdf_pages_to_blocks

    blocks = pdf_pages_to_blocks([[Line(*row) for row in HEADER_PAGE]], [841.9], [595.3]).blocks
    header = "Nr. | Verbindlichkeit | Bezeichnung URI | Referenz/Typ/ Wertebereich | Beschreibung | Kardinalität"
    assert [b.heading_path for b in blocks] == [("4.1 Klasse: Katalog",)], blocks
    # the header row is one paragraph, left to right, before the rows it heads; the rows keep their cells
    assert blocks[0].text.startswith(header + "\n\n23 P Datenstruktur"), blocks[0].text
    assert "Katalog mit der Datenstruktur. 1..n" in blocks[0].text


def test_bold_lines_in_one_column_are_no_table_header():
    from ingest.cleaning import Line
    from ingest.cleaning.pdf_layout import merge_table_headers

    stacked = [
        Line("Ziele", 10.0, True, 60.0, 700.0),
        Line("Maßnahmen", 10.0, True, 60.0, 688.0),
        Line("Finanzierung", 10.0, True, 60.0, 676.0),
        Line("Der Text darunter.", 10.0, False, 60.0, 650.0),
    ]
    assert merge_table_headers(stacked) == stacked  # one column: headings or list items, not a table row
    spread = [Line(t, 10.0, True, x, 700.0) for t, x in (("Jahr", 60.0), ("Betrag", 200.0), ("Quelle", 340.0))]
    assert merge_table_headers(spread) == spread  # nothing follows: no body rows, no table


def test_real_spec_table_header_is_no_heading(realdocs_dir):
    """DCAT-AP.de 1.1: "Kardinalität" (the last header cell of every class table) used to head the sections of
    the tables' rows; now no heading path holds a header cell and the header row is quoted with its rows."""
    doc = load_file(realdocs_dir / "dcat-ap-de" / "V1.1" / "specification.pdf")
    cells = {"Kardinalität", "Beschreibung", "Verbindlichkeit", "Nr."}
    assert not [b.heading_path for b in doc.blocks if cells & set(b.heading_path)]
    page21 = "\n".join(b.text for b in doc.blocks if b.page == 21)
    assert "Beschreibung | Kardinalität\n\n23 P Datenstruktur" in page21


def test_rows_past_the_first_chunk_carry_the_column_names_in_their_section():
    from assistant.types import Block, LoadedDocument
    from ingest.chunking import CHUNK_CHARS, table_spans

    header = "Eigenschaft | Kardinalität | Bemerkung"
    # as the PDF loader writes a table: the header row's cells joined by " | ", each row a paragraph of its own
    rows = [f"dct:feld{i:03d} 0..{i % 3} Ein erläuternder Satz zur Eigenschaft Nummer {i}." for i in range(40)]
    table = "\n\n".join([header, *rows])
    text = f"Einleitung zur Tabelle der Eigenschaften.\n\n{table}"
    assert table_spans(text) == [(text.index(header), len(text), header)]
    assert table_spans("Nur ein | Trenner\n\nkein Kopf") == []
    # a Markdown table (every line of its paragraph a row) ends with its paragraph
    md = "Vorher.\n\nA | B | C\n1 | 2 | 3\n\nDanach ein Satz."
    assert table_spans(md) == [(md.index("A |"), md.index("\n\nDanach"), "A | B | C")]
    doc = LoadedDocument(blocks=[Block(text=text, page=3, heading_path=("Datensatz",))], title="Spez")
    chunks = chunk_document(doc, doc_id="d", version="v", source="s.pdf", title="Spez", metadata={})
    assert len(chunks) > 1 and len(text) > CHUNK_CHARS
    for c in chunks:
        assert c.text in text  # verbatim
        if "dct:feld" in c.text:
            assert c.section == f"Datensatz › {header}", c.section
    assert chunks[0].section.startswith("Datensatz")


def test_a_short_preamble_joins_the_first_section():
    from assistant.types import Block, LoadedDocument

    blocks = [
        Block(text="Open Data: ein bisschen Prototyp und dann?\n\nErnesto Ruge", page=None, heading_path=()),
        Block(text="Civic-Tech-Projekte bleiben oft im Prototypen-Status.", page=None, heading_path=("Einleitung",)),
        Block(text="Ein zweiter Abschnitt.", page=None, heading_path=("Weiter",)),
    ]
    text = "\n\n".join(b.text for b in blocks)
    doc = LoadedDocument(blocks=blocks, title="Prototyp")
    chunks = chunk_document(doc, doc_id="d", version="v", source="p.md", title="Prototyp", metadata={})
    assert [c.section for c in chunks] == ["Einleitung", "Weiter"]
    assert chunks[0].text.startswith("Open Data") and "Ernesto Ruge" in chunks[0].text
    assert all(text[c.char_start:c.char_end] == c.text for c in chunks)
    # a long preamble stays a passage of its own
    long_first = [Block(text="Vorwort. " * 60, page=None, heading_path=()), *blocks[1:]]
    long_doc = LoadedDocument(blocks=long_first, title="P")
    assert chunk_document(long_doc, doc_id="d", version="v", source="p.md", title="P", metadata={})[0].section in ("P", "")
