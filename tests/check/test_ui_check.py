"""The check tab's handler without a browser: escaping, German errors for hostile uploads, uploads deleted."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest

from assistant.errors import INTERNAL_TEXT
from assistant.web.ui_check import check_handler, render_report_html
from tests.check.conftest import PLANS

pytestmark = pytest.mark.slow

HOSTILE_PLAN = (PLANS / "plan-schwach.md").read_text(encoding="utf-8") + """

## Finanzierung <script>alert('x')</script>

Die jährlichen Folgekosten betragen 40.000 Euro <img src=x onerror=alert(1)> und werden [hier](javascript:alert(2)) erklärt.
Der Betrieb wird vom Bauamt <a href="javascript:alert(3)">verantwortet</a>, Stand 2026.
"""


@pytest.fixture
def upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where gradio stores uploads (GRADIO_TEMP_DIR), as in a real upload: <dir>/<hash>/<name>."""
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def uploaded(upload_dir: Path, name: str, data: bytes) -> str:
    target = upload_dir / "0123456789abcdef" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return str(target)


def hostile_docx() -> bytes:
    """HOSTILE_PLAN as a Word file: Word keeps text as typed, so the markup reaches the report as text (pasted
    Markdown loses it in the ingest parser, see tests/check/test_plan.py)."""
    import docx

    document = docx.Document()
    for block in HOSTILE_PLAN.split("\n\n"):
        if block.startswith("#"):
            document.add_heading(block.lstrip("# ").strip(), level=2)
        elif block.strip():
            document.add_paragraph(" ".join(block.split()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_report_html_escapes_plan_text(corpus_services, upload_dir: Path) -> None:  # type: ignore[no-untyped-def]
    body, files = check_handler(corpus_services, uploaded(upload_dir, "plan.docx", hostile_docx()), None, None)
    assert files and all(Path(f).exists() for f in files)
    assert "lotse-check-overview" in body
    tags = set(re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", body))
    assert tags <= {"div", "h2", "h3", "h4", "p", "table", "thead", "tbody", "tr", "th", "td", "span", "section",
                    "ul", "ol", "li", "strong", "em", "blockquote", "a"}
    assert "<script" not in body and "<img" not in body and "<a href=\"javascript" not in body
    assert html.escape("<img src=x onerror=alert(1)>") in body
    assert all(href.startswith("/documents/") for href in re.findall(r'href="([^"]*)"', body))
    assert re.search(r'data-factor="finanzierung" data-rating="(gelb|rot)"', body)


def test_good_upload_is_checked_and_then_deleted(corpus_services, upload_dir: Path, plan_files) -> None:  # type: ignore[no-untyped-def]
    path = uploaded(upload_dir, "plan-mittel.docx", plan_files["mittel.docx"].read_bytes())
    body, files = check_handler(corpus_services, path, "auch eingefügter Text", "Betreibermodell")
    assert 'data-factor="finanzierung" data-rating="gelb"' in body
    assert "geprüft wurde die Datei" in body and "<h4>Betreibermodell</h4>" in body
    assert [Path(f).suffix for f in files] == [".md", ".docx"]
    assert not Path(path).exists() and not Path(path).parent.exists()


@pytest.mark.parametrize(
    ("name", "data", "phrase"),
    [
        ("setup.exe", b"MZ" + b"\x00" * 64, "wird für den Verstetigungs-Check nicht unterstützt"),
        ("plan.docx", b"PK\x05\x06" + b"\x00" * 18, "kein gültiges Word-Dokument (.docx)"),
        ("plan.pdf", b"", "ist leer"),
        ("plan.md", b"x" * (5 * 1024 * 1024 + 1), "zu groß"),
    ],
)
def test_hostile_upload_shows_a_german_error_and_is_deleted(
    corpus_services, upload_dir: Path, name: str, data: bytes, phrase: str  # type: ignore[no-untyped-def]
) -> None:
    path = uploaded(upload_dir, name, data)
    body, files = check_handler(corpus_services, path, None, None)
    assert files is None
    assert body.startswith('<div class="lotse-error" role="alert">') and phrase in html.unescape(body)
    assert not Path(path).exists()


def test_encrypted_pdf_upload(corpus_services, upload_dir: Path, plan_files) -> None:  # type: ignore[no-untyped-def]
    path = uploaded(upload_dir, "geschuetzt.pdf", plan_files["verschluesselt.pdf"].read_bytes())
    body, files = check_handler(corpus_services, path, None, None)
    assert files is None and "passwortgeschützt" in html.unescape(body)


def test_nothing_given(corpus_services) -> None:  # type: ignore[no-untyped-def]
    body, files = check_handler(corpus_services, None, "  ", None)
    assert files is None and "Bitte einen Projektplan einfügen" in body


def test_files_outside_the_upload_folder_are_never_deleted(corpus_services, upload_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "eigene-datei.md"
    secret = "Geheimer Plan: Die Betriebskosten trägt das Tiefbauamt aus seinem Haushalt, sagt diese Datei hier."
    outside.write_text(secret, encoding="utf-8")
    body, files = check_handler(corpus_services, str(outside), None, None)
    # Refused without reading it and without saying whether it exists (the December probe).
    assert "über das Upload-Feld" in html.unescape(body) and files is None
    assert "Geheimer Plan" not in html.unescape(body) and str(tmp_path) not in body
    missing, _ = check_handler(corpus_services, str(tmp_path / "gibt-es-nicht.md"), None, None)
    assert missing == body
    assert outside.exists()


def test_render_is_pure_escaping(check_reports) -> None:  # type: ignore[no-untyped-def]
    body = render_report_html(check_reports["gut"])
    assert body.count('class="lotse-light') == 10  # overview and section heading per factor
    # Every "erfüllt" names the plan sentence(s) that fulfil it, and only "erfüllt" does.
    fulfilled = body.count('data-status="erfuellt"')
    assert fulfilled and body.count("belegt durch:") == fulfilled
    assert "Literaturverzeichnis" in body


def test_an_unexpected_failure_shows_the_shared_public_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the check reads as on every other channel (assistant.errors.public_error), not in words of its own."""
    import assistant.web.ui_check as ui_check

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(ui_check, "run_check", broken)
    for lang, text in (("de", INTERNAL_TEXT[0]), ("en", INTERNAL_TEXT[1])):
        plan = "Projektplan: Wir betreiben eine urbane Datenplattform. " * 3
        shown, files = check_handler(None, None, plan, None, lang)  # type: ignore[arg-type]  # run_check is broken
        assert html.escape(text, quote=False) in shown and files is None
        assert "secret internal detail" not in shown

