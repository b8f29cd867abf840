"""An editor's upload, checked before anything is written: its type from its bytes, a harmless file name, and
the metadata fields an editor may set.

The type is taken from the content; the name only has a say between text formats (Markdown or plain text), so
a renamed executable or archive is refused whatever it is called.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.errors import InputError, NoTextLayerError, UnsupportedFormatError

META_FIELDS = ("title", "publisher", "year", "doc_type", "topics")
#: Signatures of formats the Lotse does not read; a file starting so is refused whatever its name says.
_FOREIGN = (
    (b"PK\x03\x04", "ZIP/Office"), (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"),
    (b"\x7fELF", "ELF"), (b"MZ", "EXE"), (b"\x1f\x8b", "GZIP"), (b"7z\xbc\xaf", "7-Zip"), (b"Rar!", "RAR"),
    (b"\xd0\xcf\x11\xe0", "Office 97-2003"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BZh", "BZIP2"),
)
_SAFE_NAME = re.compile(r"[^\w.-]+")


def sniff_suffix(data: bytes, filename: str) -> str:
    """The suffix the content calls for (``.pdf``, ``.html``, ``.md``, ``.txt``); refuses what is none of them."""
    name = Path(filename).name or "upload"
    head = data[:4096]
    if not data.strip():
        raise NoTextLayerError(f"„{name}“ ist leer.", f"'{name}' is empty.")
    if b"%PDF-" in data[:1024]:
        return ".pdf"
    claimed = Path(name).suffix.lower()
    for magic, kind in _FOREIGN:
        if head.startswith(magic):
            raise UnsupportedFormatError(
                f"„{name}“ ist eine {kind}-Datei, keine PDF-, HTML-, Markdown- oder Textdatei. Bitte als PDF "
                "oder Text hochladen.",
                f"'{name}' is a {kind} file, not PDF, HTML, Markdown or text. Upload it as PDF or text.",
            )
    if claimed == ".pdf" or b"\x00" in head:
        raise UnsupportedFormatError(
            f"„{name}“ ist keine PDF-Datei und kein Text (der Inhalt passt nicht zum Namen). Bitte die "
            "Originaldatei hochladen.",
            f"'{name}' is neither a PDF file nor text (the content does not match the name). Upload the "
            "original file.",
        )
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html")) or "<body" in text[:2048]:
        return ".html"
    if claimed in (".md", ".markdown") or text.startswith("---\n") or re.search(r"(?m)^#{1,6} \S", text):
        return ".md"
    return ".txt"


def safe_stem(filename: str) -> str:
    """A file name stem that is harmless in a path and a URL ('../../Leitfaden 2026.pdf' -> 'Leitfaden_2026')."""
    stem = Path(filename.replace("\\", "/")).stem
    stem = _SAFE_NAME.sub("_", stem).strip("._-")[:80]
    return stem or "dokument"


def clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The metadata fields an editor may set, with empty ones left out; topics as a list."""
    out: dict[str, Any] = {}
    for key in META_FIELDS:
        value = meta.get(key)
        if value is None or value == "" or value == []:
            continue
        if key == "topics":
            items = value if isinstance(value, list) else str(value).split(",")
            value = [str(t).strip()[:60] for t in items if str(t).strip()][:20]
        elif key == "year":
            try:
                value = int(value)
            except (TypeError, ValueError) as e:
                raise InputError(f"Jahr „{str(value)[:20]}“ ist keine Zahl.", f"Year '{str(value)[:20]}' is not a number.") from e
            if not 1900 <= value <= 2100:
                raise InputError("Das Jahr muss zwischen 1900 und 2100 liegen.", "The year must be between 1900 and 2100.")
        else:
            value = " ".join(str(value).split())[:300]
        out[key] = value
    return out
