"""Loader tests: every format from small generated files, every failure as a clear German IngestError."""

from __future__ import annotations

import io
import re
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest

from assistant.errors import (
    EncryptedDocumentError,
    FileTooLargeError,
    IngestError,
    NoTextLayerError,
    ParseError,
    ParseMemoryError,
    ParseTimeoutError,
    UnsupportedFormatError,
)
from assistant.types import LoadedDocument
from ingest.loaders import SUPPORTED_SUFFIXES, ParseLimits, load_file


def assert_clean(doc: LoadedDocument) -> None:
    """The invariants every loader promises for block text."""
    assert doc.blocks
    for block in doc.blocks:
        text = block.text
        assert text == text.strip() and text
        assert unicodedata.is_normalized("NFC", text)
        assert "\n\n\n" not in text and not re.search(r"\S {2,}|[ \t]\n", text)  # indentation of code allowed
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)
        assert not re.search(r"</?[a-zA-Z][^>]*>", text), text  # no markup, ever
        assert all(h and h == h.strip() for h in block.heading_path)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# ---------------------------------------------------------------------------------------------------------------
# Dispatch and general errors
# ---------------------------------------------------------------------------------------------------------------


def test_supported_suffixes():
    assert {".pdf", ".md", ".markdown", ".html", ".htm", ".txt"} == SUPPORTED_SUFFIXES


@pytest.mark.parametrize("name", ["bericht.docx", "tabelle.xlsx", "OHNE_ENDUNG", "bild.png"])
def test_unknown_suffix_lists_supported_types(tmp_path, name):
    path = write(tmp_path, name, "Inhalt")
    with pytest.raises(UnsupportedFormatError) as exc:
        load_file(path)
    message = str(exc.value)
    assert name in message and "nicht unterstützt" in message
    for kind in (".pdf", ".md", ".html", ".txt"):
        assert kind in message
    assert "not supported" in exc.value.message_en


def test_suffix_is_case_insensitive(tmp_path):
    doc = load_file(write(tmp_path, "NOTIZ.TXT", "Die Stadt plant den Regelbetrieb."))
    assert doc.text == "Die Stadt plant den Regelbetrieb."
    doc = load_file(write(tmp_path, "Leitfaden.MarkDown", "# Titel\n\nText."))
    assert doc.title == "Titel"


def test_file_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    import ingest.loaders.pdf as pdf_loader
    import ingest.loaders.text as text_loader

    def must_not_read(*args, **kwargs):
        raise AssertionError("file was read")

    monkeypatch.setattr(text_loader, "read_limited", must_not_read)
    monkeypatch.setattr(pdf_loader, "_check_signature", must_not_read)
    for name in ("gross.txt", "gross.pdf"):
        path = write(tmp_path, name, b"x" * 2000)
        with pytest.raises(FileTooLargeError) as exc:
            load_file(path, ParseLimits(max_file_bytes=1000))
        assert name in str(exc.value) and "zu groß" in str(exc.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(IngestError, match="nicht gefunden"):
        load_file(tmp_path / "fehlt.pdf")
    (tmp_path / "ordner.txt").mkdir()
    with pytest.raises(IngestError, match="keine normale Datei"):
        load_file(tmp_path / "ordner.txt")


def test_hostile_file_name_is_sanitised_in_messages(tmp_path):
    name = "böse\x1b[31m\u202e" + "x" * 200 + ".docx"
    path = write(tmp_path, name, "Inhalt")
    with pytest.raises(UnsupportedFormatError) as exc:
        load_file(path)
    message = str(exc.value)
    assert "\x1b" not in message and "\u202e" not in message
    assert len(message) < 400


# ---------------------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------------------


def test_pdf_report_pages_headings_hyphenation_and_running_lines(report_pdf):
    doc = load_file(report_pdf)
    assert_clean(doc)
    assert doc.page_count == 3
    assert [b.page for b in doc.blocks] == [1, 2, 3]
    assert doc.title == "Verstetigung digitaler Modellprojekte"
    text = doc.text
    assert "Die Verstetigungsstrategie der Stadt Musterstadt" in text
    assert "die Modellprojekte nach dem Förderende" in text
    assert "Die Smart-City-Strategie wurde 2021" in text
    assert "aus Bundes- und Landesmitteln" in text
    assert "Zuständigkeiten, Maßnahmen und die Öffentlichkeit" in text
    assert "Datenplattform, verlangt" in text
    assert "Verstetigungsbericht 2024" not in text  # running header
    assert "Seite" not in text  # "Seite n von 3" footers
    assert doc.blocks[0].heading_path == ("Verstetigung digitaler Modellprojekte", "1 Einleitung")
    assert doc.blocks[2].heading_path == (
        "Verstetigung digitaler Modellprojekte",
        "2 Finanzierung",
        "2.1 Betreibermodelle im Vergleich",
    )
    assert doc.blocks[0].text.count("\n\n") == 1  # two paragraphs on page 1
    assert doc.warnings == []


def test_pdf_metadata_is_plain_text(tmp_path, pdf_factory):
    path = pdf_factory.make_report_pdf(
        tmp_path / "meta.pdf",
        title_meta='<script>alert("x")</script>Leitfaden <b>Verstetigung</b>',
        author_meta="javascript:alert(1) Erika Mustermann",
    )
    doc = load_file(path)
    assert doc.title == "Leitfaden Verstetigung"
    assert doc.metadata["author"] == "Erika Mustermann"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.metadata["created"])


def test_pdf_with_user_password_is_refused(tmp_path, pdf_factory):
    path = pdf_factory.make_report_pdf(tmp_path / "geheim.pdf", encrypt_user_password="geheim")
    with pytest.raises(EncryptedDocumentError) as exc:
        load_file(path)
    assert "geheim.pdf" in str(exc.value) and "passwortgeschützt" in str(exc.value)


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path, pdf_factory):
    path = pdf_factory.make_report_pdf(tmp_path / "nur-rechte.pdf", encrypt_owner_only=True)
    doc = load_file(path)
    assert "Verstetigungsstrategie" in doc.text


def test_scanned_pdf_without_text_layer(tmp_path, pdf_factory):
    path = pdf_factory.make_image_only_pdf(tmp_path / "scan.pdf")
    with pytest.raises(NoTextLayerError) as exc:
        load_file(path)
    assert "scan.pdf" in str(exc.value) and "OCR" in str(exc.value)


def test_pdf_page_limit(tmp_path, pdf_factory):
    path = pdf_factory.make_pdf_with_pages(tmp_path / "lang.pdf", 5)
    with pytest.raises(FileTooLargeError) as exc:
        load_file(path, ParseLimits(max_pages=3))
    assert "5 Seiten" in str(exc.value) and "höchstens 3" in str(exc.value)
    assert load_file(path, ParseLimits(max_pages=5)).page_count == 5


def test_pdf_with_some_empty_pages_warns(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Auf dieser Seite steht ausreichend Text für den Index.")
    pdf.add_page()  # empty page
    path = tmp_path / "teilweise.pdf"
    pdf.output(str(path))
    doc = load_file(path)
    assert doc.page_count == 2 and [b.page for b in doc.blocks] == [1]
    assert any("Seite(n) 2" in w for w in doc.warnings)


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("leer.pdf", b"", "leer (0 Byte)"),
        ("seite.pdf", b"<!DOCTYPE html><html><body>Fehlerseite</body></html>", "HTML-Seite"),
        ("archiv.pdf", _zip_bytes(), "ZIP-Archiv"),
        ("bild.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG-Bild"),
        ("notiz.pdf", b"Nur ein bisschen Text, kein PDF.", "Textdatei"),
        ("kaputt.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40, "beschädigt"),
    ],
)
def test_not_a_pdf(tmp_path, name, content, expected):
    with pytest.raises(ParseError) as exc:
        load_file(write(tmp_path, name, content))
    assert type(exc.value) is ParseError
    assert name in str(exc.value) and expected in str(exc.value)


def test_truncated_pdf(tmp_path, report_pdf):
    data = report_pdf.read_bytes()
    for cut in (300, len(data) // 2):
        with pytest.raises(ParseError) as exc:
            load_file(write(tmp_path, "abgeschnitten.pdf", data[:cut]))
        assert "abgeschnitten" in str(exc.value)


def test_cyclic_page_tree_is_a_parse_error(tmp_path, pdf_factory):
    started = time.monotonic()
    with pytest.raises(ParseError):
        load_file(
            write(tmp_path, "zyklus.pdf", pdf_factory.cyclic_page_tree_pdf()), ParseLimits(timeout_s=10)
        )
    assert time.monotonic() - started < 10


def test_self_referencing_xref_does_not_hang(tmp_path, pdf_factory):
    started = time.monotonic()
    with pytest.raises(IngestError):
        load_file(
            write(tmp_path, "prev.pdf", pdf_factory.self_referencing_xref_pdf()), ParseLimits(timeout_s=10)
        )
    assert time.monotonic() - started < 10


def test_decompression_bomb_is_contained(tmp_path, pdf_factory):
    path = write(tmp_path, "bombe.pdf", pdf_factory.decompression_bomb_pdf(120))
    started = time.monotonic()
    with pytest.raises(ParseError):
        load_file(path, ParseLimits(timeout_s=20, memory_mb=512))
    assert time.monotonic() - started < 20


def test_memory_limit_of_the_pdf_child(tmp_path, pdf_factory):
    # 60 MB of content stream: below pypdf's own decompression limit, above the child's address-space limit.
    path = write(tmp_path, "speicher.pdf", pdf_factory.decompression_bomb_pdf(60))
    with pytest.raises(ParseMemoryError) as exc:
        load_file(path, ParseLimits(timeout_s=30, memory_mb=100))
    assert "speicher.pdf" in str(exc.value) and "100 MB" in str(exc.value)


def test_pdf_that_keeps_the_parser_busy_is_stopped_at_the_timeout(tmp_path, pdf_factory):
    path = write(tmp_path, "endlos.pdf", pdf_factory.heavy_content_pdf())
    started = time.monotonic()
    with pytest.raises(ParseTimeoutError) as exc:
        load_file(path, ParseLimits(timeout_s=1.5))
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 6
    assert "endlos.pdf" in str(exc.value) and "1.5 Sekunden" in str(exc.value)
    # The isolation recovers: the next file parses normally.
    assert load_file(pdf_factory.make_pdf_with_pages(tmp_path / "danach.pdf", 1)).page_count == 1


def test_invisible_text_is_not_indexed(tmp_path, pdf_factory):
    with pytest.raises(NoTextLayerError):
        load_file(write(tmp_path, "versteckt.pdf", pdf_factory.hidden_text_pdf()))


# ---------------------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------------------

MARKDOWN = """---
title: Leitfaden <em>Verstetigung</em>
publisher: KTS
year: 2024
date: 2024-03-01
tags: [finanzierung, betrieb]
---

Einleitender Satz mit **fetter** und *kursiver* Betonung, `Code` und einem [Link](https://example.org/a_(b)).
Bürger*innen und Nutzer*innen bleiben so. ![Diagramm](bild.png)
Ein Satz geht
über zwei Zeilen.

# Finanzierung

Die Förderung endet 2026. Siehe [Quelle][ref] und <https://example.org>.

## Betreibermodelle

- erster Punkt mit _Betonung_
- zweiter Punkt
  mit Fortsetzung
1. nummeriert

| Modell | Kosten |
|--------|-------:|
| Eigenbetrieb | hoch |
| GmbH | mittel |

```python
def foo():
    return 1
```

<!-- ein Kommentar -->
<script>alert(1)</script>
> Ein Zitat mit ~~Streichung~~.

Unterabschnitt
--------------

Text unter Setext.

[ref]: https://example.org/quelle
"""


def test_markdown(tmp_path):
    doc = load_file(write(tmp_path, "leitfaden.md", MARKDOWN))
    assert_clean(doc)
    assert doc.title == "Leitfaden Verstetigung"
    assert doc.metadata["publisher"] == "KTS" and doc.metadata["year"] == 2024
    assert doc.metadata["date"] == "2024-03-01" and doc.metadata["tags"] == ["finanzierung", "betrieb"]
    by_path = {b.heading_path: b.text for b in doc.blocks}
    intro = by_path[()]
    # the front matter title is shown on the page (the body does not repeat it as a heading): content too
    assert intro.startswith(
        "Leitfaden Verstetigung\n\nEinleitender Satz mit fetter und kursiver Betonung, Code und einem Link."
    )
    assert "Bürger*innen und Nutzer*innen bleiben so." in intro
    assert "Ein Satz geht über zwei Zeilen." in intro
    assert "Diagramm" not in intro and "bild.png" not in intro and "https://example.org/a" not in intro
    assert by_path[("Finanzierung",)] == "Die Förderung endet 2026. Siehe Quelle und https://example.org."
    models = by_path[("Finanzierung", "Betreibermodelle")]
    assert "erster Punkt mit Betonung\n\nzweiter Punkt mit Fortsetzung\n\n1. nummeriert" in models
    assert "Modell | Kosten\nEigenbetrieb | hoch\nGmbH | mittel" in models
    assert "def foo():\n    return 1" in models
    assert "Ein Zitat mit Streichung." in models
    assert "Kommentar" not in doc.text and "alert" not in doc.text
    assert by_path[("Finanzierung", "Unterabschnitt")] == "Text unter Setext."
    assert "example.org/quelle" not in doc.text
    for marker in ("**", "](", "`", "#", "~~", "|---"):
        assert marker not in doc.text


def test_markdown_malformed_front_matter_is_a_warning(tmp_path):
    doc = load_file(
        write(tmp_path, "kaputt.md", "---\ntitle: [nicht geschlossen\n---\n# Überschrift\n\nText.")
    )
    assert doc.title == "Überschrift"
    assert doc.metadata == {}
    assert len(doc.warnings) == 1 and "kaputt.md" in doc.warnings[0] and "ignoriert" in doc.warnings[0]
    assert doc.text == "Text."


def test_markdown_yaml_alias_bomb_stays_bounded(tmp_path):
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(12)
    )
    doc = load_file(write(tmp_path, "bombe.md", bomb + "---\nText."))
    assert doc.text == "Text."
    assert len(repr(doc.metadata)) < 100_000


def test_markdown_without_text(tmp_path):
    with pytest.raises(NoTextLayerError):
        load_file(write(tmp_path, "leer.md", "---\ntitle: Nur Kopf\n---\n\n![bild](a.png)\n"))


# ---------------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <title>Urbane Datenplattformen &amp; Betrieb</title>
  <meta name="description" content="Wie <b>Kommunen</b> Plattformen betreiben">
  <meta name="author" content="KTS Redaktion">
  <meta property="article:published_time" content="2024-05-02">
  <style>body { color: red }</style>
  <script>var tracking = "nicht indexieren";</script>
</head>
<body>
  <header><a href="/">Startseite</a> Portal-Kopf</header>
  <nav><ul><li>Menüpunkt</li></ul></nav>
  <div id="cookie-banner">Wir verwenden Cookies. <button>Akzeptieren</button></div>
  <main>
    <article>
      <header><h1>Urbane Datenplattformen</h1><p class="meta">Artikel-Kopfzeile</p></header>
      <p>Eine <strong>urbane</strong> Datenplattform bündelt Daten<br>der Stadt. Mehr im
         <a href="javascript:alert(1)">Leitfaden</a>.</p>
      <h2>Betrieb</h2>
      <p>Der Betrieb braucht feste Zuständigkeiten.</p>
      <div class="consent-layer">Bitte zustimmen</div>
      <p style="display:none">Versteckte Anweisung an das Modell</p>
      <p hidden>Auch versteckt</p>
      <ul><li>Rollen klären</li><li>Budget sichern</li></ul>
      <table>
        <caption>Vergleich der Modelle</caption>
        <tr><th>Modell</th><th>Kosten</th></tr>
        <tr><td>Eigenbetrieb</td><td>hoch</td></tr>
      </table>
      <h3>Kosten</h3>
      <p>Rund 80.000 € pro Jahr.</p>
      <aside>Randnotiz</aside>
      <form><input value="Suche"></form>
      <svg><text>Grafiktext</text></svg>
      <iframe src="https://example.org"></iframe>
      <template><p>Vorlage</p></template>
      <noscript>Bitte JavaScript aktivieren</noscript>
    </article>
  </main>
  <footer>Impressum</footer>
</body>
</html>
"""


def test_html_main_content_only(tmp_path):
    doc = load_file(write(tmp_path, "artikel.html", HTML))
    assert_clean(doc)
    assert doc.title == "Urbane Datenplattformen & Betrieb"  # <title> does not start with the <h1>
    assert doc.metadata == {
        "description": "Wie Kommunen Plattformen betreiben",
        "author": "KTS Redaktion",
        "date": "2024-05-02",
        "language": "de",
    }
    text = doc.text
    for junk in (
        "Startseite",
        "Menüpunkt",
        "Cookies",
        "Akzeptieren",
        "zustimmen",
        "Versteckte",
        "versteckt",
        "Randnotiz",
        "Suche",
        "Grafiktext",
        "Vorlage",
        "JavaScript",
        "Impressum",
        "tracking",
        "color",
        "javascript",
    ):
        assert junk not in text, junk
    by_path = {b.heading_path: b.text for b in doc.blocks}
    assert by_path[("Urbane Datenplattformen",)] == (
        "Artikel-Kopfzeile\n\nEine urbane Datenplattform bündelt Daten der Stadt. Mehr im Leitfaden."
    )
    assert by_path[("Urbane Datenplattformen", "Betrieb")] == (
        "Der Betrieb braucht feste Zuständigkeiten.\n\nRollen klären\n\nBudget sichern\n\n"
        "Vergleich der Modelle\n\nModell | Kosten\nEigenbetrieb | hoch"
    )
    assert by_path[("Urbane Datenplattformen", "Betrieb", "Kosten")] == "Rund 80.000 € pro Jahr."


def test_html_title_prefers_h1_over_title_with_site_suffix(tmp_path):
    page = (
        "<html><head><title>Zweckverband gründen | Wissensplattform</title></head>"
        "<body><main><h1>Zweckverband gründen</h1><p>Text.</p></main></body></html>"
    )
    assert load_file(write(tmp_path, "zv.html", page)).title == "Zweckverband gründen"


def test_html_without_main_uses_body_and_h1_title(tmp_path):
    page = "<html><body><nav>Menü</nav><h1>Glossar</h1><p>Verstetigung: Überführung in den Regelbetrieb.</p></body></html>"
    doc = load_file(write(tmp_path, "glossar.htm", page))
    assert doc.title == "Glossar"
    assert [(b.heading_path, b.text) for b in doc.blocks] == [
        (("Glossar",), "Verstetigung: Überführung in den Regelbetrieb.")
    ]


def test_html_declared_latin1_charset(tmp_path):
    page = '<html><head><meta charset="iso-8859-1"><title>Größe</title></head><body><p>Zuständigkeit</p></body></html>'
    doc = load_file(write(tmp_path, "alt.html", page.encode("latin-1")))
    assert doc.title == "Größe" and doc.text == "Zuständigkeit"
    assert doc.warnings == []


def test_deeply_nested_html_does_not_overflow(tmp_path):
    page = "<html><body>" + "<div>" * 5000 + "<p>Tief verschachtelt.</p>" + "</div>" * 5000 + "</body></html>"
    assert load_file(write(tmp_path, "tief.html", page)).text == "Tief verschachtelt."


def test_html_without_content(tmp_path):
    with pytest.raises(NoTextLayerError):
        load_file(
            write(tmp_path, "leer.html", "<html><body><nav>Nur Menü</nav><script>x()</script></body></html>")
        )


# ---------------------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------------------

TEXT = """Datenschutz und Informationssicherheit
=======================================

Die Stadt betreibt eine Daten-
plattform nach dem Grundsatz der Datensparsamkeit.
Die Daten werden verschlüsselt gespeichert.

Rollen
------

Die Fachämter sind für ihre Daten zuständig.

# Betrieb

Der IT-Dienstleister übernimmt den Betrieb.
"""


def test_text_setext_and_hash_headings(tmp_path):
    doc = load_file(write(tmp_path, "datenschutz.txt", "\ufeff" + TEXT))
    assert_clean(doc)
    assert doc.title == "Datenschutz und Informationssicherheit"
    assert [(b.heading_path, b.text) for b in doc.blocks] == [
        (
            ("Datenschutz und Informationssicherheit",),
            "Die Stadt betreibt eine Datenplattform nach dem Grundsatz der Datensparsamkeit.\n\n"
            "Die Daten werden verschlüsselt gespeichert.",
        ),
        (
            ("Datenschutz und Informationssicherheit", "Rollen"),
            "Die Fachämter sind für ihre Daten zuständig.",
        ),
        (("Betrieb",), "Der IT-Dienstleister übernimmt den Betrieb."),
    ]
    assert doc.warnings == []


def test_text_cp1252_fallback_with_warning(tmp_path):
    doc = load_file(
        write(tmp_path, "alt.txt", "Größere Zuständigkeit für Maßnahmen – jetzt.".encode("cp1252"))
    )
    assert doc.text == "Größere Zuständigkeit für Maßnahmen – jetzt."
    assert len(doc.warnings) == 1 and "Windows-1252" in doc.warnings[0] and "alt.txt" in doc.warnings[0]


def test_text_utf16_with_bom(tmp_path):
    doc = load_file(write(tmp_path, "utf16.txt", "Übergabe an den Regelbetrieb.".encode("utf-16")))
    assert doc.text == "Übergabe an den Regelbetrieb."


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("binär.txt", b"Text\x00\x01\x02\x00mit NUL", "Binärdaten"),
        ("doku.md", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF-Datei"),
        ("seite.html", b"PK\x03\x04" + b"\x00" * 30, "ZIP-Archiv"),
        ("müll.txt", bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 20, "nicht als Text lesen"),
    ],
)
def test_binary_content_in_text_formats(tmp_path, name, content, expected):
    with pytest.raises(ParseError) as exc:
        load_file(write(tmp_path, name, content))
    assert name in str(exc.value) and expected in str(exc.value)


@pytest.mark.parametrize("name", ["leer.txt", "leer.md", "leer.html"])
def test_empty_text_files(tmp_path, name):
    with pytest.raises(NoTextLayerError) as exc:
        load_file(write(tmp_path, name, "  \n\n "))
    assert name in str(exc.value)


def test_messages_can_name_the_source_instead_of_a_parsed_copy(tmp_path, pdf_factory):
    copy = pdf_factory.make_report_pdf(tmp_path / "3f9a1c.pdf", encrypt_user_password="geheim")
    with pytest.raises(EncryptedDocumentError) as exc:
        load_file(copy, name="berichte/haushalt-2024.pdf")
    assert "„berichte/haushalt-2024.pdf“" in str(exc.value) and "3f9a1c" not in str(exc.value)
    with pytest.raises(EncryptedDocumentError) as exc:
        load_file(copy)  # the override does not leak into later calls
    assert "3f9a1c.pdf" in str(exc.value)
