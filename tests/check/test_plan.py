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


LOADER_MARKDOWN = """---
title: Projektplan Sensorik (Titel aus dem YAML-Kopf)
year: 2026
---
Projektplan Sensorik Musterstadt (fiktiv)
=========================================

Die Stadt betreibt seit 2024 ein Netz aus **120 Bodenfeuchtesensoren**\\* in Parks und \
[Grünanlagen][gruen]. ![Lageplan](https://example.org/karte.png)

## Betrieb und Zuständigkeiten ##

Der Eigenbetrieb Stadtgrün übernimmt den Betrieb ab Januar 2027.[^1] Die Fachverantwortung liegt beim
Amt für Umwelt, die technische Betreuung bei der IT-Abteilung.

### Finanzierung <small>(Entwurf)</small>

- Die Folgekosten betragen 38.000 Euro pro Jahr &amp; werden im Haushalt veranschlagt.
- Eine Förderung durch das Land wird geprüft.

```
Kostenstelle 4711: Betrieb Sensornetz
```

| Posten | Euro |
|---|---|
| Mobilfunk | 9.000 |

[gruen]: https://example.org/gruen
[^1]: Beschluss des Rates vom 12. März 2026.
"""


def test_markdown_plan_is_parsed_like_the_ingest_loader_parses_it(tmp_path: Path) -> None:
    """One Markdown parser for documents and plans: same sections, same text, front matter dropped."""
    from ingest.loaders import load_file

    path = tmp_path / "plan-sensorik.md"
    path.write_text(LOADER_MARKDOWN, encoding="utf-8")
    loaded = load_file(path)
    assert loaded.title == "Projektplan Sensorik (Titel aus dem YAML-Kopf)"  # the loader read the front matter

    expected: dict[str, list[str]] = {}
    for block in loaded.blocks:
        if not block.heading_path and block.text == loaded.title:
            continue  # the loader makes the front matter's title searchable; a plan drops its front matter
        section = block.heading_path[-1] if block.heading_path else ""
        expected.setdefault(section, []).extend(
            " ".join(line.split()) for line in block.text.split("\n") if line.strip()
        )
    for plan in (read_plan_file(path), plan_from_text(LOADER_MARKDOWN)):
        got: dict[str, list[str]] = {}
        for sentence in plan.sentences:
            got.setdefault(sentence.section, []).append(sentence.text)
        assert list(got) == list(expected) == [
            "Projektplan Sensorik Musterstadt (fiktiv)",
            "Betrieb und Zuständigkeiten",
            "Finanzierung (Entwurf)",
        ]
        for section, lines in expected.items():
            assert " ".join(got[section]) == " ".join(lines), section  # sentences are the loader's text, split
        texts = " ".join(s.text for s in plan.sentences)
        for markup in ("YAML-Kopf", "**", "\\*", "[gruen]", "https://", "Lageplan", "[^1]", "<small>", "&amp;",
                       "```", "|---"):
            assert markup not in texts, markup
        assert "Die Folgekosten betragen 38.000 Euro pro Jahr & werden im Haushalt veranschlagt." in texts
        assert "Mobilfunk | 9.000" in [s.text for s in plan.sentences]


def test_markup_in_pasted_plans_is_dropped_like_in_indexed_documents() -> None:
    hostile = (
        "# Finanzierung <script>alert('x')</script>\n\n"
        "Die jährlichen Folgekosten betragen 40.000 Euro <img src=x onerror=alert(1)> und werden "
        "[hier](javascript:alert(2)) erklärt. Der Betrieb wird vom Bauamt <a href=\"javascript:alert(3)\">verantwortet"
        "</a>, Stand 2026. Kodiert: &lt;img src=x onerror=alert(4)&gt; bleibt wirkungslos.\n"
    )
    plan = plan_from_text(hostile)
    texts = [s.text for s in plan.sentences]
    assert texts[:2] == [
        "Die jährlichen Folgekosten betragen 40.000 Euro und werden hier erklärt.",
        "Der Betrieb wird vom Bauamt verantwortet, Stand 2026.",
    ], texts
    assert {s.section for s in plan.sentences} == {"Finanzierung"}
    for text in texts:
        assert "<" not in text and "javascript" not in text and "alert" not in text, text
