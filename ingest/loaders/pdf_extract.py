"""PDF extraction, the child side of the PDF loader: runs in an isolated process (see ingest.isolation).

`extract_pdf` opens the file with pypdf, decrypts it with the empty password if needed, and returns per page the
text lines with font size, weight and position as plain tuples (only JSON crosses the process boundary), or
``{"error": kind, ...}``. The parent side, `ingest.loaders.pdf`, maps those kinds to German IngestErrors.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import warnings
from collections import Counter
from typing import Any

from ingest.cleaning import Line, lines_from_fragments

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


def extract_pdf(path: str, max_pages: int, ocr_lang: str = "", ocr_budget_s: float = 0.0) -> dict[str, Any]:
    """Runs in the child: read a PDF and return plain data (or {"error": kind, ...}).

    With `ocr_lang` (Tesseract languages, e.g. "deu+eng"), pages without a text layer are OCR'd until
    `ocr_budget_s` seconds are used up; later ones stay flagged (``ocr: "timeout"``).
    """
    import time

    ocr_deadline = time.monotonic() + ocr_budget_s
    collect = _Collect()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.handlers = [collect]
    pypdf_log.propagate = False
    warnings.simplefilter("ignore")

    reader, page_count, failure = _open(path)
    if failure is not None:
        return failure
    if page_count > max_pages:
        return {"error": "too_many_pages", "pages": page_count}
    if page_count == 0:
        return {"error": "unreadable", "detail": "no pages"}
    metadata = _metadata(reader)

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
        pages.append(_page_data(page, fragments, raw, ocr_lang, ocr_deadline))
    return {
        "page_count": page_count,
        "pages": pages,
        "metadata": metadata,
        "failed_pages": failed,
        "page_error": page_error,
        "pypdf_warnings": collect.messages,
    }


def _open(path: str) -> tuple[Any, int, dict[str, Any] | None]:
    """(reader, page count, None), or (None, 0, the error to report) when it cannot be opened or decrypted."""
    import pypdf
    from pypdf.errors import DependencyError

    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return None, 0, {"error": "encrypted"}
            except DependencyError as e:
                return None, 0, {"error": "encrypted_dependency", "detail": str(e)[:300]}
            except Exception as e:  # noqa: BLE001
                return None, 0, {"error": "encrypted", "detail": str(e)[:300]}
        page_count = len(reader.pages)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to open is "damaged"
        return None, 0, {"error": "unreadable", "detail": f"{type(e).__name__}: {e}"[:300]}
    return reader, page_count, None


def _metadata(reader: Any) -> dict[str, str]:
    """Title, author, subject, keywords and creation date from the info dictionary, as far as it is readable."""
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
    return metadata


def _page_data(
    page: Any, fragments: list[Any], raw: str, ocr_lang: str, ocr_deadline: float
) -> dict[str, Any]:
    """One page's lines (OCR'd when it has no text layer and OCR is on), size and what cleaning removed."""
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
    return {
        "ocr": ocr,
        "lines": [(ln.text, ln.size, ln.bold, ln.x, ln.y, ln.gap_before) for ln in lines],
        "height": height,
        "width": width,
        "raw_lines": len(raw_lines),
        "raw_bad_lines": sum(1 for ln in raw_lines if re.search(r"[\x00-\x08\x0b-\x1f]", ln)),
        "removed": dict(removed),
    }
