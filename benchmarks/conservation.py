"""Conservation of the real PDFs: how many of the words pypdf extracts reach a chunk (no embedding).

For every PDF below ``../shared/realdocs`` the document is loaded (isolated parser, cleaning) and chunked exactly
as ``lotse ingest`` does, but nothing is embedded. The reference is ``pypdf``'s plain ``extract_text()`` per page;
its content words are the distinct words of three or more letters (lower-cased, Unicode-normalised; a word
hyphenated across a line break joined as the cleaning joins it). Left out of the reference, by independent rules
so the figure does not depend on what the cleaning itself reports: lines that are running headers/footers (text
with digits replaced recurs on at least half the pages) or only a page number, and lines holding control
characters (glyph codes of a font without a character map: not readable text).

A word counts as indexed when it occurs among the words of what search sees of the document's chunks (title,
section path, text), or, for words of five letters or more, inside an indexed word.

``python -m benchmarks conservation`` prints one row per document and writes the JSON to benchmarks/results/.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import REALDOCS, RESULTS, progress

_WORD = re.compile(r"[^\W\d_]{3,}")
_GARBAGE = re.compile(r"[\x00-\x08\x0b-\x1f]")
_HYPHEN_BREAK = re.compile(r"([^\W\d_])-[ \t]*\n[ \t]*([a-zäöüß]+)")
_ENUM = frozenset({"und", "oder", "bzw", "sowie", "bis", "als", "wie"})


def _join_hyphenated(m: re.Match[str]) -> str:
    # "Leistungs-" + "und Lieferaufträge" stays an enumeration, as the cleaning keeps it
    return m.group(0) if m.group(2) in _ENUM else m.group(1) + m.group(2)


_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]?\s*\d{1,4}\s*[-–—]?|(?:seite|page|s\.|p\.)\s*\d{1,4}(?:\s*(?:von|of|/|aus)\s*\d{1,4})?"
    r"|\d{1,4}\s*(?:/|von|of|\|)\s*\d{1,4}|[ivx]{1,6})$",
    re.I,
)


def _norm(text: str) -> str:
    from ingest.cleaning import normalize_unicode

    return normalize_unicode(text).lower()


def reference_words(path: Path) -> tuple[list[set[str]], int]:
    """Distinct content words per page of pypdf's plain extraction, running lines and page numbers left out;
    and the number of pages."""
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    reader = pypdf.PdfReader(str(path), strict=False)
    pages = []
    for page in reader.pages:
        try:
            raw = page.extract_text() or ""
        except Exception:  # noqa: BLE001 - a broken page has no reference words
            raw = ""
        raw = "\n".join(ln for ln in raw.split("\n") if not _GARBAGE.search(ln))
        raw = _HYPHEN_BREAK.sub(_join_hyphenated, raw)
        pages.append([" ".join(_norm(ln).split()) for ln in raw.split("\n")])
    keys: Counter[str] = Counter()
    for lines in pages:
        keys.update({re.sub(r"\d+", "#", ln) for ln in lines if ln})
    threshold = max(2, math.ceil(0.5 * len(pages)))
    running = {k for k, c in keys.items() if c >= threshold} if len(pages) >= 2 else set()
    out = []
    for lines in pages:
        words: set[str] = set()
        for ln in lines:
            if not ln or _PAGE_NUMBER.match(ln) or re.sub(r"\d+", "#", ln) in running:
                continue
            words.update(_WORD.findall(ln))
        out.append(words)
    return out, len(pages)


def indexed_text(path: Path) -> tuple[str, Any]:
    """The text of the document's chunks as the index would hold them (text and section), and the loaded doc."""
    from ingest.chunking import chunk_document, doc_id_for
    from ingest.loaders import load_file

    doc = load_file(path)
    chunks = chunk_document(
        doc,
        doc_id=doc_id_for(str(path)),
        version="bench",
        source=str(path),
        title=doc.title or "",
        metadata={},
    )
    return _norm("\n".join(c.contextual_text for c in chunks)), doc


def measure(path: Path) -> dict[str, Any]:
    ref_pages, page_count = reference_words(path)
    text, doc = indexed_text(path)
    indexed = set(_WORD.findall(text))
    ref = set().union(*ref_pages) if ref_pages else set()

    def found(word: str) -> bool:
        return word in indexed or (len(word) >= 5 and word in text)

    missing = sorted(w for w in ref if not found(w))
    pages_below = [
        i + 1
        for i, words in enumerate(ref_pages)
        if words and sum(found(w) for w in words) / len(words) < 0.99
    ]
    account = getattr(doc, "account", None)
    return {
        "document": str(path.relative_to(REALDOCS)),
        "pages": page_count,
        "reference_words": len(ref),
        "indexed_words": len(ref) - len(missing),
        "conservation": round((len(ref) - len(missing)) / len(ref), 4) if ref else 1.0,
        "pages_below_99": pages_below,
        "missing_sample": missing[:25],
        "account": account.to_dict() if account is not None and hasattr(account, "to_dict") else None,
    }


def main(root: Path = REALDOCS) -> list[dict[str, Any]]:
    pdfs = sorted(root.rglob("*.pdf"))
    if not pdfs:
        raise SystemExit(f"no PDFs below {root}")
    rows = []
    for path in pdfs:
        progress(f"conservation: {path.relative_to(root)}")
        rows.append(measure(path))
    print("| document | pages | reference words | indexed | conservation | pages < 99 % |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        below = ", ".join(map(str, r["pages_below_99"][:12])) + (
            " …" if len(r["pages_below_99"]) > 12 else ""
        )
        print(
            f"| {r['document']} | {r['pages']} | {r['reference_words']} | {r['indexed_words']} | "
            f"{100 * r['conservation']:.1f} % | {below} |"
        )
    total_ref = sum(r["reference_words"] for r in rows)
    total_idx = sum(r["indexed_words"] for r in rows)
    print(
        f"\nAll PDFs: {total_idx} of {total_ref} distinct content words indexed ({100 * total_idx / total_ref:.1f} %)."
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "conservation.json").write_text(
        json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return rows
