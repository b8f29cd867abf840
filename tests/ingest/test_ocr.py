"""Scanned pages: OCR'd with Tesseract when installed, flagged with an install hint otherwise."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from assistant.errors import NoTextLayerError
from ingest.chunking import chunk_document
from ingest.loaders import ParseLimits, load_file
from ingest.ocr import tesseract_languages

SCAN_LINES = ["Verstetigung im Haushalt", "Die Stadt betreibt die Plattform", "dauerhaft ab dem Jahr 2025."]


def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    for candidate in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def make_scanned_pdf(path: Path, with_text_page: bool = True) -> Path:
    """Text drawn into an image, wrapped as a PDF page (no text layer); optionally a normal page first."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    img = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(SCAN_LINES):
        draw.text((120, 200 + i * 110), line, fill=0, font=_font(64))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    pdf = FPDF()
    if with_text_page:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, "Eine normale Seite mit Textebene über den Betrieb nach der Förderung.")
    pdf.add_page()
    pdf.image(buf, x=0, y=0, w=210)
    pdf.output(str(path))
    return path


def _tesseract() -> bool:
    return bool(shutil.which("tesseract")) and "deu" in tesseract_languages()


def test_scanned_page_is_ocrd_and_marked(tmp_path: Path):
    if not _tesseract():
        pytest.fail(
            "Tesseract with German is not installed: apt-get install tesseract-ocr tesseract-ocr-deu (make setup)"
        )
    doc = load_file(make_scanned_pdf(tmp_path / "scan.pdf"))
    page2 = " ".join(b.text for b in doc.blocks if b.page == 2)
    assert "Plattform" in page2 and "2025" in page2 and "Haushalt" in page2
    assert doc.account.ocr_pages == [2] and doc.account.pages_without_text == []
    assert any("Texterkennung" in w for w in doc.warnings)
    chunks = chunk_document(doc, doc_id="d", version="v", source="scan.pdf", title="Scan", metadata={})
    assert {c.page for c in chunks if c.metadata.get("ocr")} == {2}
    assert all(not c.metadata.get("ocr") for c in chunks if c.page == 1)


def test_without_ocr_the_page_is_flagged_with_an_install_hint(tmp_path: Path, monkeypatch):
    import ingest.ocr

    ingest.ocr.tesseract_languages.cache_clear()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        doc = load_file(make_scanned_pdf(tmp_path / "scan.pdf"))
        assert doc.account.pages_without_text == [2] and doc.account.ocr_pages == []
        assert any("tesseract-ocr-deu" in w for w in doc.warnings)
        with pytest.raises(NoTextLayerError):
            load_file(make_scanned_pdf(tmp_path / "nur-scan.pdf", with_text_page=False))
    finally:
        ingest.ocr.tesseract_languages.cache_clear()


def test_ocr_out_of_time_leaves_the_page_flagged_and_the_rest_indexed(tmp_path: Path):
    if not _tesseract():
        pytest.fail(
            "Tesseract with German is not installed: apt-get install tesseract-ocr tesseract-ocr-deu (make setup)"
        )
    doc = load_file(make_scanned_pdf(tmp_path / "scan.pdf"), ParseLimits(ocr_budget_s=0.01))
    assert doc.account.pages_without_text == [2] and doc.account.ocr_pages == []
    assert "normale Seite" in doc.text
    assert any("zu lange" in w for w in doc.warnings)
