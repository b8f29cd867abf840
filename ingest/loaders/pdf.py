"""PDF loader: pypdf, page by page, in an isolated child process (see ingest.isolation).

The child (`extract_pdf`) opens the file, decrypts it with the empty password if needed, and returns per page
the text lines with font size, weight and position, as plain tuples. The parent checks the file's signature
before spawning anything, maps every failure to a German IngestError, and cleans the lines into blocks
(ingest.cleaning).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import (
    EncryptedDocumentError,
    FileTooLargeError,
    NoTextLayerError,
    ParseError,
    ParseMemoryError,
    ParseTimeoutError,
)
from assistant.types import LoadedDocument
from ingest import isolation
from ingest.account import UNREADABLE_WARN_SHARE, DocumentAccount, count_words
from ingest.cleaning import Line, lines_from_fragments, pdf_pages_to_blocks, plausible_title, sanitize_plain
from ingest.loaders.text import display_name, sniff_kind
from ingest.ocr import INSTALL_HINT_DE

if TYPE_CHECKING:
    from ingest.loaders import ParseLimits

log = logging.getLogger(__name__)

#: Pages with fewer visible characters count as having no text layer.
MIN_PAGE_CHARS = 20

_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.I)


# --------------------------------------------------------------------------------------------------------------
# Child side
# --------------------------------------------------------------------------------------------------------------


def _font_info(font_dict: Any) -> tuple[str, bool]:
    """(font key, bold) for a pypdf font dictionary."""
    if not font_dict:
        return "", False
    try:
        name = str(font_dict.get("/BaseFont", ""))
        bold = bool(_BOLD_NAME.search(name))
        desc = font_dict.get("/FontDescriptor")
        if desc is None and "/DescendantFonts" in font_dict:
            desc = font_dict["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        if not bold and desc is not None:
            desc = desc.get_object()
            weight = desc.get("/FontWeight")
            bold = (weight is not None and float(weight) >= 600) or bool(
                int(desc.get("/Flags", 0)) & (1 << 18)
            )
        return name, bold
    except Exception:  # noqa: BLE001 - damaged font dictionaries only cost us the bold flag
        return "", False


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def _page_fragments(page: Any) -> tuple[list[Any], str]:
    fragments: list[Any] = []
    raw: list[str] = []
    fonts: dict[int, tuple[str, bool]] = {}

    def visitor(text: str, cm: Any, tm: Any, font_dict: Any, font_size: Any) -> None:
        raw.append(text)
        if not text:
            return
        x: float | None
        y: float | None
        try:
            m = _mult([float(v) for v in tm], [float(v) for v in cm])
            x, y = round(m[4], 1), round(m[5], 1)
            size = round(float(font_size or 0) * math.hypot(m[2], m[3]), 1)
        except Exception:  # noqa: BLE001 - odd matrices: keep the text, lose the geometry
            x = y = None
            size = 0.0
        key = id(font_dict)
        if key not in fonts:
            fonts[key] = _font_info(font_dict)
        font, bold = fonts[key]
        fragments.append((text, x, y, size, bold, font))

    page.extract_text(visitor_text=visitor)
    return fragments, "".join(raw)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 20:
            with contextlib.suppress(Exception):
                self.messages.append(record.getMessage()[:200])


def _pdf_date(value: Any) -> str | None:
    m = re.match(r"^D?:?(\d{4})(\d{2})?(\d{2})?", str(value or ""))
    if not m:
        return None
    year, month, day = m.group(1), m.group(2) or "01", m.group(3) or "01"
    return f"{year}-{month}-{day}" if 1900 < int(year) < 2200 else None


def extract_pdf(path: str, max_pages: int, ocr_lang: str = "", ocr_budget_s: float = 0.0) -> dict[str, Any]:
    """Runs in the child: read a PDF and return plain data (or {"error": kind, ...}).

    With `ocr_lang` (Tesseract languages, e.g. "deu+eng"), pages without a text layer are OCR'd until
    `ocr_budget_s` seconds are used up; later ones stay flagged (``ocr: "timeout"``).
    """
    import time

    ocr_deadline = time.monotonic() + ocr_budget_s
    import pypdf
    from pypdf.errors import DependencyError

    collect = _Collect()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.handlers = [collect]
    pypdf_log.propagate = False
    warnings.simplefilter("ignore")

    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return {"error": "encrypted"}
            except DependencyError as e:
                return {"error": "encrypted_dependency", "detail": str(e)[:300]}
            except Exception as e:  # noqa: BLE001
                return {"error": "encrypted", "detail": str(e)[:300]}
        page_count = len(reader.pages)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to open is "damaged"
        return {"error": "unreadable", "detail": f"{type(e).__name__}: {e}"[:300]}
    if page_count > max_pages:
        return {"error": "too_many_pages", "pages": page_count}
    if page_count == 0:
        return {"error": "unreadable", "detail": "no pages"}

    metadata: dict[str, str] = {}
    try:
        info: Any = reader.metadata or {}
        for key in ("/Title", "/Author", "/Subject", "/Keywords", "/CreationDate"):
            value = info.get(key)
            if value is not None:
                metadata[key[1:].lower()] = str(value)[:2000]
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - broken info dictionaries are common and harmless
        pass

    pages: list[dict[str, Any]] = []
    failed: list[int] = []
    page_error = ""
    for number in range(page_count):
        try:
            page = reader.pages[number]
            fragments, raw = _page_fragments(page)
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - one broken page must not cost the document
            failed.append(number + 1)
            page_error = page_error or f"{type(e).__name__}: {e}"[:200]
            pages.append({"lines": [], "height": None, "raw_lines": 0, "raw_bad_lines": 0, "removed": {}})
            continue
        height: float | None
        width: float | None
        try:
            height, width = float(page.mediabox.height), float(page.mediabox.width)
            if int(page.get("/Rotate", 0) or 0) % 180:
                height, width = width, height
        except Exception:  # noqa: BLE001
            height = width = None
        removed: Counter[str] = Counter()
        lines = lines_from_fragments(fragments, removed)
        raw_lines = [ln for ln in raw.split("\n") if ln.strip()]
        ocr = None
        if ocr_lang and sum(len("".join(ln.text.split())) for ln in lines) < MIN_PAGE_CHARS:
            from ingest.ocr import ocr_page

            text, ocr = ocr_page(page, ocr_lang, ocr_deadline)
            if text and len("".join(text.split())) >= MIN_PAGE_CHARS:
                lines = [Line(ln) for ln in text.split("\n") if ln.strip()]
            elif ocr == "ok":
                ocr = "empty"
        pages.append(
            {
                "ocr": ocr,
                "lines": [(ln.text, ln.size, ln.bold, ln.x, ln.y, ln.gap_before) for ln in lines],
                "height": height,
                "width": width,
                "raw_lines": len(raw_lines),
                "raw_bad_lines": sum(1 for ln in raw_lines if re.search(r"[\x00-\x08\x0b-\x1f]", ln)),
                "removed": dict(removed),
            }
        )
    return {
        "page_count": page_count,
        "pages": pages,
        "metadata": metadata,
        "failed_pages": failed,
        "page_error": page_error,
        "pypdf_warnings": collect.messages,
    }


# --------------------------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------------------------


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


def load_pdf(path: Path, limits: ParseLimits) -> LoadedDocument:
    """Load a PDF in an isolated child process and clean its text into blocks."""
    from ingest.ocr import tesseract_languages

    name = display_name(path)
    complete = _check_signature(path)
    ocr_lang = tesseract_languages() if limits.ocr else ""
    try:
        result = isolation.run_isolated(
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
    except isolation.ChildTimeout as e:
        raise ParseTimeoutError(
            f"Das Lesen von „{name}“ dauerte länger als {limits.timeout_s:g} Sekunden und wurde abgebrochen. "
            "Die Datei ist vermutlich beschädigt oder ungewöhnlich komplex. Bitte die PDF neu exportieren "
            "oder das Zeitlimit in der Konfiguration erhöhen.",
            f"Reading '{name}' took longer than {limits.timeout_s:g} s and was stopped. The file is probably "
            "damaged or unusually complex. Re-export the PDF or raise the time limit.",
        ) from e
    except isolation.ChildMemoryError as e:
        raise ParseMemoryError(
            f"Das Lesen von „{name}“ brauchte mehr als {limits.memory_mb} MB Arbeitsspeicher und wurde "
            "abgebrochen. Die Datei ist vermutlich beschädigt (z. B. eine „Dekompressionsbombe“) oder sehr "
            "groß. Bitte die PDF prüfen, verkleinern oder das Speicherlimit erhöhen.",
            f"Reading '{name}' needed more than {limits.memory_mb} MB of memory and was stopped. The file is "
            "probably damaged (e.g. a decompression bomb) or very large. Check or shrink it, or raise the limit.",
        ) from e
    except isolation.IsolationError as e:
        raise ParseError(
            f"Der PDF-Leser ist beim Lesen von „{name}“ abgestürzt ({e}). Die Datei ist vermutlich beschädigt. "
            "Bitte die PDF neu exportieren und erneut einlesen.",
            f"The PDF reader crashed on '{name}' ({e}). The file is probably damaged. Re-export and retry.",
        ) from e

    error = result.get("error")
    if error == "too_many_pages":
        raise FileTooLargeError(
            f"„{name}“ hat {result['pages']} Seiten, erlaubt sind höchstens {limits.max_pages}. "
            "Bitte das Dokument aufteilen oder die Seitengrenze in der Konfiguration erhöhen.",
            f"'{name}' has {result['pages']} pages; the limit is {limits.max_pages}. Split it or raise the limit.",
        )
    if error == "encrypted":
        raise EncryptedDocumentError(
            f"„{name}“ ist passwortgeschützt und kann nicht gelesen werden. "
            "Bitte eine Fassung ohne Passwortschutz bereitstellen.",
            f"'{name}' is password-protected. Provide a version without password protection.",
        )
    if error == "encrypted_dependency":
        raise EncryptedDocumentError(
            f"„{name}“ ist AES-verschlüsselt; zum Öffnen fehlt das Python-Paket „cryptography“. "
            "Bitte das Paket installieren (pip install cryptography) oder eine unverschlüsselte Fassung bereitstellen.",
            f"'{name}' is AES-encrypted and the 'cryptography' package is missing. Install it or provide an "
            "unencrypted version.",
        )
    if error:
        hint = "" if complete else " Die Datei scheint abgeschnitten (unvollständig) zu sein."
        raise ParseError(
            f"„{name}“ ist beschädigt und kann nicht als PDF gelesen werden ({result.get('detail', error)}).{hint} "
            "Bitte die Datei erneut herunterladen oder neu als PDF exportieren.",
            f"'{name}' is damaged and cannot be read as PDF ({result.get('detail', error)})."
            f"{' The file seems truncated.' if not complete else ''} Download or export it again.",
        )

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
        if any(page["raw_bad_lines"] for page in result["pages"]):
            raise NoTextLayerError(
                f"Der Text von „{name}“ ist nicht auslesbar, weil den eingebetteten Schriften die "
                "Zeichenzuordnung fehlt. Bitte die PDF neu exportieren (Schriften mit Unicode-Zuordnung) "
                "oder mit Texterkennung (OCR, z. B. ocrmypdf) aufbereiten.",
                f"The text of '{name}' is unreadable: its fonts lack a character map. Re-export the PDF or run "
                "OCR (e.g. ocrmypdf) on it.",
            )
        raise NoTextLayerError(
            f"„{name}“ enthält keinen auslesbaren Text (vermutlich ein Scan ohne Texterkennung). "
            "Bitte die PDF mit Texterkennung (OCR, z. B. ocrmypdf) aufbereiten und erneut einlesen.",
            f"'{name}' has no text layer (probably a scan without OCR). Run OCR (e.g. ocrmypdf) and retry.",
        )

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

    meta_raw: dict[str, str] = result.get("metadata") or {}
    metadata: dict[str, Any] = {}
    for key in ("author", "subject", "keywords"):
        value = sanitize_plain(meta_raw.get(key, ""))
        if value:
            metadata[key] = value
    created = _pdf_date(meta_raw.get("creationdate"))
    if created:
        metadata["created"] = created
    title = plausible_title(meta_raw.get("title")) or cleaned.title

    if result.get("pypdf_warnings"):
        log.debug("pypdf warnings for %s: %s", name, result["pypdf_warnings"])
    log.debug("cleaned %s: %s", name, cleaned.stats)
    return LoadedDocument(
        blocks=cleaned.blocks,
        title=title,
        metadata=metadata,
        page_count=result["page_count"],
        warnings=warnings_,
        account=account,
    )
