"""File loaders: one function per format, one entry point (`load_file`) that dispatches by suffix.

Every loader returns a `LoadedDocument` whose blocks hold cleaned plain text in reading order (NFC, single
spaces inside paragraphs, paragraphs separated by a blank line, no markup) with page numbers (PDF) and heading
paths. Every failure is an `IngestError` subclass with a German message naming the file and saying what to do.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import IngestError, UnsupportedFormatError
from assistant.types import LoadedDocument

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".pdf", ".md", ".markdown", ".html", ".htm", ".txt"})


@dataclass(frozen=True)
class ParseLimits:
    """Limits applied to every file.

    Attributes:
        max_file_bytes: Larger files are refused before reading.
        max_pages: PDFs with more pages are refused.
        timeout_s: Wall time for parsing one PDF (in its child process).
        memory_mb: Address-space limit for the PDF child process.
        max_chars: Most characters of text indexed per document (see ingest.bounds).
        ocr: OCR pages without a text layer when Tesseract is installed (see ingest.ocr).
        ocr_budget_s: Seconds OCR may take per document (default: 60 % of timeout_s, inside it).
    """

    max_file_bytes: int = 100 * 1024 * 1024
    max_pages: int = 2000
    timeout_s: float = 120.0
    memory_mb: int = 1024
    max_chars: int = 3_000_000
    ocr: bool = True
    ocr_budget_s: float | None = None


def load_file(
    path: Path,
    limits: ParseLimits = ParseLimits(),  # noqa: B008 - frozen, immutable
    *,
    name: str | None = None,
) -> LoadedDocument:
    """Dispatch by suffix (case-insensitive); raise assistant.errors.IngestError subclasses with clear German
    messages (English in message_en) that name the file and tell the user what to do.

    Args:
        path: The file to load.
        limits: Size, page, time and memory limits.
        name: How messages refer to the file (default: its file name), e.g. the source path when `path` is a
            content-addressed copy.
    """
    from ingest.bounds import settle
    from ingest.loaders.text import display_name, shown_name

    token = shown_name.set(name)
    try:
        doc = _load(Path(path), limits)
        return settle(doc, limits.max_chars, display_name(Path(path)))
    finally:
        shown_name.reset(token)


def _load(path: Path, limits: ParseLimits) -> LoadedDocument:
    from ingest.loaders.text import display_name, too_large

    name = display_name(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "(ohne Endung)"
        raise UnsupportedFormatError(
            f"„{name}“: Der Dateityp „{shown}“ wird nicht unterstützt. Unterstützt werden PDF (.pdf), "
            "Markdown (.md, .markdown), HTML (.html, .htm) und Text (.txt). Bitte die Datei in eines dieser "
            "Formate umwandeln.",
            f"'{name}': file type '{suffix or '(none)'}' is not supported. Supported: PDF (.pdf), Markdown "
            "(.md, .markdown), HTML (.html, .htm) and text (.txt). Convert the file to one of these.",
        )
    try:
        st = path.stat()
    except FileNotFoundError as e:
        raise IngestError(
            f"„{name}“ wurde nicht gefunden. Bitte den Pfad prüfen.",
            f"'{name}' was not found. Check the path.",
        ) from e
    except OSError as e:
        raise IngestError(
            f"„{name}“ kann nicht gelesen werden ({e.strerror or e}). Bitte Dateirechte und Pfad prüfen.",
            f"'{name}' cannot be read ({e.strerror or e}). Check permissions and path.",
        ) from e
    if not stat.S_ISREG(st.st_mode):
        raise IngestError(
            f"„{name}“ ist keine normale Datei (sondern z. B. ein Ordner oder ein Gerät) und wird übersprungen.",
            f"'{name}' is not a regular file (e.g. a directory or device) and is skipped.",
        )
    if st.st_size > limits.max_file_bytes:
        raise too_large(path, st.st_size, limits.max_file_bytes)

    try:
        if suffix == ".pdf":
            from ingest.loaders.pdf import load_pdf

            return load_pdf(path, limits)
        if suffix in (".md", ".markdown"):
            from ingest.loaders.markdown import load_markdown

            return load_markdown(path, limits)
        if suffix in (".html", ".htm"):
            from ingest.loaders.html import load_html

            return load_html(path, limits)
        from ingest.loaders.text import load_text

        return load_text(path, limits)
    except OSError as e:
        raise IngestError(
            f"„{name}“ kann nicht gelesen werden ({e.strerror or e}). Bitte Dateirechte und Pfad prüfen.",
            f"'{name}' cannot be read ({e.strerror or e}). Check permissions and path.",
        ) from e
