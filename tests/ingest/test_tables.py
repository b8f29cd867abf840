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
