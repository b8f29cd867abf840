"""PDF loader, the parent side: pypdf runs page by page in an isolated child process (`pdf_extract`).

The child (`ingest.loaders.pdf_extract.extract_pdf`) returns per page the text lines with font size, weight and
position, as plain tuples. This side checks the file's signature before spawning anything, maps every failure
to a German IngestError (two tables: the isolation's exceptions and the child's error kinds), and cleans the
lines into blocks (ingest.cleaning).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import (
    EncryptedDocumentError,
    FileTooLargeError,
    IngestError,
    NoTextLayerError,
    ParseError,
    ParseMemoryError,
    ParseTimeoutError,
)
from assistant.types import LoadedDocument
from ingest import isolation
from ingest.account import UNREADABLE_WARN_SHARE, DocumentAccount, count_words
from ingest.cleaning import Line, pdf_pages_to_blocks, plausible_title, sanitize_plain
from ingest.loaders.pdf_extract import MIN_PAGE_CHARS, extract_pdf
from ingest.loaders.text import display_name, sniff_kind
from ingest.ocr import INSTALL_HINT_DE

if TYPE_CHECKING:
    from ingest.loaders import ParseLimits

__all__ = ["MIN_PAGE_CHARS", "extract_pdf", "load_pdf"]

log = logging.getLogger(__name__)


def load_pdf(path: Path, limits: ParseLimits) -> LoadedDocument:
    """Load a PDF in an isolated child process and clean its text into blocks."""
    from ingest.ocr import tesseract_languages

    name = display_name(path)
    complete = _check_signature(path)
    ocr_lang = tesseract_languages() if limits.ocr else ""
    result = _extract(path, name, limits, ocr_lang)
    error = result.get("error")
    if error:
        raise _CHILD_ERRORS.get(error, _damaged)(name, result, limits, complete)

    failed = result.get("failed_pages") or []
    if len(failed) == result["page_count"]:
        raise ParseError(
            f"Keine Seite von „{name}“ konnte gelesen werden ({result.get('page_error') or 'Seiteninhalt beschädigt'}"
            "). Bitte die Datei erneut herunterladen oder neu als PDF exportieren.",
            f"No page of '{name}' could be read (damaged page content). Download or export the file again.",
        )
    pages = [[Line(*t) for t in page["lines"]] for page in result["pages"]]
    page_chars = [sum(len("".join(ln.text.split())) for ln in page) for page in pages]
    if max(page_chars, default=0) < MIN_PAGE_CHARS:
        raise _no_text_layer(name, result)

    account = DocumentAccount()
    for page, lines in zip(result["pages"], pages, strict=True):
        removed_here = page.get("removed") or {}
        account.words_extracted += sum(count_words(ln.text) for ln in lines) + sum(removed_here.values())
        account.merge_removed(removed_here)
    cleaned = pdf_pages_to_blocks(
        pages, [page["height"] for page in result["pages"]], [page.get("width") for page in result["pages"]]
    )
    account.merge_removed(cleaned.stats.removed_words)
    if not cleaned.blocks:
        raise NoTextLayerError(
            f"„{name}“ enthält außer Kopf- und Fußzeilen keinen Text. Bitte den Inhalt der PDF prüfen.",
            f"'{name}' contains no text besides headers and footers. Check the PDF's content.",
        )
    warnings_ = _account_pages(account, name, result, page_chars, complete, ocr_lang, limits)

    if result.get("pypdf_warnings"):
        log.debug("pypdf warnings for %s: %s", name, result["pypdf_warnings"])
    log.debug("cleaned %s: %s", name, cleaned.stats)
    return LoadedDocument(
        blocks=cleaned.blocks,
        title=plausible_title((result.get("metadata") or {}).get("title")) or cleaned.title,
        metadata=_document_metadata(result.get("metadata") or {}),
        page_count=result["page_count"],
        warnings=warnings_,
        account=account,
    )


def _extract(path: Path, name: str, limits: ParseLimits, ocr_lang: str) -> dict[str, Any]:
    """Run `extract_pdf` in the child; a child that times out, runs out of memory or crashes raises an IngestError."""
    try:
        return isolation.run_isolated(
            extract_pdf,
            str(path),
            limits.max_pages,
            ocr_lang,
            # OCR may use most of the time; the rest of the document still gets parsed
            0.6 * limits.timeout_s
            if limits.ocr_budget_s is None
            else min(limits.ocr_budget_s, limits.timeout_s),
            timeout_s=limits.timeout_s,
            memory_mb=limits.memory_mb,
        )
    except isolation.IsolationError as e:
        make = next(make for kind, make in _ISOLATION_ERRORS if isinstance(e, kind))
        raise make(name, e, limits) from e


def _timeout(name: str, e: isolation.IsolationError, limits: ParseLimits) -> IngestError:
    return ParseTimeoutError(
        f"Das Lesen von „{name}“ dauerte länger als {limits.timeout_s:g} Sekunden und wurde abgebrochen. "
        "Die Datei ist vermutlich beschädigt oder ungewöhnlich komplex. Bitte die PDF neu exportieren "
        "oder das Zeitlimit in der Konfiguration erhöhen.",
        f"Reading '{name}' took longer than {limits.timeout_s:g} s and was stopped. The file is probably "
        "damaged or unusually complex. Re-export the PDF or raise the time limit.",
    )


def _out_of_memory(name: str, e: isolation.IsolationError, limits: ParseLimits) -> IngestError:
    return ParseMemoryError(
        f"Das Lesen von „{name}“ brauchte mehr als {limits.memory_mb} MB Arbeitsspeicher und wurde "
        "abgebrochen. Die Datei ist vermutlich beschädigt (z. B. eine „Dekompressionsbombe“) oder sehr "
        "groß. Bitte die PDF prüfen, verkleinern oder das Speicherlimit erhöhen.",
        f"Reading '{name}' needed more than {limits.memory_mb} MB of memory and was stopped. The file is "
        "probably damaged (e.g. a decompression bomb) or very large. Check or shrink it, or raise the limit.",
    )


def _crashed(name: str, e: isolation.IsolationError, limits: ParseLimits) -> IngestError:
    return ParseError(
        f"Der PDF-Leser ist beim Lesen von „{name}“ abgestürzt ({e}). Die Datei ist vermutlich beschädigt. "
        "Bitte die PDF neu exportieren und erneut einlesen.",
        f"The PDF reader crashed on '{name}' ({e}). The file is probably damaged. Re-export and retry.",
    )


#: How the child failed -> the error the user sees; first match wins (both are IsolationErrors).
_ISOLATION_ERRORS: tuple[
    tuple[
        type[isolation.IsolationError], Callable[[str, isolation.IsolationError, ParseLimits], IngestError]
    ],
    ...,
] = (
    (isolation.ChildTimeout, _timeout),
    (isolation.ChildMemoryError, _out_of_memory),
    (isolation.IsolationError, _crashed),
)


def _too_many_pages(name: str, result: dict[str, Any], limits: ParseLimits, complete: bool) -> IngestError:
    return FileTooLargeError(
        f"„{name}“ hat {result['pages']} Seiten, erlaubt sind höchstens {limits.max_pages}. "
        "Bitte das Dokument aufteilen oder die Seitengrenze in der Konfiguration erhöhen.",
        f"'{name}' has {result['pages']} pages; the limit is {limits.max_pages}. Split it or raise the limit.",
    )


def _encrypted(name: str, result: dict[str, Any], limits: ParseLimits, complete: bool) -> IngestError:
    return EncryptedDocumentError(
        f"„{name}“ ist passwortgeschützt und kann nicht gelesen werden. "
        "Bitte eine Fassung ohne Passwortschutz bereitstellen.",
        f"'{name}' is password-protected. Provide a version without password protection.",
    )


def _encrypted_dependency(
    name: str, result: dict[str, Any], limits: ParseLimits, complete: bool
) -> IngestError:
    return EncryptedDocumentError(
        f"„{name}“ ist AES-verschlüsselt; zum Öffnen fehlt das Python-Paket „cryptography“. "
        "Bitte das Paket installieren (pip install cryptography) oder eine unverschlüsselte Fassung bereitstellen.",
        f"'{name}' is AES-encrypted and the 'cryptography' package is missing. Install it or provide an "
        "unencrypted version.",
    )


def _damaged(name: str, result: dict[str, Any], limits: ParseLimits, complete: bool) -> IngestError:
    error = result["error"]
    hint = "" if complete else " Die Datei scheint abgeschnitten (unvollständig) zu sein."
    return ParseError(
        f"„{name}“ ist beschädigt und kann nicht als PDF gelesen werden ({result.get('detail', error)}).{hint} "
        "Bitte die Datei erneut herunterladen oder neu als PDF exportieren.",
        f"'{name}' is damaged and cannot be read as PDF ({result.get('detail', error)})."
        f"{' The file seems truncated.' if not complete else ''} Download or export it again.",
    )


#: The child's error kinds (extract_pdf's "error") -> the error the user sees; any other kind is `_damaged`.
_CHILD_ERRORS: dict[str, Callable[[str, dict[str, Any], ParseLimits, bool], IngestError]] = {
    "too_many_pages": _too_many_pages,
    "encrypted": _encrypted,
    "encrypted_dependency": _encrypted_dependency,
}


def _no_text_layer(name: str, result: dict[str, Any]) -> IngestError:
    """No page has text: fonts without a character map (control characters in the raw text), else a scan."""
    if any(page["raw_bad_lines"] for page in result["pages"]):
        return NoTextLayerError(
            f"Der Text von „{name}“ ist nicht auslesbar, weil den eingebetteten Schriften die "
            "Zeichenzuordnung fehlt. Bitte die PDF neu exportieren (Schriften mit Unicode-Zuordnung) "
            "oder mit Texterkennung (OCR, z. B. ocrmypdf) aufbereiten.",
            f"The text of '{name}' is unreadable: its fonts lack a character map. Re-export the PDF or run "
            "OCR (e.g. ocrmypdf) on it.",
        )
    return NoTextLayerError(
        f"„{name}“ enthält keinen auslesbaren Text (vermutlich ein Scan ohne Texterkennung). "
        "Bitte die PDF mit Texterkennung (OCR, z. B. ocrmypdf) aufbereiten und erneut einlesen.",
        f"'{name}' has no text layer (probably a scan without OCR). Run OCR (e.g. ocrmypdf) and retry.",
    )


def _account_pages(
    account: DocumentAccount,
    name: str,
    result: dict[str, Any],
    page_chars: list[int],
    complete: bool,
    ocr_lang: str,
    limits: ParseLimits,
) -> list[str]:
    """Record pages without text and OCR'd pages in the account; return the warnings (also kept there)."""
    failed = result.get("failed_pages") or []
    warnings_: list[str] = []
    if failed:
        warnings_.append(
            f"Seite(n) {_pages_list(failed)} von „{name}“ konnten nicht gelesen werden und fehlen."
        )
    empty = [i + 1 for i, chars in enumerate(page_chars) if chars < MIN_PAGE_CHARS and i + 1 not in failed]
    ocr_pages = [i + 1 for i, page in enumerate(result["pages"]) if page.get("ocr") == "ok"]
    if empty:
        timed_out = [n for n in empty if result["pages"][n - 1].get("ocr") == "timeout"]
        hint = "" if ocr_lang or not limits.ocr else " " + INSTALL_HINT_DE
        warnings_.append(
            f"Seite(n) {_pages_list(empty)} von „{name}“ enthalten keinen auslesbaren Text "
            f"(Bild, Scan oder leere Seite) und fehlen im Index.{hint}"
        )
        if timed_out:
            warnings_.append(
                f"Die Texterkennung (OCR) für Seite(n) {_pages_list(timed_out)} von „{name}“ brauchte zu lange "
                "und wurde abgebrochen; der Rest des Dokuments ist indexiert."
            )
    if ocr_pages:
        warnings_.append(
            f"Seite(n) {_pages_list(ocr_pages)} von „{name}“ wurden per Texterkennung (OCR) gelesen; "
            "Zitate von diesen Seiten können Lesefehler enthalten."
        )
    if not complete:
        warnings_.append(
            f"„{name}“ scheint unvollständig zu sein (Dateiende fehlt); möglicherweise fehlen Inhalte."
        )
    account.pages_without_text = empty
    account.ocr_pages = ocr_pages
    unreadable = account.removed["garbage"] + account.removed["invisible"]
    if account.words_extracted and unreadable > UNREADABLE_WARN_SHARE * account.words_extracted:
        warnings_.append(
            f"„{name}“: {unreadable} von {account.words_extracted} Wörtern sind nicht lesbar (Schriften ohne "
            "Zeichenzuordnung oder unsichtbarer Text) und fehlen im Index. Bitte die PDF neu exportieren oder "
            "mit Texterkennung (OCR) aufbereiten."
        )
    account.warnings = list(warnings_)
    return warnings_


def _document_metadata(meta_raw: dict[str, str]) -> dict[str, Any]:
    """Author, subject and keywords (cleaned) and the creation date (ISO) from the PDF's info dictionary."""
    metadata: dict[str, Any] = {}
    for key in ("author", "subject", "keywords"):
        value = sanitize_plain(meta_raw.get(key, ""))
        if value:
            metadata[key] = value
    created = _pdf_date(meta_raw.get("creationdate"))
    if created:
        metadata["created"] = created
    return metadata


def _pages_list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" und {len(numbers) - 10} weitere" if len(numbers) > 10 else "")


def _check_signature(path: Path) -> bool:
    """Raise ParseError unless the file starts like a PDF; return whether its end marker is present."""
    name = display_name(path)
    with path.open("rb") as fh:
        head = fh.read(1024)
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 2048))
        tail = fh.read()
    if size == 0:
        raise ParseError(
            f"„{name}“ ist leer (0 Byte) und damit keine gültige PDF-Datei. "
            "Bitte die Datei erneut herunterladen bzw. exportieren.",
            f"'{name}' is empty (0 bytes), not a valid PDF. Download or export it again.",
        )
    if b"%PDF-" not in head:
        de, en = sniff_kind(head)
        raise ParseError(
            f"„{name}“ ist keine PDF-Datei, sondern offenbar {de}. "
            "Bitte die Datei im Originalformat einlesen oder als PDF exportieren.",
            f"'{name}' is not a PDF but apparently {en}. Ingest it in its real format or export it as PDF.",
        )
    return b"%%EOF" in tail


def _pdf_date(value: Any) -> str | None:
    m = re.match(r"^D?:?(\d{4})(\d{2})?(\d{2})?", str(value or ""))
    if not m:
        return None
    year, month, day = m.group(1), m.group(2) or "01", m.group(3) or "01"
    return f"{year}-{month}-{day}" if 1900 < int(year) < 2200 else None
