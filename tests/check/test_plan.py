"""Reading plans: pasted text and .md/.txt/.docx/.pdf files, and clear German errors for everything else."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pytest

from assistant.check import PlanLimits, plan_from_text, read_plan_bytes, read_plan_file
from assistant.errors import (
    EncryptedDocumentError,
    FileTooLargeError,
    InputError,
    LotseError,
    NoTextLayerError,
    ParseError,
    UnsupportedFormatError,
)
from tests.check.conftest import PLANS

MARKDOWN = """---
title: Front matter is dropped
---
# Projektplan Musterdorf (fiktiv)

Einleitung mit **fett** und einem [Link](https://example.org/x) im Text. Zweiter Satz am 3. Februar 2026 ohne Bruch.

## Finanzierung

- Die jährlichen Folgekosten betragen 40.000 Euro.
- [ ] Die Mittel sind im Haushalt 2027 veranschlagt.

| Kostenart | pro Jahr |
|---|---|
| Hosting | 12.000 Euro |

Betrieb seit November 2025. Danach folgt der Regelbetrieb.
"""


def test_markdown_text_becomes_verbatim_sentences_under_headings() -> None:
    plan = plan_from_text(MARKDOWN)
    texts = [s.text for s in plan.sentences]
    assert "Einleitung mit fett und einem Link im Text." in texts
    assert "Zweiter Satz am 3. Februar 2026 ohne Bruch." in texts  # no split after an ordinal
    assert "Die jährlichen Folgekosten betragen 40.000 Euro." in texts
    assert "Die Mittel sind im Haushalt 2027 veranschlagt." in texts  # list marker and box dropped
    assert "Hosting | 12.000 Euro" in texts  # table rows kept, separator row dropped
    assert "Betrieb seit November 2025." in texts and "Danach folgt der Regelbetrieb." in texts  # split after a year
    assert not any("Front matter" in t or "---" in t or "**" in t or "https://" in t for t in texts)
    sections = {s.text: s.section for s in plan.sentences}
    assert sections["Die jährlichen Folgekosten betragen 40.000 Euro."] == "Finanzierung"
    for s in plan.sentences:
        assert s.text in plan.text  # quotes can be found again in the plan


def test_sample_plans_have_realistic_length_and_name_the_municipality_as_fictional() -> None:
    for name in ("gut", "mittel", "schwach"):
        text = (PLANS / f"plan-{name}.md").read_text(encoding="utf-8")
        assert 400 <= len(text.split()) <= 900, name
        assert "fiktive Kommune" in text, name


def test_docx_and_pdf_plans_are_read_with_sections_and_pages(plan_files: dict[str, Path]) -> None:
    docx_plan = read_plan_file(plan_files["mittel.docx"])
    md_plan = read_plan_file(plan_files["mittel"])
    assert docx_plan.kind == "docx"
    assert [s.text for s in docx_plan.sentences] == [s.text for s in md_plan.sentences]
    assert any(s.section == "6. Finanzierung" for s in docx_plan.sentences)

    pdf_plan = read_plan_file(plan_files["schwach.pdf"])
    assert pdf_plan.kind == "pdf"
    assert all(s.page and s.page >= 1 for s in pdf_plan.sentences)
    texts = " ".join(s.text for s in pdf_plan.sentences)
    assert "150 Bodenfeuchtesensoren" in texts and "„Baumpate Eichstetten“" in texts


def test_committed_docx_and_pdf_samples_match_their_markdown() -> None:
    assert read_plan_file(PLANS / "plan-mittel.docx").chars > 2000
    assert read_plan_file(PLANS / "plan-schwach.pdf").chars > 2000


def test_pdf_temp_copy_is_deleted(plan_files: dict[str, Path]) -> None:
    before = set(Path(tempfile.gettempdir()).glob("lotse-plan-*"))
    read_plan_bytes(plan_files["schwach.pdf"].read_bytes(), "plan.pdf")
    with pytest.raises(EncryptedDocumentError):
        read_plan_bytes(plan_files["verschluesselt.pdf"].read_bytes(), "geschuetzt.pdf")
    assert set(Path(tempfile.gettempdir()).glob("lotse-plan-*")) <= before


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


EXE = b"MZ\x90\x00\x03" + b"\x00" * 200
HOSTILE = [
    ("programm.exe", EXE, UnsupportedFormatError, "wird für den Verstetigungs-Check nicht unterstützt"),
    ("archiv.zip", _zip({"a.txt": b"x"}), UnsupportedFormatError, "nicht unterstützt"),
    ("plan.pdf", EXE, ParseError, "keine PDF-Datei, sondern offenbar ein Windows-Programm"),
    ("plan.docx", EXE, ParseError, "kein Word-Dokument (.docx), sondern offenbar ein Windows-Programm"),
    ("plan.docx", _zip({"a.txt": b"x"}), ParseError, "kein gültiges Word-Dokument"),
    ("plan.pdf", _zip({"a.txt": b"x"}), ParseError, "keine PDF-Datei, sondern offenbar ein ZIP-Archiv"),
    ("plan.md", EXE, ParseError, "keine Textdatei"),
    ("plan.txt", bytes(range(256)) * 8, ParseError, "keine Textdatei"),
    ("alt.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, ParseError, "ältere oder kennwortgeschützte"),
    ("kaputt.pdf", b"%PDF-1.4\n1 0 obj <<", ParseError, "beschädigt"),
    ("leer.pdf", b"", NoTextLayerError, "ist leer"),
    ("leer.docx", b"", NoTextLayerError, "ist leer"),
    ("leer.md", b"  \n\n\t", NoTextLayerError, "ist leer"),
    ("riesig.md", b"Text. " * (1024 * 1024), FileTooLargeError, "zu groß für den Verstetigungs-Check"),
    ("lang.txt", ("Ein Satz zur Finanzierung. " * 3000).encode(), InputError, "zu lang"),
    ("kurz.md", b"Zu kurz.", InputError, "zu wenig Text"),
    (
        "bombe.docx",
        _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<a>" + b" " * (64 * 1024 * 1024) + b"</a>"}),
        FileTooLargeError,
        "entpackt zu groß",
    ),
]


@pytest.mark.parametrize(("name", "data", "error", "phrase"), HOSTILE, ids=[f"{h[0]}-{i}" for i, h in enumerate(HOSTILE)])
def test_hostile_uploads_get_clear_german_errors(name: str, data: bytes, error: type[LotseError], phrase: str) -> None:
    with pytest.raises(error) as caught:
        read_plan_bytes(data, name)
    message = str(caught.value)
    assert phrase in message
    assert "Traceback" not in message and "File \"" not in message
    if error is not InputError or "zu wenig" in phrase:
        assert name in message  # the user's own file name, not a temporary one


def test_encrypted_pdf_made_with_fpdf2_is_refused(plan_files: dict[str, Path]) -> None:
    with pytest.raises(EncryptedDocumentError, match="passwortgeschützt"):
        read_plan_file(plan_files["verschluesselt.pdf"])


def test_files_on_disk_are_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "gross.pdf"
    with big.open("wb") as fh:
        fh.truncate(6 * 1024 * 1024)  # sparse: refused by size, never read
    with pytest.raises(FileTooLargeError, match="höchstens 5,0 MB"):
        read_plan_file(big)
    with pytest.raises(InputError, match="nicht gefunden"):
        read_plan_file(tmp_path / "fehlt.md")
    with pytest.raises(UnsupportedFormatError):
        read_plan_file(tmp_path / "plan.xlsx")


def test_pasted_text_limits() -> None:
    with pytest.raises(InputError, match="Bitte einen Projektplan einfügen"):
        plan_from_text("   \n ")
    with pytest.raises(InputError, match="zu lang"):
        plan_from_text("Satz. " * 30_000)
    small = PlanLimits(max_chars=500)
    with pytest.raises(InputError, match=r"höchstens 500\)"):
        plan_from_text("Die Folgekosten sind beziffert. " * 30, small)
