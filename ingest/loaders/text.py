"""Plain-text loader, plus the byte-level helpers all loaders share (reading, sniffing, decoding)."""

from __future__ import annotations

import re
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import FileTooLargeError, IngestError, NoTextLayerError, ParseError
from assistant.types import LoadedDocument
from ingest.cleaning import Heading, Para, build_blocks, normalize_paragraph, paragraphs_from_text

if TYPE_CHECKING:
    from ingest.loaders import ParseLimits

_NAME_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

#: The name messages use instead of the file's own (set by load_file(..., name=...) for parsed copies).
shown_name: ContextVar[str | None] = ContextVar("lotse_shown_name", default=None)


def display_name(path: Path) -> str:
    """The file name as shown in messages: control and bidi characters removed, at most 80 characters."""
    name = _NAME_JUNK.sub("", shown_name.get() or path.name) or "(ohne Namen)"
    return name if len(name) <= 80 else name[:60] + "…" + name[-19:]


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} Byte"


def too_large(path: Path, size: int, limit: int) -> FileTooLargeError:
    name = display_name(path)
    return FileTooLargeError(
        f"„{name}“ ist mit {human_size(size)} zu groß (Grenze: {human_size(limit)}). "
        "Bitte die Datei aufteilen oder verkleinern oder die Größengrenze in der Konfiguration erhöhen.",
        f"'{name}' is too large ({size} bytes, limit {limit}). Split or shrink the file, or raise the size limit.",
    )


def read_limited(path: Path, limits: ParseLimits) -> bytes:
    """Read a whole file, refusing files that exceed the limit (checked again while reading: files can grow)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as e:
        name = display_name(path)
        raise IngestError(
            f"„{name}“ kann nicht gelesen werden ({e.strerror or e}). Bitte Dateirechte und Pfad prüfen.",
            f"'{name}' cannot be read ({e.strerror or e}). Check file permissions and path.",
        ) from e
    if len(data) > limits.max_file_bytes:
        raise too_large(path, len(data), limits.max_file_bytes)
    return data


_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "eine PDF-Datei", "a PDF file"),
    (
        b"PK\x03\x04",
        "ein ZIP-Archiv (oder ein Office-Dokument wie DOCX/XLSX/ODT)",
        "a ZIP archive (or DOCX/XLSX/ODT)",
    ),
    (b"PK\x05\x06", "ein (leeres) ZIP-Archiv", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "ein altes Office-Dokument (DOC/XLS/PPT)", "a legacy Office document"),
    (b"\x89PNG", "ein PNG-Bild", "a PNG image"),
    (b"\xff\xd8\xff", "ein JPEG-Bild", "a JPEG image"),
    (b"GIF8", "ein GIF-Bild", "a GIF image"),
    (b"II*\x00", "ein TIFF-Bild", "a TIFF image"),
    (b"MM\x00*", "ein TIFF-Bild", "a TIFF image"),
    (b"%!PS", "eine PostScript-Datei", "a PostScript file"),
    (b"{\\rtf", "ein RTF-Dokument", "an RTF document"),
    (b"\x1f\x8b", "ein gzip-Archiv", "a gzip archive"),
    (b"7z\xbc\xaf", "ein 7-Zip-Archiv", "a 7-Zip archive"),
    (b"Rar!", "ein RAR-Archiv", "a RAR archive"),
    (b"\x7fELF", "ein Programm (ELF)", "an executable (ELF)"),
    (b"MZ", "ein Windows-Programm", "a Windows executable"),
)


def sniff_kind(head: bytes) -> tuple[str, str]:
    """What the start of a file looks like, as (German, English) descriptions for error messages."""
    for sig, de, en in _SIGNATURES:
        if head.startswith(sig):
            return de, en
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in lowered[:512]:
        return "eine HTML-Seite", "an HTML page"
    if lowered.startswith(b"<?xml") or lowered.startswith(b"<svg"):
        return "eine XML-Datei", "an XML file"
    if lowered.startswith((b"{", b"[")):
        return "eine JSON-Datei", "a JSON file"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "eine Textdatei", "a text file"
        except UnicodeDecodeError:
            pass
    return "unbekannte Binärdaten", "unknown binary data"


_TEXT_JUNK = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes, path: Path, declared: str | None = None) -> tuple[str, list[str]]:
    """Decode a text file: UTF-8 (BOM allowed), UTF-16 with BOM, a declared charset, else Windows-1252.

    Raises ParseError for binary content (NUL bytes, known binary signatures) and undecodable bytes.
    """
    name = display_name(path)
    warnings: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), warnings
        except UnicodeDecodeError:
            pass
    binary_kind = next((k for sig, *k in _SIGNATURES if data.startswith(sig)), None)
    if binary_kind is not None or b"\x00" in data[:1_000_000]:
        de, en = binary_kind or sniff_kind(data[:1024])
        if de in ("eine Textdatei", "unbekannte Binärdaten"):
            de, en = "Binärdaten (NUL-Bytes)", "binary data (NUL bytes)"
        raise ParseError(
            f"„{name}“ ist keine Textdatei, sondern offenbar {de}. "
            "Bitte die Datei im richtigen Format bzw. mit der passenden Dateiendung einlesen.",
            f"'{name}' is not a text file but apparently {en}. Use the right format or file extension.",
        )
    text: str | None = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        for encoding in [e for e in (declared, "cp1252") if e]:
            try:
                text = data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
            if encoding == "cp1252" and (declared or "").lower().replace("-", "") not in (
                "cp1252",
                "windows1252",
            ):
                warnings.append(
                    f"„{name}“ ist nicht UTF-8-kodiert und wurde als Windows-1252 gelesen; bitte Umlaute prüfen "
                    "und die Datei künftig als UTF-8 speichern."
                )
            break
    if text is None or len(_TEXT_JUNK.findall(text)) > max(3, len(text) // 200):
        raise ParseError(
            f"„{name}“ lässt sich nicht als Text lesen (unbekannte Zeichenkodierung oder Binärdaten). "
            "Bitte die Datei als UTF-8-Text speichern.",
            f"'{name}' cannot be decoded as text (unknown encoding or binary data). Save it as UTF-8.",
        )
    return text, warnings


def no_text(path: Path) -> NoTextLayerError:
    name = display_name(path)
    return NoTextLayerError(
        f"„{name}“ enthält keinen Text und wurde nicht aufgenommen. Bitte Inhalt der Datei prüfen.",
        f"'{name}' contains no text and was not indexed. Check the file's content.",
    )


_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_=])(?:\s*\1){2,}\s*$")


def parse_plain(text: str) -> list[Heading | Para]:
    """Headings (setext underlines, "#" lines) and paragraphs of a plain-text document."""
    lines = text.split("\n")
    items: list[Heading | Para] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            items.extend(Para(p) for p in paragraphs_from_text("\n".join(buf)))
            buf.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        m = _ATX.match(line)
        underline = _UNDERLINE.match(nxt)
        if m and m.group(2).strip():
            flush()
            items.append(Heading(len(m.group(1)), m.group(2)))
        elif line.strip() and underline and len(underline.group(1)) >= 3 and len(line.strip()) <= 200:
            flush()
            items.append(Heading(1 if nxt.strip().startswith("=") else 2, line))
            i += 1
        elif _RULE.match(line):
            flush()
        else:
            buf.append(line)
        i += 1
    flush()
    return items


def load_text(path: Path, limits: ParseLimits) -> LoadedDocument:
    """Load a .txt file: decoded, paragraphs rebuilt, setext/"#" headings into heading paths."""
    from ingest.account import DocumentAccount
    from ingest.bounds import cut_text

    text, warnings = decode_text(read_limited(path, limits), path)
    account = DocumentAccount()
    items = parse_plain(cut_text(text, limits.max_chars, account, display_name(path)))
    blocks = build_blocks(items)
    if not blocks:
        raise no_text(path)
    title = next((normalize_paragraph(h.text) for h in items if isinstance(h, Heading)), None)
    return LoadedDocument(blocks=blocks, title=title or None, warnings=warnings, account=account)
